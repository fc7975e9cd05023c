"""The rollout section of ``triage rollout status`` and ``triage report``: per workflow and segment, the current
mode, the evidence against the bar, the recommendation, the review load and the last changes — in the terminal
and as JSON (``rollout.json`` beside the ROI report).

Reads :mod:`triage_gate.rollout_status` and :mod:`triage_gate.rollout_gate`, the figures the weekly digest
posts. Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from triage_gate.display import MISSING, duration, integer, percent, text_table
from triage_gate.rollout_gate import recommend
from triage_gate.rollout_status import RolloutStatus, SegmentStatus, WorkflowRollout
from triage_tools.rollout.audit import AuditEntry

__all__ = ["RolloutView", "as_json", "terminal", "write_json"]

_SEGMENT_WIDTH = 40
_LEFT_OUT = {"outside_window": "outside the promotion window", "unknown_workflow": "of a workflow not in the policy"}


@dataclass
class RolloutView:
    status: RolloutStatus
    flags: str  # where the flags were read
    deployment: str | None = None  # a flag deployment in progress (AppConfig)
    changes: list[AuditEntry] = field(default_factory=list)  # newest first
    audit: str | None = None  # where the audit trail is
    audit_note: str | None = None  # why it could not be read, or how much of it could not be
    workflow: str | None = None  # only this workflow

    def workflows(self) -> list[WorkflowRollout]:
        items = self.status.workflows
        return [items[n] for n in sorted(items) if self.workflow in (None, n)]


def _clip(text: str, width: int = _SEGMENT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _agreement(rollout: WorkflowRollout, item: SegmentStatus) -> str:
    evidence = item.evidence
    if not evidence.shadow_findings:
        return MISSING
    measures = evidence.measures(rollout.z)
    return (
        f"{percent(measures['shadow_agreement'])} of {evidence.shadow_findings}"
        f" ({percent(measures['shadow_agreement_lower'])})"
    )


def _precision(rollout: WorkflowRollout, item: SegmentStatus) -> str:
    evidence = item.evidence
    if not evidence.applied:
        return MISSING
    measures = evidence.measures(rollout.z)
    bounds = f"{percent(measures['precision_lower'])}-{percent(measures['precision_upper'])}"
    return f"{percent(measures['precision'])} of {evidence.applied} ({bounds})"


def _workflow_lines(rollout: WorkflowRollout) -> list[str]:
    promotion = rollout.workflow.promotion
    head = (
        f"{rollout.name}: last {promotion.window_days} days; bar {percent(rollout.bar)}"
        f" (1 - error_tolerance {rollout.workflow.error_tolerance:g}), Wilson {percent(promotion.confidence, 0)}"
        + ("" if rollout.has_flag else f"; no flag: the policy's mode ({rollout.workflow.mode}) applies")
    )
    header = ["segment", "mode", "share", "decisions", "shadow agreement (lower)", "applied precision (lower-upper)",
              "next"]  # fmt: skip
    rows, notes = [], []
    for item in rollout.segments:
        advice = recommend(rollout, item)
        segment = item.segment
        share = f"{segment.share:g}%" if segment.share is not None else MISSING
        rows.append([_clip(segment.label), segment.mode or "retired", share, integer(item.evidence.decisions),
                     _agreement(rollout, item), _precision(rollout, item), advice.summary()])  # fmt: skip
        detail = "; ".join(advice.reasons)
        if advice.command:
            detail = f"{detail}; run: {advice.command}" if detail else f"run: {advice.command}"
        notes.append(f"  · {segment.label}: {advice.summary()}" + (f": {detail}" if detail else ""))
    return [head, *(f"  {line}" for line in text_table(header, rows, right_from=2)), *notes, _review_line(rollout)]


def _review_line(rollout: WorkflowRollout) -> str:
    review, sla = rollout.review, rollout.workflow.sla
    measures = review.measures(rollout.z)
    oldest = f" (oldest {duration(review.oldest_pending_minutes)})" if review.reviews_pending else ""
    load = review.reviews_answered + review.reviews_pending
    return (
        f"  reviews: {review.reviews_pending} waiting{oldest}; SLA misses {review.sla_misses} of {load}"
        f" ({percent(measures['sla_miss_rate'])}) against {sla.review_minutes} min,"
        f" max {percent(rollout.workflow.promotion.max_sla_miss_rate)}"
    )


def _change_line(entry: AuditEntry) -> str:
    share = ""
    if entry.share_after != entry.share_before:
        share = f" share {_share(entry.share_before)} -> {_share(entry.share_after)}"
    forced = f" FORCED (unmet: {'; '.join(entry.unmet)})" if entry.forced else ""
    reason = f' reason: "{entry.reason}"' if entry.reason else ""
    return (
        f"  {entry.at}  {entry.actor}  {entry.workflow} {entry.segment!r}: {entry.from_mode} -> {entry.to_mode}"
        f"{share} ({entry.kind}){forced}{reason}"
    )


def _share(value: float | None) -> str:
    return "all" if value is None else f"{value:g}%"


def terminal(view: RolloutView) -> str:
    """The rollout section as terminal text."""
    lines = [f"Rollout (flags: {view.flags})"]
    if view.deployment:
        lines.append(f"  in progress: {view.deployment}")
    for rollout in view.workflows():
        lines += ["", *_workflow_lines(rollout)]
    left_out = [f"{n} {_LEFT_OUT.get(why, why)}" for why, n in view.status.left_out.items()]
    if left_out:
        lines.append(f"\nDecisions left out: {', '.join(left_out)}")
    lines.append(f"\nLast changes ({view.audit or 'no audit trail'}):")
    lines += [_change_line(entry) for entry in view.changes] or ["  none recorded"]
    if view.audit_note:
        lines.append(f"  ({view.audit_note})")
    return "\n".join(lines)


def _segment_json(rollout: WorkflowRollout, item: SegmentStatus) -> dict[str, Any]:
    segment = item.segment
    return {
        "segment": segment.rule, "label": segment.label, "mode": segment.mode, "share": segment.share,
        "conditions": list(segment.conditions), "evidence": item.evidence.as_dict(rollout.z),
        "recommendation": recommend(rollout, item).as_dict(),
    }  # fmt: skip


def as_json(view: RolloutView) -> dict[str, Any]:
    """The rollout section as one JSON-ready dict (``triage rollout status --json``, ``rollout.json``)."""
    workflows = {}
    for rollout in view.workflows():
        workflow = rollout.workflow
        workflows[rollout.name] = {
            "has_flag": rollout.has_flag, "policy_mode": workflow.mode, "error_tolerance": workflow.error_tolerance,
            "bar": rollout.bar, "promotion": workflow.promotion.to_data(),
            "sla_review_minutes": workflow.sla.review_minutes, "all_segments": rollout.review.as_dict(rollout.z),
            "segments": [_segment_json(rollout, item) for item in rollout.segments],
        }  # fmt: skip
    return {
        "generated_at": view.status.now.isoformat(), "flags": view.flags, "deployment_in_progress": view.deployment,
        "workflows": workflows, "left_out": dict(view.status.left_out),
        "audit": {"where": view.audit, "note": view.audit_note, "last_changes": [asdict(e) for e in view.changes]},
    }  # fmt: skip


def write_json(out_dir: Path, view: RolloutView) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "rollout.json"
    path.write_text(json.dumps(as_json(view), indent=2, default=str) + "\n", encoding="utf-8")
    return path
