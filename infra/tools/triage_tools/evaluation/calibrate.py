"""Calibration for `triage calibrate` and `triage backtest`: reported → observed accuracy, and the thresholds
that keep auto-applied precision at or above 1 - the workflow's error tolerance, proven with Wilson bounds.

Evidence is pooled, so a taxonomy with a long tail still automates something:

- **pooled**: one curve (isotonic, fitted on the predictions of every label together) and one threshold, the
  lowest calibrated confidence at which those predictions reach a 95% Wilson lower bound on precision
  ≥ 1 - tolerance over at least the minimum sample → ``calibration_default``, ``thresholds.default``;
- **own**: a label with its own evidence (at least the minimum sample of predictions) gets its own curve; its
  own threshold when its predictions alone prove one, else the pooled threshold on its own curve;
- **always-review** only where a label's own evidence says it fails: with its own evidence, even its best
  predictions have a 95% Wilson *upper* bound below the bar; or, at least ``FAIL_EVIDENCE_MIN`` of its
  predictions above the pooled threshold of the *other* labels have an upper bound below it. Those labels are
  left out of the pool. Without a pooled threshold, a label that proves none of its own stays at review too;
- labels already in ``rules.always_review`` stay there: those are business rules too, never removed.

:mod:`triage_tools.evaluation.calibration_policy` puts a proposal into the policy;
:mod:`triage_tools.evaluation.calibration_report` shows it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from triage_gate.policy import Workflow
from triage_gate.proportions import wilson_lower_bound, wilson_upper_bound
from triage_gate.triage.answers import calibrate
from triage_tools.evaluation.metrics import EvalRow

Z = 1.96
POOLED_CURVE_POINTS = 8
FAIL_EVIDENCE_MIN = 10
"""Fewest predictions above the pooled threshold that can show a thin label fails. The Wilson interval is too
narrow on a handful of predictions (one wrong answer out of one has an upper bound of 0.79; 2 of 3 right, 0.94),
so below this many a thin label keeps the pooled threshold."""

Applies = Literal["own", "pooled", "always_review"]
Point = tuple[float, float]


def task_tolerance(workflow: Workflow) -> float:
    """The error tolerance one task is calibrated to. A ticket is applied only when every task clears its
    threshold, and it is wrong when any applied field is: splitting the workflow's tolerance evenly over its
    tasks keeps the chance that any of them is wrong within the tolerance (union bound), so the promise holds
    per ticket, not only per field."""
    return workflow.error_tolerance / max(1, len(workflow.tasks))


def min_samples_for(tolerance: float, z: float = Z) -> int:
    """Fewest predictions for which even a perfect record can show precision ≥ 1 - tolerance (Wilson)."""
    return max(1, math.ceil(z * z * (1 - tolerance) / tolerance))


@dataclass(frozen=True)
class Evidence:
    """The calibration predictions at or above a threshold of calibrated confidence."""

    threshold: float
    n: int
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def lower(self) -> float:
        return wilson_lower_bound(self.correct, self.n)

    @property
    def upper(self) -> float:
        return wilson_upper_bound(self.correct, self.n)


@dataclass(frozen=True)
class LabelProposal:
    label: str
    n: int  # its predictions in the calibration data
    correct: int
    own_evidence: bool  # n ≥ the minimum sample: it has its own curve (its own threshold if it proves one)
    applies: Applies
    why: str
    calibration: list[Point]  # its own curve; [] without its own evidence (the pooled one applies)
    threshold: float | None  # its own threshold, else the pooled one; None when no threshold is proven
    evidence: Evidence | None  # its predictions at or above ``threshold``
    best_lower_bound: float = 0.0
    own_threshold: bool = False  # ``threshold`` is its own (proven by its own predictions alone)

    @property
    def auto_share(self) -> float:
        """Share of its predictions that would be auto-applied (0 at always-review)."""
        if self.applies == "always_review" or self.evidence is None or not self.n:
            return 0.0
        return self.evidence.n / self.n


@dataclass(frozen=True)
class PooledProposal:
    n: int  # predictions of the pooled labels
    labels_with_predictions: int
    calibration: list[Point]
    threshold: float | None
    evidence: Evidence | None
    best_lower_bound: float
    left_out: list[str] = field(default_factory=list)  # labels whose own evidence fails: not pooled


@dataclass(frozen=True)
class CalibrationProposal:
    tolerance: float
    needed: int  # the minimum sample
    rows: int
    pooled: PooledProposal
    labels: list[LabelProposal] = field(default_factory=list)

    @property
    def bar(self) -> float:
        return 1.0 - self.tolerance

    @property
    def coverage(self) -> float:
        """Share of the calibration rows this task would auto-apply (this task's thresholds only)."""
        applied = sum(p.evidence.n for p in self.labels if p.applies != "always_review" and p.evidence)
        return applied / self.rows if self.rows else 0.0


def fit_calibration(pairs: Sequence[tuple[float, bool]], max_points: int = 5) -> list[Point]:
    """Isotonic (pool-adjacent-violators) fit of correctness on reported confidence, as ≤ max_points knots.

    Below the lowest knot there is no evidence: the curve runs down to (0, 0) instead of promising the lowest
    block's accuracy to every lower confidence (a label seen only at 0.97 must not calibrate 0.30 to 0.97).
    Predictions at the same confidence start as one block (models repeat values like 0.9: their accuracy is the
    block's, never a wrong-first then right-first split of it)."""
    same: dict[float, list[float]] = {}
    for x, ok in pairs:
        block = same.setdefault(x, [0.0, 0.0, 0.0])
        block[0], block[1], block[2] = block[0] + x, block[1] + (1.0 if ok else 0.0), block[2] + 1.0
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for x in sorted(same):
        blocks.append(same[x])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    knots = [(b[0] / b[2], b[1] / b[2], b[2]) for b in blocks]
    while len(knots) > max_points:  # merge the two smallest neighbours
        i = min(range(len(knots) - 1), key=lambda k: knots[k][2] + knots[k + 1][2])
        (x0, y0, n0), (x1, y1, n1) = knots[i], knots[i + 1]
        knots[i : i + 2] = [((x0 * n0 + x1 * n1) / (n0 + n1), (y0 * n0 + y1 * n1) / (n0 + n1), n0 + n1)]
    points = [(round(x, 4), round(y, 4)) for x, y, _ in knots]
    if points and points[0][0] > 0.0:
        points.insert(0, (0.0, 0.0))
    if len(points) == 1:
        points = [(0.0, points[0][1]), (1.0, points[0][1])]
    return points


Scored = list[tuple[float, bool]]  # (calibrated confidence as the runtime rounds it, right), highest first


def _scored(pairs: Sequence[tuple[float, bool]], curve: Sequence[Point]) -> Scored:
    return sorted(((round(calibrate(x, curve), 4), ok) for x, ok in pairs), reverse=True)


def _search(scored: Scored, needed: int, bar: float) -> tuple[Evidence | None, float]:
    """The lowest threshold whose predictions (≥ ``needed`` of them) have a Wilson lower bound ≥ ``bar``, and the
    best lower bound any threshold reached. A threshold takes every prediction at its value (ties)."""
    found: Evidence | None = None
    best = 0.0
    hits = 0
    for i, (confidence, ok) in enumerate(scored, start=1):  # lowering the threshold one prediction at a time
        hits += ok
        if i < len(scored) and scored[i][0] >= confidence:
            continue
        lower = wilson_lower_bound(hits, i)
        best = max(best, lower)
        if i >= needed and lower >= bar:
            found = Evidence(confidence, i, hits)
    return found, round(best, 4)


def _best_upper(scored: Scored, needed: int) -> Evidence | None:
    """Of the thresholds with ≥ ``needed`` predictions above them, the one whose Wilson upper bound is highest."""
    best: Evidence | None = None
    hits = 0
    for i, (confidence, ok) in enumerate(scored, start=1):
        hits += ok
        if i < needed or (i < len(scored) and scored[i][0] >= confidence):
            continue
        found = Evidence(confidence, i, hits)
        if best is None or found.upper > best.upper:
            best = found
    return best


def _at(scored: Scored, threshold: float) -> Evidence:
    above = [ok for confidence, ok in scored if confidence >= threshold]
    return Evidence(threshold, len(above), sum(above))


@dataclass(frozen=True)
class _Predictions:
    """One task's calibration predictions, by predicted label, and what pools them."""

    pairs: dict[str, list[tuple[float, bool]]]  # label → (reported confidence, right)
    curves: dict[str, list[Point]]  # label → its own curve ([] without its own evidence)
    needed: int
    bar: float

    def pooled(self, labels: Sequence[str]) -> tuple[list[Point], Evidence | None, float]:
        """The pooled curve of ``labels``' predictions and the lowest threshold that proves the bar over them."""
        every = [pair for label in labels for pair in self.pairs[label]]
        curve = fit_calibration(every, POOLED_CURVE_POINTS) if len(every) >= 2 else []
        scored = sorted((s for label in labels for s in _scored(self.pairs[label], self.curves[label] or curve)),
                        reverse=True)  # fmt: skip
        evidence, best = _search(scored, self.needed, self.bar)
        return curve, evidence, best

    def own_threshold(self, label: str) -> Evidence | None:
        """The lowest threshold its own predictions prove (at least ``needed`` of them above it), if any."""
        return _search(_scored(self.pairs[label], self.curves[label]), self.needed, self.bar)[0]

    def fails_alone(self, label: str) -> Evidence | None:
        """A label with its own evidence that fails at every threshold: even its best ≥ ``needed`` predictions have
        a Wilson upper bound below the bar."""
        found = _best_upper(_scored(self.pairs[label], self.curves[label]), self.needed)
        return found if found is not None and found.upper < self.bar else None

    def fails_against_the_others(self, label: str, pool: Sequence[str]) -> Evidence | None:
        """A label's predictions above the pooled threshold of the *other* labels (so a bad label cannot drag the
        threshold it is judged by), when their Wilson upper bound shows it fails the bar."""
        pairs = self.pairs[label]
        if len(pairs) < FAIL_EVIDENCE_MIN or all(ok for _, ok in pairs):
            return None
        curve, evidence, _ = self.pooled([other for other in pool if other != label])
        if evidence is None:
            return None
        found = _at(_scored(pairs, self.curves[label] or curve), evidence.threshold)
        return found if found.n >= FAIL_EVIDENCE_MIN and found.upper < self.bar else None


def propose(
    rows: Sequence[EvalRow],
    labels: Sequence[str],
    tolerance: float,
    min_samples: int,
    always_review: Collection[str] = (),
) -> CalibrationProposal:
    """Curves and thresholds for one task from rows decided on raw (uncalibrated) confidence.

    The pool is every label except those whose own evidence fails (alone, or against the pooled threshold of all
    the other labels): they go to always-review and would only drag down what the pool can prove for the rest.
    One pass: re-judging the rest against a pool already cleaned of them would select on the same data again and
    promise more than unseen tickets give."""
    pairs = {
        label: [(float(r.reported_confidence), r.truth == label) for r in rows
                if r.predicted == label and r.reported_confidence is not None]
        for label in labels
    }  # fmt: skip
    curves = {label: fit_calibration(pairs[label]) if len(pairs[label]) >= min_samples else [] for label in labels}
    predictions = _Predictions(pairs, curves, min_samples, 1.0 - tolerance)
    own = {label: predictions.own_threshold(label) if curves[label] else None for label in labels}
    failing: dict[str, tuple[Evidence, str]] = {}  # label → the evidence that it fails, and where
    for label in labels:
        failed = predictions.fails_alone(label) if curves[label] and own[label] is None else None
        if failed is not None:
            failing[label] = (failed, "at its best threshold")
    candidates = [label for label in labels if label not in failing]
    for label in candidates:  # one pass: judged against the others as they are, not a pool already cleaned up
        failed = predictions.fails_against_the_others(label, candidates) if own[label] is None else None
        if failed is not None:
            failing[label] = (failed, "above the other labels' pooled threshold")
    pool = [label for label in candidates if label not in failing]
    curve, pooled_evidence, best = predictions.pooled(pool)
    pooled = PooledProposal(
        n=sum(len(pairs[label]) for label in pool), labels_with_predictions=sum(1 for label in pool if pairs[label]),
        calibration=curve, threshold=pooled_evidence.threshold if pooled_evidence else None,
        evidence=pooled_evidence, best_lower_bound=best, left_out=sorted(failing),
    )  # fmt: skip
    proposals = [
        _judge(label, predictions, pooled, own[label], failing.get(label), label in always_review) for label in labels
    ]
    return CalibrationProposal(tolerance, min_samples, len(rows), pooled, proposals)


def _judge(
    label: str,
    predictions: _Predictions,
    pooled: PooledProposal,
    own: Evidence | None,
    failed: tuple[Evidence, str] | None,
    business_rule: bool,
) -> LabelProposal:
    pairs, needed, bar = predictions.pairs[label], predictions.needed, predictions.bar
    n, correct = len(pairs), sum(ok for _, ok in pairs)
    own_evidence = n >= needed
    best = _search(_scored(pairs, predictions.curves[label]), needed, bar)[1] if own_evidence else 0.0
    alone = (
        f"its own {n} predictions prove no threshold alone (best 95% lower bound {best:.3f})"
        if own_evidence
        else f"{n} predictions (< {needed} to prove a threshold alone)"
    )
    applies: Applies
    found: Evidence | None
    if own is not None:
        found, applies, why = own, "own", f"own evidence: {n} predictions"
    elif failed is not None:
        (found, where), applies = failed, "always_review"
        why = (
            f"its own evidence fails: {found.correct}/{found.n} right {where}, "
            f"95% upper bound {found.upper:.3f} < {bar:.3f}"
        )
    elif pooled.threshold is None:
        found, applies, why = None, "always_review", f"{alone} and no pooled threshold meets the bar"
    else:
        curve = predictions.curves[label] or pooled.calibration
        found, applies, why = _at(_scored(pairs, curve), pooled.threshold), "pooled", f"{alone}: pooled threshold"
    if business_rule:
        applies, why = "always_review", "a rule of the policy (rules.always_review)"
    threshold = found.threshold if found else None
    curve = predictions.curves[label]
    return LabelProposal(label, n, correct, own_evidence, applies, why, curve, threshold, found, best, own is not None)
