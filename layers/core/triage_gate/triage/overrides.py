"""Override and agreement detection: a human later changed a field the system set (or, in shadow,
set it differently from the decision). Our own write-backs echo the system's value and never count."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from triage_gate.messages import TicketEvent
from triage_gate.policy import Workflow
from triage_gate.triage.decision import DecisionRecord

# Zendesk update events → the ticket field they change (the event's detail carries the new value).
ZENDESK_FIELD_EVENTS = {
    "ticket.priority_changed": "priority",
    "ticket.group_assignment_changed": "group_id",
    "ticket.type_changed": "type",
}

Kind = Literal["override", "shadow_agreement", "shadow_disagreement"]


class Finding(msgspec.Struct, frozen=True):
    kind: Kind
    task: str
    field: str
    system_label: str | None
    system_value: Any
    human_value: Any
    human_label: str | None

    def as_dict(self, event: TicketEvent) -> dict[str, Any]:
        return {
            "kind": self.kind, "task": self.task, "field": self.field, "system_label": self.system_label,
            "system_value": self.system_value, "human_value": self.human_value, "human_label": self.human_label,
            "event_id": event.event_id, "at": event.occurred_at.isoformat(),
        }  # fmt: skip


def changed_field(event: TicketEvent) -> tuple[str, Any] | None:
    """(field, new value) of an update event, in the vocabulary of the write-back mapping."""
    if event.source == "zendesk":
        name = ZENDESK_FIELD_EVENTS.get(event.event_type)
        if name is None:
            return None
        value = event.fields.get(name, event.changes.get("current"))
        return name, _normalise(value)
    prop = event.changes.get("property")
    return (str(prop), event.changes.get("value")) if prop else None


def detect(event: TicketEvent, record: DecisionRecord, workflow: Workflow) -> list[Finding]:
    change = changed_field(event)
    if change is None:
        return []
    field_name, human_value = change
    findings = []
    for task, label in record.labels.items():
        mapping = _mapping(workflow, event.source, task)
        values = {lbl: _field_value(m, field_name) for lbl, m in mapping.items()}
        if not any(v is not None for v in values.values()):
            continue  # this task's labels do not set the changed field
        system_value = values.get(label or "")
        if record.mode == "shadow":
            kind: Kind = "shadow_agreement" if system_value == human_value else "shadow_disagreement"
        elif record.action == "apply" and system_value is not None and system_value != human_value:
            kind = "override"
        else:
            continue  # our own write-back echoing, or a field we never set on this ticket
        human_labels = [lbl for lbl, v in values.items() if v == human_value]
        human_label = human_labels[0] if len(human_labels) == 1 else None
        findings.append(Finding(kind, task, field_name, label, system_value, human_value, human_label))
    return findings


def _mapping(workflow: Workflow, source: str, task: str) -> dict[str, Any]:
    if source == "zendesk":
        return dict(workflow.writeback.zendesk.get(task, {}))
    return dict(workflow.writeback.hubspot.get(task, {}))


def _field_value(mapped: Any, field_name: str) -> Any:
    if hasattr(mapped, "properties"):
        return mapped.properties.get(field_name)
    value = getattr(mapped, field_name, None)
    return _normalise(value)


def _normalise(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.lower() if isinstance(value, str) and not value.isdigit() else value
