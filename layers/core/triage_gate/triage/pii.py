"""Mask personal data before any text leaves for a model. The ticket itself is never edited.

Only counts per kind are kept (for the decision record); the masked values are never stored or logged.
Known names from the ticket's context (the requester, the organisation) are masked as [NAME] too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

import msgspec

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# Digits grouped by spaces, dashes or dots (4111.1111.1111.1111); a decimal point right after is not a group.
CARD = re.compile(r"(?<![\d-])(?<!\d\.)(?:\d[ .-]?){12,18}\d(?![\d-])(?!\.\d)")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}\b")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().-]{7,18}\d(?!\w)")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 9, 15


class MaskedText(msgspec.Struct, frozen=True):
    text: str
    redactions: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.redactions.values())


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return int(numeric) % 97 == 1


def _is_card(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _is_phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    has_shape = match.startswith(("+", "00", "(")) or bool(re.search(r"[ ().-]", match))
    return _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS and has_shape


def _mask_ibans(text: str) -> tuple[str, int]:
    """[IBAN] for every mod-97-valid IBAN. The pattern can swallow following words ("... 0130 00 ASAP",
    "... 0130 00 thanks", even the start of another IBAN): the longest valid prefix (ending at a space) is
    masked and the search resumes right after it; with none, it resumes at the match's next word."""
    parts: list[str] = []
    found = pos = 0
    while (match := IBAN.search(text, pos)) is not None:
        candidate = match.group(0)
        cut = _valid_prefix(candidate)
        if cut is None:
            space = candidate.find(" ")
            resume = match.start() + (space if space != -1 else len(candidate))
            parts.append(text[pos:resume])
        else:
            found += 1
            resume = match.start() + cut
            parts.append(text[pos : match.start()] + "[IBAN]")
        pos = resume
    parts.append(text[pos:])
    return "".join(parts), found


def _valid_prefix(candidate: str) -> int | None:
    """The length of the longest prefix that ends at a space (or the end) and is a valid IBAN."""
    for cut in range(len(candidate), 14, -1):
        if (cut == len(candidate) or candidate[cut] == " ") and iban_valid(candidate[:cut]):
            return cut
    return None


def _name_variants(names: Sequence[str], organisations: Sequence[str]) -> Iterator[tuple[str, bool]]:
    """(text, whole-name?) for each name to mask: every full name (matched in any case), and each part of a
    person's name with at least three letters (matched with its own capitalisation: "Priya", not "priya")."""
    for full in (*names, *organisations):
        if sum(c.isalpha() for c in full) >= 2:
            yield " ".join(full.split()), True
    for person in names:
        for part in re.split(r"[\s-]+", person):
            if sum(c.isalpha() for c in part) >= 3:
                yield part, False


def name_pattern(names: Sequence[str], organisations: Sequence[str] = ()) -> re.Pattern[str] | None:
    """One whole-word pattern for the known names, longest first (a full name wins over its parts)."""
    variants = sorted(set(_name_variants(names, organisations)), key=lambda v: (-len(v[0]), v))
    if not variants:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(_alternative(text, whole) for text, whole in variants) + r")(?!\w)")


def _alternative(text: str, whole: bool) -> str:
    if not whole:
        return re.escape(text)
    return "(?i:" + r"\s+".join(re.escape(word) for word in text.split()) + ")"


def mask_pii(
    text: str,
    extra_patterns: Mapping[str, str] | None = None,
    *,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
) -> MaskedText:
    """Mask IBANs, cards, emails, phones, the policy's extra patterns, then the known ``names`` of people
    (full name in any case, and each part of ≥ 3 letters as written) and ``organisations`` (full name only)."""
    counts: Counter[str] = Counter()

    def replace(kind: str, check: Callable[[str], bool] | None) -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            if check is not None and not check(match.group(0)):
                return match.group(0)
            counts[kind] += 1
            return f"[{kind.upper()}]"

        return sub

    # Most specific first: an IBAN or a card number also looks like a phone number.
    text, ibans = _mask_ibans(text)
    if ibans:
        counts["iban"] += ibans
    text = CARD.sub(replace("card", _is_card), text)
    text = EMAIL.sub(replace("email", None), text)
    text = PHONE.sub(replace("phone", _is_phone), text)
    for name, pattern in (extra_patterns or {}).items():
        text = re.sub(pattern, replace(name, None), text)
    known = name_pattern(names, organisations)
    if known is not None:
        text = known.sub(replace("name", None), text)
    return MaskedText(text, dict(counts))
