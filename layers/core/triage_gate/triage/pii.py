"""Mask personal data before any text leaves for a model. The ticket itself is never edited.

Only counts per kind are kept (for the decision record); the masked values are never stored or logged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().-]{7,18}\d(?!\w)")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 9, 15


@dataclass(frozen=True)
class MaskedText:
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


def mask_pii(text: str, extra_patterns: Mapping[str, str] | None = None) -> MaskedText:
    counts: Counter[str] = Counter()

    def replace(kind: str, check: Callable[[str], bool] | None) -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            if check is not None and not check(match.group(0)):
                return match.group(0)
            counts[kind] += 1
            return f"[{kind.upper()}]"

        return sub

    def iban(match: re.Match[str]) -> str:
        candidate = match.group(0)
        # The pattern can swallow a following capitalised word ("... 0130 00 ASAP"): try shorter prefixes.
        for cut in range(len(candidate), 14, -1):
            if (cut == len(candidate) or candidate[cut] == " ") and iban_valid(candidate[:cut]):
                counts["iban"] += 1
                return "[IBAN]" + candidate[cut:]
        return candidate

    # Most specific first: an IBAN or a card number also looks like a phone number.
    text = IBAN.sub(iban, text)
    text = CARD.sub(replace("card", _is_card), text)
    text = EMAIL.sub(replace("email", None), text)
    text = PHONE.sub(replace("phone", _is_phone), text)
    for name, pattern in (extra_patterns or {}).items():
        text = re.sub(pattern, replace(name, None), text)
    return MaskedText(text, dict(counts))
