"""A calibration proposal (:mod:`triage_tools.evaluation.calibrate`) for people and for JSON: the pooled
threshold, then one row per label with its evidence, so a weak label is visible."""

from __future__ import annotations

from typing import Any

from triage_gate.display import percent, text_table
from triage_tools.evaluation.calibrate import CalibrationProposal, Evidence, LabelProposal

__all__ = ["FEW_POOLED_LABELS", "proposal_dict", "proposal_lines"]

FEW_POOLED_LABELS = 3
"""Below this many labels with predictions, the pooled threshold is flagged: its evidence hardly pools."""

_APPLIES = {"own": "own", "pooled": "pooled", "always_review": "always review"}


def _evidence(found: Evidence | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"threshold": found.threshold, "n": found.n, "correct": found.correct, "precision": found.precision,
            "wilson_low": found.lower, "wilson_high": found.upper}  # fmt: skip


def proposal_dict(proposal: CalibrationProposal) -> dict[str, Any]:
    """JSON-ready: the pooled curve and threshold, and per label its evidence and which threshold applies."""
    pooled = proposal.pooled
    return {
        "tolerance": proposal.tolerance,
        "min_samples": proposal.needed,
        "rows": proposal.rows,
        "coverage": proposal.coverage,
        "pooled": {"n": pooled.n, "labels_with_predictions": pooled.labels_with_predictions,
                   "calibration": pooled.calibration, "threshold": pooled.threshold,
                   "evidence": _evidence(pooled.evidence), "best_lower_bound": pooled.best_lower_bound,
                   "left_out": pooled.left_out},
        "labels": {p.label: {"n": p.n, "correct": p.correct, "applies": p.applies, "why": p.why,
                             "threshold": p.threshold, "auto_share": p.auto_share, "evidence": _evidence(p.evidence)}
                   for p in proposal.labels},
    }  # fmt: skip


def _pooled_line(proposal: CalibrationProposal) -> str:
    pooled, bar = proposal.pooled, proposal.bar
    if pooled.threshold is None or pooled.evidence is None:
        return (
            f"pooled: no threshold meets {bar:.3f} over {pooled.n} predictions of {pooled.labels_with_predictions} "
            f"labels (best 95% lower bound {pooled.best_lower_bound:.3f}); labels without their own evidence stay "
            "at always review"
        )
    found = pooled.evidence
    return (
        f"pooled threshold {pooled.threshold:.4f} on calibrated confidence: {found.correct}/{found.n} right over "
        f"{pooled.labels_with_predictions} labels, precision {percent(found.precision)} "
        f"(95% Wilson {found.lower:.3f}..{found.upper:.3f}; {bar:.3f} needed)"
    )


def _label_row(p: LabelProposal) -> list[str]:
    found = p.evidence
    measured = found is not None and found.n > 0
    return [
        p.label, str(p.n), _APPLIES[p.applies], "-" if p.threshold is None else f"{p.threshold:.4f}",
        str(found.n) if found else "-", percent(found.precision) if found else "-",
        f"{found.lower:.3f}" if found and measured else "-", f"{found.upper:.3f}" if found and measured else "-",
        percent(p.auto_share),
    ]  # fmt: skip


def proposal_lines(proposal: CalibrationProposal) -> list[str]:
    """The terminal report: the pooled threshold, a row per label, why each always-review label is there."""
    pooled = proposal.pooled
    lines = [_pooled_line(proposal)]
    if pooled.left_out:
        lines.append(f"  not pooled (their own evidence fails): {', '.join(pooled.left_out)}")
    if pooled.threshold is not None and pooled.labels_with_predictions < FEW_POOLED_LABELS:
        lines.append(
            f"  note: the pooled evidence comes from {pooled.labels_with_predictions} label(s) only; calibrate on "
            "data that covers the taxonomy before trusting it for the others"
        )
    header = ["label", "predictions", "applies", "threshold", "above it", "precision", "95% low", "95% high",
              "auto share"]  # fmt: skip
    lines += ["  " + line for line in text_table(header, [_label_row(p) for p in proposal.labels])]
    lines += [f"  {p.label}: always review, {p.why}" for p in proposal.labels if p.applies == "always_review"]
    lines.append(f"coverage on the calibration rows (this task's thresholds alone): {percent(proposal.coverage)}")
    return lines
