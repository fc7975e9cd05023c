"""Mapping a ticket's vendor fields back to the label a person gave, through the policy's write-back mapping."""

from __future__ import annotations

import pytest

from triage_gate.policy import Workflow, load_policy
from triage_tools.history.mapping import LabelMatch, TaskMapping, routing_properties, task_mappings


@pytest.fixture(scope="module")
def zendesk() -> Workflow:
    return load_policy().workflows["zendesk-support"]


@pytest.fixture(scope="module")
def hubspot() -> Workflow:
    return load_policy().workflows["hubspot-tickets"]


def category(workflow: Workflow) -> TaskMapping:
    return task_mappings(workflow)["category"]


def test_group_and_question_type_map_to_how_to(zendesk: Workflow) -> None:
    assert category(zendesk).match({"group_id": "36002119", "type": "question"}) == LabelMatch("mapped", "how_to")


def test_group_and_incident_type_map_to_account_access_because_incident_contradicts_how_to(zendesk: Workflow) -> None:
    assert category(zendesk).match({"group_id": "36002119", "type": "incident"}) == LabelMatch(
        "mapped", "account_access"
    )


def test_group_alone_shared_by_two_labels_is_ambiguous_with_the_raw_value(zendesk: Workflow) -> None:
    found = category(zendesk).match({"group_id": "36002119"})

    assert found == LabelMatch("unmapped", raw="group_id=36002119 (ambiguous: account_access|how_to)")


def test_custom_field_breaks_the_tie_between_labels_sharing_a_group(zendesk: Workflow) -> None:
    fields = {"group_id": "36002117", "custom_fields.360011112222": "refund"}

    assert category(zendesk).match(fields) == LabelMatch("mapped", "refund")


def test_a_group_no_label_maps_is_unmapped_with_every_task_field_found(zendesk: Workflow) -> None:
    found = category(zendesk).match({"group_id": "36009999", "type": "task", "priority": "high"})

    assert found == LabelMatch("unmapped", raw="group_id=36009999, type=task")


def test_contradicting_fields_match_no_label(zendesk: Workflow) -> None:
    fields = {"group_id": "36002118", "custom_fields.360011112222": "billing"}  # bug's group, billing's field

    assert category(zendesk).match(fields).outcome == "unmapped"


def test_a_label_mapped_only_by_a_custom_field_matches_whatever_group_holds_it(zendesk: Workflow) -> None:
    fields = {"group_id": "36002199", "custom_fields.360011112222": "other"}

    assert category(zendesk).match(fields) == LabelMatch("mapped", "other")


def test_no_mapped_field_set_is_not_set_rather_than_unmapped(zendesk: Workflow) -> None:
    assert category(zendesk).match({"status": "open", "priority": "low"}) == LabelMatch("not_set")
    assert task_mappings(zendesk)["priority"].match({}) == LabelMatch("not_set")


def test_tags_are_never_part_of_the_inverted_mapping(zendesk: Workflow) -> None:
    fields = {name for labels in category(zendesk).labels.values() for name in labels}

    assert fields == {"group_id", "type", "custom_fields.360011112222"}


def test_priority_maps_one_to_one(zendesk: Workflow) -> None:
    assert task_mappings(zendesk)["priority"].match({"priority": "urgent"}) == LabelMatch("mapped", "urgent")


def test_hubspot_shared_category_value_needs_the_custom_property(hubspot: Workflow) -> None:
    mapping = category(hubspot)

    assert mapping.match({"hs_ticket_category": "BILLING_ISSUE"}) == LabelMatch("mapped", "billing")
    assert mapping.match({"hs_ticket_category": "GENERAL_INQUIRY", "ai_triage_category": "renewal"}) == LabelMatch(
        "mapped", "renewal"
    )
    assert mapping.match({"hs_ticket_category": "GENERAL_INQUIRY"}).raw == (
        "hs_ticket_category=GENERAL_INQUIRY (ambiguous: churn_risk|onboarding|other|renewal|sales_inquiry)"
    )


def test_hubspot_routing_properties_are_the_mapped_ones(hubspot: Workflow) -> None:
    assert routing_properties(hubspot) == ["ai_triage_category", "hs_ticket_category", "hs_ticket_priority"]
