"""What to write for a decision: pure mapping from labels to vendor fields, per the policy and the mode.

A plan names each field it writes in one flat vocabulary (``group_id``, ``priority``, ``type``,
``custom_field:<id>`` for Zendesk; the property name for HubSpot), so that fields a human owns can be
taken out of it (``WritePlan.without``) and the note can say which were kept.

Signals (sentiment, urgency) are written as tags on Zendesk (``ai_sentiment_<value>``, ``ai_urgent``: added,
never replacing the list) and stated in the note on both vendors: HubSpot's write-back sets properties and a
note, and has no tags to add to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from msgspec import field
from msgspec.structs import replace

from triage_gate.messages import DecisionMessage, DecisionSignals
from triage_gate.policy import Workflow
from triage_gate.policy_language import LanguagePolicy
from triage_gate.writeback.note_phrases import NotePhrases, note_language, note_phrases

NOTE_MARKER = "triage-gate decision"
CUSTOM_FIELD = "custom_field:"


class HumanChange(msgspec.Struct, frozen=True):
    """A field a person set on the ticket: the AI never writes it again unless a reviewer says so."""

    field: str
    value: Any
    by: str | None = None
    at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "by": self.by, "at": self.at}


class WritePlan(msgspec.Struct, frozen=True):
    source: str
    ticket_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # flat names (see the module doc) → value
    tags: list[str] = field(default_factory=list)  # Zendesk only: added, never replacing the list
    note: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.fields or self.tags or self.note)

    def without(self, names: Iterable[str]) -> WritePlan:
        dropped = set(names)
        return replace(self, fields={k: v for k, v in self.fields.items() if k not in dropped})

    def without_note(self) -> WritePlan:
        return replace(self, note=None)


def decision_ref(decision_id: str) -> str:
    """A short stable reference printed in the note, used to find a note we already wrote."""
    return hashlib.sha256(decision_id.encode()).hexdigest()[:12]


def plan_writeback(
    message: DecisionMessage, workflow: Workflow, kept: Mapping[str, HumanChange] | None = None
) -> WritePlan:
    """The fields, tags and note for ``message``; fields in ``kept`` (a human owns them) are left alone."""
    if message.mode == "shadow":  # shadow writes nothing, whatever the action says
        return WritePlan(message.source, message.ticket_id)
    kept = kept or {}
    wants_note = workflow.writeback.note or message.mode == "assist"
    note = note_text(message, kept, workflow.language) if wants_note else None
    if message.mode != "auto":  # assist: a suggestion in a note; the fields stay as they are
        return WritePlan(message.source, message.ticket_id, note=note)
    if message.source == "zendesk":
        fields, tags = _zendesk_fields(message, workflow)
        tags.insert(0, workflow.writeback.marker_tag)
        tags.extend(t for t in signal_tags(message.signals) if t not in tags)
    else:
        fields, tags = _hubspot_fields(message, workflow), []
    plan = WritePlan(message.source, message.ticket_id, fields=fields, tags=tags, note=note)
    return plan.without(kept)


def _zendesk_fields(message: DecisionMessage, workflow: Workflow) -> tuple[dict[str, Any], list[str]]:
    fields: dict[str, Any] = {}
    tags: list[str] = []
    for task, label in message.labels.items():
        mapped = workflow.writeback.zendesk.get(task, {}).get(label or "")
        if mapped is None:
            continue
        fields.update({
            name: value for name in mapped.field_names()
            if name not in ("tags", "custom_fields") and (value := getattr(mapped, name)) is not None
        })  # fmt: skip
        fields.update({f"{CUSTOM_FIELD}{k}": v for k, v in mapped.custom_fields.items()})
        tags.extend(t for t in mapped.tags if t not in tags)
    return fields, tags


def _hubspot_fields(message: DecisionMessage, workflow: Workflow) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for task, label in message.labels.items():
        mapped = workflow.writeback.hubspot.get(task, {}).get(label or "")
        if mapped is not None:
            fields.update(mapped.properties)
    return fields


def zendesk_ticket_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The flat plan fields as Zendesk's ticket object spells them (custom fields as a list of {id, value})."""
    ticket = {k: v for k, v in fields.items() if not k.startswith(CUSTOM_FIELD)}
    custom = [
        {"id": int(k.removeprefix(CUSTOM_FIELD)), "value": v} for k, v in fields.items() if k.startswith(CUSTOM_FIELD)
    ]
    if custom:
        ticket["custom_fields"] = custom
    return ticket


def signal_tags(signals: DecisionSignals | None) -> list[str]:
    """``ai_sentiment_<value>`` and ``ai_urgent`` (only when urgent): what Zendesk views and triggers match on."""
    if signals is None:
        return []
    tags = [f"ai_sentiment_{signals.sentiment}"] if signals.sentiment else []
    return [*tags, "ai_urgent"] if signals.urgent else tags


def note_text(
    message: DecisionMessage, kept: Mapping[str, HumanChange] | None = None, language: LanguagePolicy | None = None
) -> str:
    """The internal note, in the language the workflow's ``language.note_language`` asks for (note_phrases)."""
    words = note_phrases(note_language(language or LanguagePolicy(), message.language))
    lines = [words.applied if message.mode == "auto" else words.suggests]
    for task, label in message.labels.items():
        if task in message.corrected_tasks:
            lines.append(f"- {task}: {label} ({words.set_by_reviewer})")
            continue
        confidence = message.confidence.get(task)
        shown = f"{confidence:.2f}" if confidence is not None else words.not_available
        lines.append(f"- {task}: {label} ({words.calibrated_confidence} {shown})")
    if message.language:
        lines.append(f"{words.language}: {message.language}")
    if message.signals and (said := _signal_line(message.signals, words)):
        lines.append(said)
    if message.reason_codes:
        lines.append(f"{words.needs_human} " + "; ".join(words.reason(r) for r in message.reason_codes))
    if kept:
        lines.append(f"{words.kept} " + ", ".join(sorted(kept)))
    lines.append(f"({NOTE_MARKER} {decision_ref(message.decision_id)}, policy {message.policy_version})")
    return "\n".join(lines)


def _signal_line(signals: DecisionSignals, words: NotePhrases) -> str:
    parts = []
    if signals.sentiment:
        parts.append(f"{words.sentiment}: {words.sentiments.get(signals.sentiment, signals.sentiment)}")
    if signals.urgent is not None:
        parts.append(f"{words.urgent}: {words.yes if signals.urgent else words.no}")
    return " · ".join(parts)
