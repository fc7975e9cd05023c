"""What to write for a decision: pure mapping from labels to vendor fields, per the policy and the mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage_gate.policy import Workflow
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionMessage

NOTE_MARKER = "triage-gate decision"


@dataclass(frozen=True)
class WritePlan:
    source: str
    ticket_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # Zendesk ticket fields / HubSpot properties
    tags: list[str] = field(default_factory=list)  # Zendesk only: added, never replacing the list
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.fields or self.tags or self.note)


def decision_ref(decision_id: str) -> str:
    """A short stable reference printed in the note, used to find a note we already wrote."""
    import hashlib

    return hashlib.sha256(decision_id.encode()).hexdigest()[:12]


def plan_writeback(message: DecisionMessage, workflow: Workflow) -> WritePlan:
    if message.mode == "shadow":  # shadow writes nothing, whatever the action says
        return WritePlan(message.source, message.ticket_id)
    note = note_text(message) if workflow.writeback.note or message.mode == "assist" else None
    if message.mode != "auto":  # assist: a suggestion in a note; the fields stay as they are
        return WritePlan(message.source, message.ticket_id, note=note)
    fields: dict[str, Any] = {}
    tags: list[str] = []
    if message.source == "zendesk":
        for task, label in message.labels.items():
            mapped = workflow.writeback.zendesk.get(task, {}).get(label or "")
            if mapped is None:
                continue
            values = mapped.model_dump(exclude_none=True, exclude={"tags", "custom_fields"})
            fields.update(values)
            if mapped.custom_fields:
                existing = {f["id"]: f for f in fields.get("custom_fields", [])}
                existing.update({k: {"id": k, "value": v} for k, v in mapped.custom_fields.items()})
                fields["custom_fields"] = list(existing.values())
            tags.extend(t for t in mapped.tags if t not in tags)
        tags.insert(0, workflow.writeback.marker_tag)
    else:
        for task, label in message.labels.items():
            mapped_hs = workflow.writeback.hubspot.get(task, {}).get(label or "")
            if mapped_hs is not None:
                fields.update(mapped_hs.properties)
    return WritePlan(message.source, message.ticket_id, fields=fields, tags=tags, note=note)


def note_text(message: DecisionMessage) -> str:
    verb = "applied" if message.mode == "auto" else "suggests"
    lines = [f"AI triage {verb}:"]
    for task, label in message.labels.items():
        confidence = message.confidence.get(task)
        shown = f"{confidence:.2f}" if confidence is not None else "n/a"
        lines.append(f"- {task}: {label} (calibrated confidence {shown})")
    if message.reason_codes:
        lines.append(
            "Needs a human because: " + "; ".join(reasons.DESCRIPTIONS.get(r, r) for r in message.reason_codes)
        )
    lines.append(f"({NOTE_MARKER} {decision_ref(message.decision_id)}, policy {message.policy_version})")
    return "\n".join(lines)
