"""What write-back writes for a decision (pure planning from the policy), and what the policy refuses to map."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from triage_gate import cli
from triage_gate.errors import ConfigurationError
from triage_gate.policy import DEFAULT_POLICY_PATH, Policy, Workflow, load_policy
from triage_gate.triage.decision import DecisionMessage, DecisionRecord, TaskDecision
from triage_gate.writeback.plan import (
    NOTE_MARKER,
    HumanChange,
    decision_ref,
    note_text,
    plan_writeback,
    zendesk_ticket_fields,
)

DECISION_ID = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
ZENDESK_CATEGORY_FIELD = 360011112222


# ---------------------------------------------------------------- helpers
def raw_policy() -> dict[str, Any]:
    """The shipped policy.yaml as plain data, to modify one thing at a time."""
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def validated(data: dict[str, Any]) -> Policy:
    return Policy.model_validate({**data, "base_dir": str(DEFAULT_POLICY_PATH.parent)})


def workflow(name: str, change: Any = None) -> Workflow:
    """A workflow of the shipped policy, optionally after ``change(raw_workflow_dict)``."""
    data = raw_policy()
    if change is not None:
        change(data["workflows"][name])
    return validated(data).workflows[name]


def message(
    *,
    source: str = "zendesk",
    workflow: str = "zendesk-support",
    mode: str = "auto",
    labels: dict[str, str | None] | None = None,
    confidence: dict[str, float | None] | None = None,
    reason_codes: list[str] | None = None,
    decision_id: str = DECISION_ID,
) -> DecisionMessage:
    labels = labels if labels is not None else {"category": "bug", "priority": "high"}
    return DecisionMessage(
        decision_id=decision_id,
        correlation_id=f"{source}:40198",
        workflow=workflow,
        source=source,
        account_id="90817263",
        ticket_id="40198",
        action="apply",
        mode=mode,  # type: ignore[arg-type]
        labels=labels,
        confidence=confidence if confidence is not None else dict.fromkeys(labels, 0.91),
        reason_codes=reason_codes or [],
        policy_version="2026-11-27.1",
        decided_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    )


def rejected(tmp_path: Path, data: dict[str, Any]) -> str:
    """load_policy on a modified copy of the YAML: the ConfigurationError's text."""
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_policy(file)
    return str(raised.value)


# ---------------------------------------------------------------- Zendesk, auto mode
def test_auto_mode_sets_zendesk_group_type_priority_and_category_field():
    plan = plan_writeback(message(labels={"category": "bug", "priority": "high"}), workflow("zendesk-support"))

    assert plan.source == "zendesk"
    assert plan.ticket_id == "40198"
    assert zendesk_ticket_fields(plan.fields) == {
        "group_id": 36002118,
        "type": "problem",
        "priority": "high",
        "custom_fields": [{"id": ZENDESK_CATEGORY_FIELD, "value": "bug"}],
    }
    assert plan.tags == ["ai_triaged", "ai_bug"]


def test_auto_mode_puts_the_marker_tag_first_when_the_policy_renames_it():
    def rename(wf: dict[str, Any]) -> None:
        wf["writeback"]["marker_tag"] = "triaged_by_ai"

    plan = plan_writeback(
        message(labels={"category": "billing", "priority": "low"}), workflow("zendesk-support", rename)
    )

    assert plan.tags == ["triaged_by_ai", "ai_billing"]
    assert plan.fields["group_id"] == 36002117
    assert "type" not in plan.fields  # billing maps no ticket type: the agent's type is left alone


def test_auto_mode_merges_custom_fields_mapped_by_two_tasks():
    def priority_field(wf: dict[str, Any]) -> None:
        wf["writeback"]["zendesk"]["priority"]["urgent"] = {"priority": "urgent", "custom_fields": {360099990000: "p1"}}

    plan = plan_writeback(
        message(labels={"category": "security", "priority": "urgent"}), workflow("zendesk-support", priority_field)
    )

    assert sorted(zendesk_ticket_fields(plan.fields)["custom_fields"], key=lambda f: f["id"]) == [
        {"id": ZENDESK_CATEGORY_FIELD, "value": "security"},
        {"id": 360099990000, "value": "p1"},
    ]
    assert plan.fields["priority"] == "urgent"


def test_auto_mode_writes_an_internal_note_alongside_the_fields():
    plan = plan_writeback(message(), workflow("zendesk-support"))

    assert plan.note is not None
    assert plan.note.startswith("AI triage applied:")


def test_auto_mode_writes_no_note_when_the_policy_turns_notes_off():
    def no_note(wf: dict[str, Any]) -> None:
        wf["writeback"]["note"] = False

    plan = plan_writeback(message(), workflow("zendesk-support", no_note))

    assert plan.note is None
    assert plan.fields["group_id"] == 36002118


# ---------------------------------------------------------------- assist mode
def test_assist_mode_writes_only_a_note_and_leaves_fields_and_tags_alone():
    plan = plan_writeback(message(mode="assist"), workflow("zendesk-support"))

    assert plan.fields == {}
    assert plan.tags == []  # not even the marker tag
    assert plan.note is not None
    assert plan.note.startswith("AI triage suggests:")
    assert not plan.empty


def test_assist_mode_writes_the_suggestion_note_even_when_notes_are_off():
    def no_note(wf: dict[str, Any]) -> None:
        wf["writeback"]["note"] = False

    plan = plan_writeback(message(mode="assist"), workflow("zendesk-support", no_note))

    assert plan.fields == {}
    assert plan.note is not None  # in assist mode the note IS the write-back


def test_assist_mode_leaves_hubspot_properties_alone():
    msg = message(source="hubspot", workflow="hubspot-tickets", mode="assist",
                  labels={"category": "billing", "priority": "HIGH"})  # fmt: skip

    plan = plan_writeback(msg, workflow("hubspot-tickets"))

    assert plan.fields == {}
    assert plan.tags == []
    assert plan.note is not None


# ---------------------------------------------------------------- HubSpot, auto mode
def test_auto_mode_maps_labels_to_hubspot_ticket_properties():
    msg = message(source="hubspot", workflow="hubspot-tickets", labels={"category": "billing", "priority": "HIGH"})

    plan = plan_writeback(msg, workflow("hubspot-tickets"))

    assert plan.fields == {
        "hs_ticket_category": "BILLING_ISSUE",
        "ai_triage_category": "billing",
        "hs_ticket_priority": "HIGH",
    }
    assert plan.tags == []  # HubSpot tickets get no Zendesk marker tag
    assert plan.note is not None


# ---------------------------------------------------------------- labels without a mapping
def test_label_without_mapping_writes_nothing_for_it():
    def drop_urgent(wf: dict[str, Any]) -> None:
        del wf["writeback"]["zendesk"]["priority"]["urgent"]

    plan = plan_writeback(
        message(labels={"category": "how_to", "priority": "urgent"}), workflow("zendesk-support", drop_urgent)
    )

    assert "priority" not in plan.fields
    assert plan.fields["group_id"] == 36002119  # the mapped label is still written
    assert plan.fields["type"] == "question"


def test_task_without_a_label_writes_nothing_for_that_task():
    plan = plan_writeback(message(labels={"category": None, "priority": "low"}), workflow("zendesk-support"))

    assert plan.fields == {"priority": "low"}
    assert plan.tags == ["ai_triaged"]


def test_hubspot_label_without_mapping_writes_nothing_for_it():
    def drop_billing(wf: dict[str, Any]) -> None:
        del wf["writeback"]["hubspot"]["category"]["billing"]

    msg = message(source="hubspot", workflow="hubspot-tickets", labels={"category": "billing", "priority": "LOW"})

    plan = plan_writeback(msg, workflow("hubspot-tickets", drop_billing))

    assert plan.fields == {"hs_ticket_priority": "LOW"}


# ---------------------------------------------------------------- the note
def test_note_names_labels_calibrated_confidence_reasons_in_plain_words_and_the_decision_ref():
    msg = message(
        mode="assist",
        labels={"category": "refund", "priority": "normal"},
        confidence={"category": 0.734, "priority": 0.5},
        reason_codes=["low_confidence", "vip_customer"],
    )

    text = note_text(msg)

    assert "category: refund (calibrated confidence 0.73)" in text
    assert "priority: normal (calibrated confidence 0.50)" in text
    assert "the model was not confident enough for this label" in text
    assert "the customer's tier is handled by a person" in text
    assert f"{NOTE_MARKER} {decision_ref(DECISION_ID)}" in text
    assert "policy 2026-11-27.1" in text


def test_note_shows_the_calibrated_not_the_reported_confidence():
    created = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    record = DecisionRecord(
        decision_id=DECISION_ID, correlation_id="zendesk:40198", source="zendesk", account_id="90817263",
        ticket_id="40198", event_id="e1", event_type="ticket.created", workflow="zendesk-support",
        policy_version="2026-11-27.1", policy_sha256="0" * 64, prompt_version="classify-v1", created_at=created,
        occurred_at=created, mode="auto", action="apply", proposed_action="apply", input_hash="0" * 64,
        tasks={"category": TaskDecision(label="bug", reported_confidence=0.97, calibrated_confidence=0.81,
                                        threshold=0.7, route="haiku", model="claude-haiku-4-5")},
    )  # fmt: skip

    text = note_text(DecisionMessage.from_record(record))

    assert "category: bug (calibrated confidence 0.81)" in text
    assert "0.97" not in text


def test_note_says_na_when_a_task_has_no_confidence():
    text = note_text(message(labels={"category": "bug"}, confidence={"category": None}))

    assert "category: bug (calibrated confidence n/a)" in text


def test_note_keeps_an_unknown_reason_code_as_is():
    text = note_text(message(reason_codes=["some_new_reason"]))

    assert "Needs a human because: some_new_reason" in text


def test_note_without_reasons_says_nothing_about_a_human():
    assert "Needs a human" not in note_text(message(reason_codes=[]))


def test_decision_ref_is_stable_and_distinct_per_decision():
    ref = decision_ref(DECISION_ID)

    assert ref == decision_ref(DECISION_ID)
    assert len(ref) == 12
    assert ref != decision_ref(DECISION_ID + "x")
    assert DECISION_ID not in note_text(message())  # the note shows the short ref, not the raw event key


# ---------------------------------------------------------------- policy validation
def test_shipped_policy_maps_writeback_for_both_workflows():
    policy = load_policy()

    assert policy.workflows["zendesk-support"].writeback.zendesk["category"]["bug"].group_id == 36002118
    assert "ai_triage_category" in policy.workflows["hubspot-tickets"].writeback.hubspot_custom_properties


def test_policy_rejects_an_unknown_zendesk_field_key_naming_its_path(tmp_path):
    data = raw_policy()
    data["workflows"]["zendesk-support"]["writeback"]["zendesk"]["category"]["bug"]["assignee_email"] = "a@b.c"

    error = rejected(tmp_path, data)

    assert "workflows.zendesk-support.writeback.zendesk.category.bug.assignee_email" in error
    assert "Extra inputs are not permitted" in error


def test_policy_rejects_an_invalid_zendesk_priority_naming_its_path(tmp_path):
    data = raw_policy()
    data["workflows"]["zendesk-support"]["writeback"]["zendesk"]["priority"]["urgent"] = {"priority": "critical"}

    error = rejected(tmp_path, data)

    assert "workflows.zendesk-support.writeback.zendesk.priority.urgent.priority" in error


def test_policy_rejects_an_unknown_hubspot_property_naming_its_path(tmp_path):
    data = raw_policy()
    data["workflows"]["hubspot-tickets"]["writeback"]["hubspot"]["priority"]["HIGH"]["properties"]["ai_urgency"] = "x"

    error = rejected(tmp_path, data)

    assert "workflows.hubspot-tickets" in error
    assert "writeback.hubspot.priority.HIGH" in error
    assert "ai_urgency" in error


def test_policy_rejects_a_custom_hubspot_property_once_its_declaration_is_removed(tmp_path):
    data = raw_policy()
    data["workflows"]["hubspot-tickets"]["writeback"]["hubspot_custom_properties"] = []

    error = rejected(tmp_path, data)

    assert "workflows.hubspot-tickets" in error
    assert "ai_triage_category" in error
    assert "hubspot_custom_properties" in error


def test_policy_accepts_a_custom_hubspot_property_declared_in_hubspot_custom_properties():
    data = raw_policy()
    writeback = data["workflows"]["hubspot-tickets"]["writeback"]
    writeback["hubspot_custom_properties"] = [*writeback["hubspot_custom_properties"], "ai_urgency"]
    writeback["hubspot"]["priority"]["HIGH"]["properties"]["ai_urgency"] = "soon"

    policy = validated(data)

    mapped = policy.workflows["hubspot-tickets"].writeback.hubspot["priority"]["HIGH"].properties
    assert mapped == {"hs_ticket_priority": "HIGH", "ai_urgency": "soon"}


def test_policy_rejects_a_mapping_for_a_label_not_in_the_taxonomy(tmp_path):
    data = raw_policy()
    data["workflows"]["zendesk-support"]["writeback"]["zendesk"]["category"]["spam"] = {"tags": ["ai_spam"]}

    error = rejected(tmp_path, data)

    assert "workflows.zendesk-support" in error
    assert "writeback.zendesk.category maps labels not in the taxonomy" in error
    assert "spam" in error


def test_policy_rejects_a_hubspot_mapping_for_a_label_not_in_the_taxonomy(tmp_path):
    data = raw_policy()
    mapping = data["workflows"]["hubspot-tickets"]["writeback"]["hubspot"]["priority"]
    mapping["CRITICAL"] = {"properties": {"hs_ticket_priority": "URGENT"}}

    error = rejected(tmp_path, data)

    assert "workflows.hubspot-tickets" in error
    assert "writeback.hubspot.priority maps labels not in the taxonomy" in error
    assert "CRITICAL" in error


def test_policy_rejects_a_mapping_for_an_unknown_task(tmp_path):
    data = raw_policy()
    data["workflows"]["zendesk-support"]["writeback"]["zendesk"]["sentiment"] = {"angry": {"priority": "high"}}

    error = rejected(tmp_path, data)

    assert "workflows.zendesk-support" in error
    assert "writeback.zendesk.sentiment: no such task" in error


def test_policy_rejects_fields_of_the_other_vendor(tmp_path):
    data = raw_policy()
    zendesk = data["workflows"]["zendesk-support"]["writeback"]
    zendesk["hubspot"] = copy.deepcopy(data["workflows"]["hubspot-tickets"]["writeback"]["hubspot"])

    error = rejected(tmp_path, data)

    assert "workflows.zendesk-support" in error
    assert "other vendor" in error


def test_policy_check_command_fails_on_an_unknown_field_and_prints_its_path(tmp_path, capsys):
    data = raw_policy()
    data["workflows"]["zendesk-support"]["writeback"]["zendesk"]["category"]["bug"]["status"] = "solved"
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    code = cli.main(["policy", "check", str(file)])

    assert code == 1
    assert "workflows.zendesk-support.writeback.zendesk.category.bug.status" in capsys.readouterr().err


# ---------------------------------------------------------------- a human's change is final
def test_fields_a_person_set_are_left_out_of_the_plan_and_named_in_the_note():
    kept = {"priority": HumanChange("priority", "urgent", "9182", "2026-11-27T12:01:00Z")}

    plan = plan_writeback(message(labels={"category": "bug", "priority": "high"}), workflow("zendesk-support"), kept)

    assert "priority" not in plan.fields
    assert plan.fields["group_id"] == 36002118  # the rest is still applied
    assert plan.note is not None
    assert "Kept what a person set: priority" in plan.note


def test_note_says_set_by_reviewer_for_a_corrected_task_instead_of_a_confidence():
    corrected = message(labels={"category": "bug", "priority": "high"}, confidence={"category": 0.91, "priority": 0.4})
    corrected = corrected.model_copy(update={"corrected_tasks": ["priority"], "authority": "reviewer"})

    text = note_text(corrected)

    assert "- priority: high (set by reviewer)" in text
    assert "0.40" not in text
    assert "- category: bug (calibrated confidence 0.91)" in text
