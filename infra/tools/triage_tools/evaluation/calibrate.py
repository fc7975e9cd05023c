"""`triage calibrate`: per-label calibration (reported → observed accuracy) and the lowest threshold whose
auto-applied error stays within the workflow's tolerance, with a Wilson lower bound on precision."""

from __future__ import annotations

import difflib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage_gate.triage.answers import calibrate
from triage_tools.evaluation.metrics import EvalRow, wilson_lower_bound

Z = 1.96


def min_samples_for(tolerance: float, z: float = Z) -> int:
    """Fewest predictions for which even a perfect record can show precision ≥ 1 - tolerance (Wilson)."""
    return max(1, math.ceil(z * z * (1 - tolerance) / tolerance))


@dataclass(frozen=True)
class LabelProposal:
    label: str
    n: int
    calibration: list[tuple[float, float]]
    threshold: float | None  # None: not enough evidence — the label stays at "always review"
    precision: float | None
    lower_bound: float | None
    auto_share: float
    best_lower_bound: float = 0.0  # the best bound any threshold reached (why it stays at review)

    def describe(self, needed: int) -> str:
        if self.threshold is None:
            return (
                f"{self.label}: stays at always review ({self.n} predictions; the best 95% lower bound on precision "
                f"was {self.best_lower_bound:.3f}; at least {needed} predictions are needed to prove it)"
            )
        return (
            f"{self.label}: threshold {self.threshold:.2f} → auto-applies {self.auto_share:.0%} of its predictions, "
            f"precision {self.precision:.3f} (95% lower bound {self.lower_bound:.3f}, n={self.n})"
        )


def fit_calibration(pairs: Sequence[tuple[float, bool]], max_points: int = 5) -> list[tuple[float, float]]:
    """Isotonic (pool-adjacent-violators) fit of correctness on reported confidence, as ≤ max_points knots."""
    ordered = sorted(pairs)
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for x, ok in ordered:
        blocks.append([x, 1.0 if ok else 0.0, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    knots = [(b[0] / b[2], b[1] / b[2], b[2]) for b in blocks]
    while len(knots) > max_points:  # merge the two smallest neighbours
        i = min(range(len(knots) - 1), key=lambda k: knots[k][2] + knots[k + 1][2])
        (x0, y0, n0), (x1, y1, n1) = knots[i], knots[i + 1]
        knots[i : i + 2] = [((x0 * n0 + x1 * n1) / (n0 + n1), (y0 * n0 + y1 * n1) / (n0 + n1), n0 + n1)]
    points = [(round(x, 4), round(y, 4)) for x, y, _ in knots]
    if len(points) == 1:
        points = [(0.0, points[0][1]), (1.0, points[0][1])]
    return points


def propose(rows: Sequence[EvalRow], labels: Sequence[str], tolerance: float, min_samples: int) -> list[LabelProposal]:
    proposals = []
    for label in labels:
        predicted = [r for r in rows if r.predicted == label and r.reported_confidence is not None]
        pairs = [(float(r.reported_confidence or 0.0), r.truth == label) for r in predicted]
        points = fit_calibration(pairs) if len(pairs) >= 2 else []
        scored = sorted(((calibrate(x, points), ok) for x, ok in pairs), reverse=True)
        best: tuple[float, float, float, int] | None = None
        best_bound = 0.0
        hits = 0
        for i, (confidence, ok) in enumerate(scored, start=1):  # lowering the threshold one prediction at a time
            hits += ok
            is_last_at_value = i == len(scored) or scored[i][0] < confidence
            if not is_last_at_value:
                continue
            lower = wilson_lower_bound(hits, i)
            best_bound = max(best_bound, lower)
            if i >= min_samples and lower >= 1 - tolerance:
                best = (confidence, hits / i, lower, i)
        if best is None:
            proposals.append(LabelProposal(label, len(pairs), points, None, None, None, 0.0, round(best_bound, 4)))
        else:
            threshold, precision, lower, n_auto = best
            share = n_auto / len(pairs)
            proposals.append(LabelProposal(label, len(pairs), points, round(threshold, 4), precision, lower, share))
    return proposals


def policy_yaml() -> Any:
    """The round-trip YAML settings the shipped policy file is written in (so edits diff cleanly)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # flow collections stay on their line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def policy_change(policy_path: Path, workflow: str, task: str, proposals: Sequence[LabelProposal]) -> tuple[str, str]:
    """(the new policy text, a unified diff against the current one). Comments are kept (ruamel)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = policy_yaml()
    original = policy_path.read_text(encoding="utf-8")
    data: Any = yaml.load(original)
    spec = data["workflows"][workflow]["tasks"][task]
    thresholds = spec.setdefault("thresholds", CommentedMap())
    per_label = thresholds.setdefault("per_label", CommentedMap())
    calibration = CommentedMap()
    rules = data["workflows"][workflow].setdefault("rules", CommentedMap())
    always = rules.setdefault("always_review", CommentedMap())
    review = list(always.get(task, []) or [])
    for proposal in proposals:
        if proposal.threshold is None:
            per_label.pop(proposal.label, None)
            if proposal.label not in review:
                review.append(proposal.label)
            continue
        per_label[proposal.label] = proposal.threshold
        if proposal.calibration:
            points = CommentedSeq([CommentedSeq(list(p)) for p in proposal.calibration])
            for point in points:
                point.fa.set_flow_style()
            points.fa.set_flow_style()
            calibration[proposal.label] = points
    spec["calibration"] = calibration
    always[task] = CommentedSeq(review)
    always[task].fa.set_flow_style()
    out = io.StringIO()
    yaml.dump(data, out)
    changed = out.getvalue()
    diff = "".join(
        difflib.unified_diff(
            original.splitlines(True), changed.splitlines(True), str(policy_path), f"{policy_path} (calibrated)"
        )
    )
    return changed, diff
