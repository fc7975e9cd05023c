"""Map a ticket's vendor fields back to the label a human gave, by inverting the policy's write-back mapping.

For each task, every label's write-back maps it to vendor fields (Zendesk ``group_id``, ``type``,
``priority``, ``custom_fields``; HubSpot ``properties``). Tags are ours (the write-back adds them), so they
never count. A label matches a ticket when no mapped field present on the ticket contradicts it; its score
is the number of mapped fields that equal the ticket's. The unique best label with score ≥ 1 wins. A tie,
or no match, leaves the label empty and keeps the raw values (``group_id=36002119 (ambiguous:
account_access|how_to)``) so they can be counted. Fields absent from the ticket (a human never set them)
neither support nor contradict a label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from triage_gate.policy import Workflow

CUSTOM_FIELD_PREFIX = "custom_fields."


def field_text(value: object) -> str:
    """One spelling for a vendor value: JSON's booleans, everything else as ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class LabelMatch:
    """What the fields say about one task: a label, raw values that map to none, or nothing set."""

    outcome: Literal["mapped", "unmapped", "not_set"]
    label: str = ""
    raw: str = ""  # the task's fields as found, when unmapped (with the tied labels, when ambiguous)


@dataclass(frozen=True)
class TaskMapping:
    """One task's write-back, inverted: label → the vendor fields (name → value) it sets."""

    task: str
    labels: dict[str, dict[str, str]]

    @property
    def fields(self) -> list[str]:
        """Every vendor field some label of this task sets, sorted."""
        return sorted({name for fields in self.labels.values() for name in fields})

    def match(self, ticket_fields: Mapping[str, str]) -> LabelMatch:
        present = {name: ticket_fields[name] for name in self.fields if ticket_fields.get(name, "") != ""}
        if not present:
            return LabelMatch("not_set")
        scores = {label: _score(mapped, present) for label, mapped in self.labels.items()}
        best = max((s for s in scores.values() if s is not None), default=0)
        winners = sorted(label for label, s in scores.items() if s is not None and s == best)
        raw = ", ".join(f"{name}={value}" for name, value in present.items())
        if best >= 1 and len(winners) == 1:
            return LabelMatch("mapped", label=winners[0])
        if best >= 1:
            return LabelMatch("unmapped", raw=f"{raw} (ambiguous: {'|'.join(winners)})")
        return LabelMatch("unmapped", raw=raw)


def _score(mapped: Mapping[str, str], present: Mapping[str, str]) -> int | None:
    """How many of the label's fields the ticket has with the same value; None when one contradicts it."""
    score = 0
    for name, value in mapped.items():
        if name not in present:
            continue
        if present[name] != value:
            return None
        score += 1
    return score


def task_mappings(workflow: Workflow) -> dict[str, TaskMapping]:
    """Every task of the workflow (in policy order), with its inverted write-back for the workflow's source.
    A task without a write-back mapping gets no labels: its column stays empty."""
    mappings: dict[str, TaskMapping] = {}
    for task in workflow.tasks:
        if workflow.source == "zendesk":
            labels = {
                label: zendesk_fields({k: v for k, v in fields.to_data().items() if v is not None})
                for label, fields in workflow.writeback.zendesk.get(task, {}).items()
            }
        else:
            labels = {
                label: {name: field_text(value) for name, value in fields.properties.items()}
                for label, fields in workflow.writeback.hubspot.get(task, {}).items()
            }
        mappings[task] = TaskMapping(task, labels)
    return mappings


def zendesk_fields(dumped: Mapping[str, object]) -> dict[str, str]:
    """A policy label's Zendesk fields as flat ``name → value`` (custom fields as ``custom_fields.<id>``;
    tags dropped: they are ours)."""
    flat: dict[str, str] = {}
    for name, value in dumped.items():
        if name == "tags" or value is None:
            continue
        if name == "custom_fields" and isinstance(value, Mapping):
            flat.update({f"{CUSTOM_FIELD_PREFIX}{key}": field_text(v) for key, v in value.items()})
        else:
            flat[name] = field_text(value)
    return flat


def routing_properties(workflow: Workflow) -> list[str]:
    """HubSpot properties a label maps to (category, priority…): the routing fields besides the owner."""
    names = {name for labels in workflow.writeback.hubspot.values() for f in labels.values() for name in f.properties}
    return sorted(names)
