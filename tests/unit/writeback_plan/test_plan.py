"""What write-back plans to write in each mode (Zendesk fields and tags, HubSpot properties), what it
leaves out (unmapped labels, fields a person set), and how the note marks a reviewer's answer."""

from __future__ import annotations

from typing import Any

from tests.unit.writeback_plan.conftest import ZENDESK_CATEGORY_FIELD, message, workflow
from triage_gate.writeback.plan import (
    HumanChange,
    note_text,
    plan_writeback,
    zendesk_ticket_fields,
)


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
    corrected = corrected.replace(**{"corrected_tasks": ["priority"], "authority": "reviewer"})

    text = note_text(corrected)

    assert "- priority: high (set by reviewer)" in text
    assert "0.40" not in text
    assert "- category: bug (calibrated confidence 0.91)" in text
