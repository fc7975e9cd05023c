"""Policy validation of the write-back mappings: what the policy refuses to map, naming its path."""

from __future__ import annotations

import copy

import yaml

from tests.unit.writeback_plan.conftest import raw_policy, rejected, validated
from triage_gate.policy import load_policy
from triage_tools import cli


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
    assert "unknown field `assignee_email`" in error


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
