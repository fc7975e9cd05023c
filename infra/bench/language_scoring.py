"""Pure helpers of the language-identification bench (bench_language.py): the sample, the text a detector
sees, every detector's codes as ISO 639-1, accuracy by group and accuracy against coverage above a confidence.

No detector and no timing here, so every function is unit-tested (tests/unit/test_bench_language.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REQUIRED_FIELDS = ("id", "language", "kind", "subject", "body")
KIND_ORDER = ("short", "long", "signature", "code", "mixed")
"""The sample's kinds in the order the tables show them; a kind outside this list follows, sorted."""
BODY_LINES = 3
"""A ticket's text is its subject and the first this many non-blank lines of its body."""
MAX_TEXT_CHARS = 500

_ALIASES = {
    "nb": "no",  # Norwegian Bokmål (fastText, lingua) and Nynorsk are both `no` here
    "nn": "no",
    "iw": "he",  # old ISO codes that CLD3 and langdetect still return
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
}
_UNDETERMINED = {"", "und", "un", "unknown", "zxx", "xx"}


class SampleError(ValueError):
    """The sample file cannot be used as it is: the message names the line and the problem."""


@dataclass(frozen=True)
class Ticket:
    id: str
    language: str
    kind: str
    subject: str
    body: str


@dataclass(frozen=True)
class Prediction:
    """What a detector said about one ticket: an ISO 639-1 code or None (no answer), and its confidence."""

    truth: str
    kind: str
    language: str | None
    confidence: float

    @property
    def correct(self) -> bool:
        return self.language == self.truth


def load_tickets(path: Path) -> list[Ticket]:
    """Every line of a JSON-lines sample as a Ticket; a bad line is an error naming it, never skipped."""
    tickets: list[Ticket] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        tickets.append(parse_ticket(line, f"{path}:{number}"))
    if not tickets:
        raise SampleError(f"{path}: no tickets in the sample")
    return tickets


def parse_ticket(line: str, where: str) -> Ticket:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise SampleError(f"{where}: not JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise SampleError(f"{where}: a ticket must be a JSON object")
    missing = [name for name in REQUIRED_FIELDS if not isinstance(record.get(name), str)]
    if missing:
        raise SampleError(f"{where}: missing or non-string field(s) {', '.join(missing)}")
    language = to_iso639_1(record["language"])
    if language is None:
        raise SampleError(f"{where}: language {record['language']!r} is not a language code")
    return Ticket(record["id"], language, record["kind"], record["subject"], record["body"])


def ticket_text(subject: str, body: str, body_lines: int = BODY_LINES, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The subject and the first ``body_lines`` non-blank body lines, one per line, cut at ``max_chars``."""
    lines = [subject.strip()] if subject.strip() else []
    lines += [line.strip() for line in body.splitlines() if line.strip()][:body_lines]
    return "\n".join(lines)[:max_chars]


def to_iso639_1(code: str | None) -> str | None:
    """A detector's code as ISO 639-1: lower case, region and script dropped (``zh-cn`` → ``zh``, ``sr-Latn`` →
    ``sr``), old or split codes merged (``iw`` → ``he``, ``nb``/``nn`` → ``no``); None for "undetermined"."""
    if code is None:
        return None
    base = code.strip().lower().removeprefix("__label__").replace("_", "-").split("-")[0]
    if base in _UNDETERMINED:
        return None
    return _ALIASES.get(base, base)


def accuracy(predictions: Sequence[Prediction]) -> float | None:
    """Share of predictions that name the true language (a missing answer is wrong); None for no predictions."""
    if not predictions:
        return None
    return sum(p.correct for p in predictions) / len(predictions)


def accuracy_by(predictions: Iterable[Prediction], key: Callable[[Prediction], str]) -> dict[str, float | None]:
    groups: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        groups.setdefault(key(prediction), []).append(prediction)
    return {name: accuracy(group) for name, group in groups.items()}


def kinds_in_order(kinds: Iterable[str]) -> list[str]:
    present = set(kinds)
    return [k for k in KIND_ORDER if k in present] + sorted(present - set(KIND_ORDER))


@dataclass(frozen=True)
class Coverage:
    threshold: float
    coverage: float
    """Share of all tickets whose prediction's confidence is at least the threshold (and that have an answer)."""
    accuracy: float | None
    """Accuracy on those tickets only; None when none is covered."""


def coverage_at(predictions: Sequence[Prediction], threshold: float) -> Coverage:
    if not predictions:
        raise ValueError("no predictions: coverage needs at least one")
    covered = [p for p in predictions if p.language is not None and p.confidence >= threshold]
    return Coverage(threshold, len(covered) / len(predictions), accuracy(covered))


def lowest_threshold_for(predictions: Sequence[Prediction], target_accuracy: float) -> Coverage | None:
    """The lowest confidence threshold (among the confidences seen) whose covered tickets reach
    ``target_accuracy``: the most coverage at that precision. None when no threshold reaches it."""
    for threshold in sorted({p.confidence for p in predictions if p.language is not None}):
        result = coverage_at(predictions, threshold)
        if result.accuracy is not None and result.accuracy >= target_accuracy:
            return result
    return None


def percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}"


def format_coverage(result: Coverage | None) -> str:
    """``covered% / accuracy%`` (e.g. ``92.0/99.1``); ``-`` when nothing qualifies."""
    if result is None:
        return "-"
    return f"{percent(result.coverage, 0)}/{percent(result.accuracy)}"
