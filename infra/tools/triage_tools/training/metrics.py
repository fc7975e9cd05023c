"""Classification metrics in pure Python (shared by training, the CLI, evaluation and benchmarks)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Share of predictions equal to the truth (0.0 for no examples)."""
    _same_length(y_true, y_pred)
    if not y_true:
        return 0.0
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def macro_f1(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Unweighted mean of per-label F1 over every label seen in either sequence (as scikit-learn).

    A label never predicted and never true cannot appear; one predicted but never true scores 0.
    """
    _same_length(y_true, y_pred)
    labels = set(y_true) | set(y_pred)
    if not labels:
        return 0.0
    true_pos = dict.fromkeys(labels, 0)
    predicted = dict.fromkeys(labels, 0)
    actual = dict.fromkeys(labels, 0)
    for t, p in zip(y_true, y_pred, strict=True):
        predicted[p] += 1
        actual[t] += 1
        if t == p:
            true_pos[t] += 1
    scores = [2 * true_pos[x] / (predicted[x] + actual[x]) for x in labels]
    return sum(scores) / len(scores)


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE: per equal-width confidence bin, |accuracy - mean confidence|, weighted by the bin's share.

    ``confidences`` are the probabilities given to the predicted (top) label; ``correct`` says whether that
    label was right. A confidence of exactly 1.0 falls in the last bin.
    """
    _same_length(confidences, correct)
    count, confidence_sum, correct_sum = calibration_bins(confidences, correct, bins)
    if not confidences:
        return 0.0
    n = len(confidences)
    return sum(abs(correct_sum[b] - confidence_sum[b]) / n for b in range(bins) if count[b])


def calibration_bins(
    confidences: Sequence[float], correct: Sequence[bool], bins: int
) -> tuple[list[int], list[float], list[int]]:
    """Per equal-width bin over [0, 1] (1.0 in the last): count, sum of confidences, number correct."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    count = [0] * bins
    confidence_sum = [0.0] * bins
    correct_sum = [0] * bins
    for confidence, right in zip(confidences, correct, strict=True):
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence {confidence!r} is not a probability")
        b = min(int(confidence * bins), bins - 1)
        count[b] += 1
        confidence_sum[b] += confidence
        correct_sum[b] += bool(right)
    return count, confidence_sum, correct_sum


def _same_length(a: Sequence[object], b: Sequence[object]) -> None:
    if len(a) != len(b):
        raise ValueError(f"sequences differ in length: {len(a)} != {len(b)}")
