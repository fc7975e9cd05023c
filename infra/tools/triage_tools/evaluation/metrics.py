"""Evaluation metrics over labelled triage decisions, in pure Python (standard library only).

The eval runner turns every labelled row into one :class:`EvalRow` (what production decided for it); every
function here is a pure function of those rows, small enough to check by hand:

- quality of the label: :func:`accuracy`, :func:`macro_f1`, :func:`per_label`, :func:`confusion`;
- the guardrail view: :func:`coverage_precision` at the policy's thresholds, :func:`coverage_curve` as a
  single confidence threshold varies, :func:`reason_counts`;
- calibration: :func:`reliability`, :func:`expected_calibration_error`;
- operations: :func:`latency_percentiles`, :func:`cost_summary`;
- reference points: :func:`majority_baseline`, :func:`wilson_lower_bound`;
- :func:`summary`, everything above as one JSON-serialisable dict (what the report and the gate read).

Conventions. A ``None`` prediction (no label came out) is always wrong. Labels are the workflow's taxonomy
in its order; a true or predicted label outside it still gets its own row (appended in sorted order) so a
missing label mapping shows up instead of vanishing. Ratios whose denominator is zero are ``0.0`` for
per-label precision/recall/F1 (as scikit-learn's ``zero_division=0``) and ``None`` where "no evidence" must
not read as a score (auto-applied precision, empty calibration bins, ECE without confidences).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from triage_gate.proportions import wilson_lower_bound
from triage_tools.evaluation.languages import by_language, language_unsupported_rows
from triage_tools.training.metrics import calibration_bins
from triage_tools.training.metrics import expected_calibration_error as _ece

__all__ = [
    "DEFAULT_THRESHOLDS",
    "NO_LABEL",
    "EvalRow",
    "accuracy",
    "confusion",
    "cost_summary",
    "coverage_curve",
    "coverage_precision",
    "expected_calibration_error",
    "latency_percentiles",
    "macro_f1",
    "majority_baseline",
    "per_label",
    "reason_counts",
    "reliability",
    "summary",
    "wilson_lower_bound",
]

NO_LABEL = "(none)"
"""The confusion-matrix column for rows where no label came out."""

DEFAULT_THRESHOLDS: tuple[float, ...] = (*(round(i * 0.05, 2) for i in range(20)), 0.99)
"""0.0, 0.05, ..., 0.95, 0.99: the thresholds of the coverage/precision curve."""


@dataclass(frozen=True)
class EvalRow:
    row_id: str
    truth: str  # the true label for the evaluated task
    predicted: str | None  # None when no label came out (e.g. empty ticket)
    confidence: float | None  # calibrated confidence of the predicted label
    reported_confidence: float | None
    threshold: float | None  # the policy threshold for the predicted label
    auto_applied: bool  # proposed_action == "apply" (every guardrail passed)
    reason_codes: tuple[str, ...]
    cost_usd: float
    latency_ms: float
    model: str = ""  # the model that actually answered ("local" when a Claude route fell back)
    language: str | None = None  # the language the decision record counted (None: not read)


def models_used(rows: Sequence[EvalRow]) -> dict[str, int]:
    """How many rows each model answered, most first (what a report's name must say, not what was asked for)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.model or "none"] = counts.get(row.model or "none", 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def run_name(workflow: str, task: str, requested: str, expected_model: str | None, rows: Sequence[EvalRow]) -> str:
    """``zendesk-support/category (sonnet)`` — or, when another model answered some rows (a Claude route without
    an API key falls back to the local model), ``zendesk-support/category (sonnet requested; answered by local
    120)``: a report is named for what produced it. ``expected_model`` None: the policy's routes (any model)."""
    used = models_used(rows)
    if expected_model is None or set(used) <= {expected_model}:
        return f"{workflow}/{task} ({requested})"
    detail = ", ".join(f"{model} {count}" for model, count in used.items())
    return f"{workflow}/{task} ({requested} requested; answered by {detail})"


def _correct(row: EvalRow) -> bool:
    return row.predicted is not None and row.predicted == row.truth


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _label_order(rows: Sequence[EvalRow], labels: Iterable[str]) -> list[str]:
    """The taxonomy in its order (duplicates dropped), then any other label seen in the rows, sorted."""
    ordered = list(dict.fromkeys(labels))
    known = set(ordered)
    seen = {row.truth for row in rows} | {row.predicted for row in rows if row.predicted is not None}
    return ordered + sorted(seen - known)


# --------------------------------------------------------------------------------------------- label quality


def accuracy(rows: Sequence[EvalRow]) -> float:
    """Share of rows whose predicted label equals the truth; a ``None`` prediction is wrong (0.0 for no rows)."""
    if not rows:
        return 0.0
    return sum(_correct(row) for row in rows) / len(rows)


def per_label(rows: Sequence[EvalRow], labels: Iterable[str]) -> dict[str, dict[str, float | int]]:
    """Per label: ``precision`` = TP / times predicted, ``recall`` = TP / support, ``f1``, ``support`` = times true.

    Every taxonomy label gets an entry (zeros when it never occurs); a zero denominator gives 0.0. A ``None``
    prediction lowers the recall of the true label and is a prediction of no label at all.
    """
    order = _label_order(rows, labels)
    true_pos = dict.fromkeys(order, 0)
    predicted = dict.fromkeys(order, 0)
    support = dict.fromkeys(order, 0)
    for row in rows:
        support[row.truth] += 1
        if row.predicted is not None:
            predicted[row.predicted] += 1
            if row.predicted == row.truth:
                true_pos[row.truth] += 1
    result: dict[str, dict[str, float | int]] = {}
    for label in order:
        denominator = predicted[label] + support[label]
        result[label] = {
            "precision": true_pos[label] / predicted[label] if predicted[label] else 0.0,
            "recall": true_pos[label] / support[label] if support[label] else 0.0,
            "f1": 2 * true_pos[label] / denominator if denominator else 0.0,
            "support": support[label],
        }
    return result


def macro_f1(rows: Sequence[EvalRow], labels: Iterable[str]) -> float:
    """Unweighted mean of per-label F1 over the labels that were true or predicted at least once.

    A taxonomy label never predicted and never true is left out of the average (it has no F1 to speak of);
    one predicted but never true scores 0. A ``None`` prediction counts as wrong. 0.0 for no rows.
    """
    scores = per_label(rows, labels)
    active = {row.truth for row in rows} | {row.predicted for row in rows if row.predicted is not None}
    f1s = [float(scores[label]["f1"]) for label in scores if label in active]
    return sum(f1s) / len(f1s) if f1s else 0.0


def confusion(rows: Sequence[EvalRow], labels: Iterable[str]) -> dict[str, dict[str, int]]:
    """Counts ``[true label][predicted label]``; the last column, ``"(none)"``, counts rows with no label.

    The matrix is full: one row per label, every column present (zeros included), in label order.
    """
    order = _label_order(rows, labels)
    matrix = {truth: dict.fromkeys([*order, NO_LABEL], 0) for truth in order}
    for row in rows:
        matrix[row.truth][row.predicted if row.predicted is not None else NO_LABEL] += 1
    return matrix


# --------------------------------------------------------------------------------------------- guardrail view


def coverage_precision(rows: Sequence[EvalRow]) -> dict[str, Any]:
    """At the policy's own thresholds and guardrails (``auto_applied``).

    ``coverage`` = share of rows auto-applied (0.0 for no rows); ``precision`` = accuracy within the
    auto-applied rows (``None`` when nothing was auto-applied); ``n_auto`` = how many were auto-applied.
    """
    auto = [row for row in rows if row.auto_applied]
    return {
        "coverage": len(auto) / len(rows) if rows else 0.0,
        "precision": _ratio(sum(_correct(row) for row in auto), len(auto)),
        "n_auto": len(auto),
    }


def coverage_curve(rows: Sequence[EvalRow], thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> list[dict[str, Any]]:
    """The trade-off as one confidence threshold varies, ignoring the policy and the other guardrails.

    A row counts as auto at threshold ``t`` when it has a predicted label and ``confidence >= t``. Per
    threshold: ``n`` = rows auto, ``coverage`` = n / all rows (0.0 for no rows), ``precision`` = accuracy of
    those ``n`` rows (``None`` when n = 0).
    """
    curve = []
    for threshold in thresholds:
        auto = [
            row
            for row in rows
            if row.predicted is not None and row.confidence is not None and row.confidence >= threshold
        ]
        curve.append(
            {
                "threshold": threshold,
                "coverage": len(auto) / len(rows) if rows else 0.0,
                "precision": _ratio(sum(_correct(row) for row in auto), len(auto)),
                "n": len(auto),
            }
        )
    return curve


def reason_counts(rows: Sequence[EvalRow]) -> dict[str, int]:
    """How many rows carry each reason code, most frequent first (ties by name)."""
    counts = Counter(code for row in rows for code in row.reason_codes)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# --------------------------------------------------------------------------------------------- calibration


def _calibration_pairs(rows: Sequence[EvalRow]) -> tuple[list[float], list[bool]]:
    pairs = [(row.confidence, _correct(row)) for row in rows if row.confidence is not None]
    return [confidence for confidence, _ in pairs], [right for _, right in pairs]


def reliability(rows: Sequence[EvalRow], bins: int = 10) -> list[dict[str, Any]]:
    """The reliability diagram: top-label confidence vs correctness in ``bins`` equal-width bins over [0, 1].

    Bin ``i`` holds confidences in ``[i/bins, (i+1)/bins)``; 1.0 falls in the last bin. Per bin: ``count``,
    ``mean_confidence`` and ``accuracy`` (both ``None`` for an empty bin). Rows without a confidence are left
    out; a row with a confidence but no label counts as wrong.
    """
    confidences, correct = _calibration_pairs(rows)
    count, confidence_sum, correct_sum = calibration_bins(confidences, correct, bins)
    return [
        {
            "bin_low": b / bins,
            "bin_high": (b + 1) / bins,
            "count": count[b],
            "mean_confidence": _ratio(confidence_sum[b], count[b]),
            "accuracy": _ratio(correct_sum[b], count[b]),
        }
        for b in range(bins)
    ]


def expected_calibration_error(rows: Sequence[EvalRow], bins: int = 10) -> float | None:
    """ECE = sum over the reliability bins of (count / N) * |accuracy - mean confidence|.

    N counts the rows with a confidence (the others are left out); ``None`` when there are none, since 0.0
    would claim perfect calibration. Same binning as :func:`reliability`.
    """
    confidences, correct = _calibration_pairs(rows)
    if not confidences:
        return None
    return _ece(confidences, correct, bins)


# --------------------------------------------------------------------------------------------- operations


def latency_percentiles(rows: Sequence[EvalRow]) -> dict[str, float | None]:
    """p50, p90, p95, p99 (nearest rank: the ceil(p/100 * n)-th smallest) and max of ``latency_ms``.

    All ``None`` for no rows.
    """
    values = sorted(row.latency_ms for row in rows)
    if not values:
        return {"p50": None, "p90": None, "p95": None, "p99": None, "max": None}
    n = len(values)
    result: dict[str, float | None] = {}
    for p in (50, 90, 95, 99):
        rank = max(1, -(-p * n // 100))  # ceil(p * n / 100) in integers: no float rounding at the boundary
        result[f"p{p}"] = values[rank - 1]
    result["max"] = values[-1]
    return result


def cost_summary(rows: Sequence[EvalRow]) -> dict[str, float]:
    """``total_usd`` = sum of ``cost_usd``; ``per_ticket_usd`` = total / rows (0.0 for no rows)."""
    total = math.fsum(row.cost_usd for row in rows)
    return {"total_usd": total, "per_ticket_usd": total / len(rows) if rows else 0.0}


# --------------------------------------------------------------------------------------------- reference points


def majority_baseline(rows: Sequence[EvalRow]) -> dict[str, Any]:
    """Always predict the most frequent true label (ties: the first by name).

    Returns ``name``, ``label``, ``n``, ``accuracy`` (= the majority label's share) and ``macro_f1`` (over
    the true labels: the majority label scores 2p / (1 + p) with p its share, every other label 0).
    ``label`` is ``None`` and both scores 0.0 for no rows.
    """
    if not rows:
        return {"name": "majority", "label": None, "n": 0, "accuracy": 0.0, "macro_f1": 0.0}
    counts = Counter(row.truth for row in rows)
    label = min(counts, key=lambda candidate: (-counts[candidate], candidate))
    always = [
        EvalRow(
            row_id=row.row_id,
            truth=row.truth,
            predicted=label,
            confidence=None,
            reported_confidence=None,
            threshold=None,
            auto_applied=False,
            reason_codes=(),
            cost_usd=0.0,
            latency_ms=0.0,
        )
        for row in rows
    ]
    return {
        "name": f"majority ({label})",
        "label": label,
        "n": len(rows),
        "accuracy": accuracy(always),
        "macro_f1": macro_f1(always, sorted(counts)),
    }


# --------------------------------------------------------------------------------------------- all together


def _policy_threshold(rows: Sequence[EvalRow]) -> float | None:
    thresholds = [row.threshold for row in rows if row.threshold is not None]
    return math.fsum(thresholds) / len(thresholds) if thresholds else None


def summary(rows: Sequence[EvalRow], labels: Iterable[str], *, name: str) -> dict[str, Any]:
    """Every metric above for one run, as a JSON-serialisable dict (plain str/int/float/None/list/dict).

    Keys: name, n, accuracy, macro_f1, per_label, confusion, coverage, precision_auto, n_auto, curve,
    reasons, ece, reliability, latency, cost, ``by_language`` and ``language_unsupported``
    (:mod:`triage_tools.evaluation.languages`), and ``policy_threshold`` (the mean policy threshold of the
    predicted labels, where the report marks the policy's operating point on the curve; ``None`` if unknown).
    """
    labels = list(labels)
    guard = coverage_precision(rows)
    return {
        "name": name,
        "n": len(rows),
        "accuracy": accuracy(rows),
        "macro_f1": macro_f1(rows, labels),
        "per_label": per_label(rows, labels),
        "confusion": confusion(rows, labels),
        "coverage": guard["coverage"],
        "precision_auto": guard["precision"],
        "n_auto": guard["n_auto"],
        "curve": coverage_curve(rows),
        "reasons": reason_counts(rows),
        "ece": expected_calibration_error(rows),
        "reliability": reliability(rows),
        "latency": latency_percentiles(rows),
        "cost": cost_summary(rows),
        "by_language": by_language(rows),
        "language_unsupported": language_unsupported_rows(rows),
        "policy_threshold": _policy_threshold(rows),
    }
