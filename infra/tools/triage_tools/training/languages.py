"""The languages of a model's training text: detected per row as production detects a ticket's, counted, and
the ones with enough rows recorded as the model's languages (``metadata.languages.supported``). At decision
time a ticket in any other language is outside what the model knows: the local route never guesses at it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from triage_gate.adapters.language_detector import FastTextLanguageDetector
from triage_gate.policy_language import LanguagePolicy
from triage_gate.triage.language import detection_text

# A language the model saw in at least this many rows and this share of the rows whose language was read.
MIN_ROWS = 20
MIN_SHARE = 0.05


def training_languages(
    texts: Sequence[str], detector: FastTextLanguageDetector | None = None, *, min_confidence: float | None = None
) -> dict[str, Any]:
    """{"supported": [...], "counts": {code: rows}, "undetermined": rows, "min_rows", "min_share",
    "min_confidence"}: rows read below ``min_confidence`` (the policy's default) count as undetermined."""
    detector = detector or FastTextLanguageDetector()
    bar = LanguagePolicy().min_confidence if min_confidence is None else min_confidence
    counts: Counter[str] = Counter()
    undetermined = 0
    for text in texts:
        detection = detector.detect(detection_text(None, text))
        if detection is None or detection.confidence < bar:
            undetermined += 1
        else:
            counts[detection.code] += 1
    read = sum(counts.values())
    supported = sorted(code for code, n in counts.items() if n >= MIN_ROWS and n >= MIN_SHARE * read)
    return {
        "supported": supported,
        "counts": dict(counts.most_common()),
        "undetermined": undetermined,
        "min_rows": MIN_ROWS,
        "min_share": MIN_SHARE,
        "min_confidence": bar,
    }


def describe(languages: dict[str, Any]) -> str:
    """One line for ``triage train``'s summary."""
    counts = languages.get("counts") or {}
    supported = set(languages.get("supported") or [])
    shown = ", ".join(f"{code} {n}{'' if code in supported else ' (too few)'}" for code, n in list(counts.items())[:8])
    more = f", +{len(counts) - 8} more" if len(counts) > 8 else ""
    return (
        f"  languages: {', '.join(sorted(supported)) or 'none'} (rows: {shown or 'none'}{more}; "
        f"undetermined {languages.get('undetermined', 0)})"
    )
