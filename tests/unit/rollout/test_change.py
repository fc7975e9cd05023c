"""A rollout change as a new flags document: default, rules, shares, new percentage rules, and bad requests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from triage_gate.policy import load_policy
from triage_tools.rollout.change import ChangeError, plan_change

POLICY = load_policy()
HUBSPOT = POLICY.workflows["hubspot-tickets"]
LOCAL_FLAGS = json.loads(Path("infra/local/flags.json").read_text(encoding="utf-8"))
CANARY = "10% of tickets on auto"


def test_the_flags_default_changes_and_the_original_document_is_untouched():
    before = copy.deepcopy(LOCAL_FLAGS)

    change = plan_change(LOCAL_FLAGS, "hubspot-tickets", HUBSPOT, "assist")

    assert (change.segment, change.from_mode, change.to_mode, change.evidence_rule) == (
        "default",
        "shadow",
        "assist",
        "default",
    )
    assert change.document["mode.hubspot-tickets"]["default"] == "assist"
    assert change.document["mode.zendesk-support"] == LOCAL_FLAGS["mode.zendesk-support"]
    assert before == LOCAL_FLAGS
    assert change.describe() == "mode.hubspot-tickets: 'default' shadow -> assist"


def test_widening_a_percentage_rule_moves_the_end_of_its_range():
    change = plan_change(LOCAL_FLAGS, "hubspot-tickets", HUBSPOT, "auto", CANARY, 25)

    value = change.document["mode.hubspot-tickets"]["rules"][CANARY]["conditions"][0]["value"]
    assert value == {"BASE": 100, "START": 0, "END": 24}
    assert (change.share_before, change.share_after, change.created) == (10.0, 25.0, None)
    assert change.describe().endswith("auto -> auto (10% -> 25% of ticket numbers)")


def test_a_new_percentage_rule_goes_after_the_existing_ones_and_is_measured_by_the_default():
    change = plan_change(LOCAL_FLAGS, "zendesk-support", POLICY.workflows["zendesk-support"], "shadow", "5% canary", 5)

    rules = change.document["mode.zendesk-support"]["rules"]
    assert list(rules)[-1] == "5% canary"
    assert rules["5% canary"]["conditions"][0]["value"] == {"BASE": 100, "START": 0, "END": 4}
    assert (change.created, change.evidence_rule, change.from_mode, change.share_before) == (
        "rule",
        "default",
        "auto",
        0.0,
    )


def test_a_workflow_without_a_flag_gets_one_starting_from_its_policy_mode():
    change = plan_change({}, "hubspot-tickets", HUBSPOT, "assist")

    assert change.created == "flag"
    assert change.from_mode == HUBSPOT.mode
    assert change.document == {"mode.hubspot-tickets": {"default": "assist", "boolean_type": False}}


@pytest.mark.parametrize(
    ("to", "segment", "share", "message"),
    [
        ("sometimes", "default", None, "--to 'sometimes' is not a mode"),
        ("auto", "default", 25, "--share applies to a percentage rule"),
        ("auto", "no such rule", None, "no rule 'no such rule' in mode.hubspot-tickets"),
        ("auto", CANARY, 0, "must be a percentage above 0"),
        ("auto", CANARY, 0.4, "does not fit the rule's range"),
    ],
)
def test_changes_that_cannot_be_expressed_are_refused_with_the_reason(to, segment, share, message):
    with pytest.raises(ChangeError, match=message):
        plan_change(LOCAL_FLAGS, "hubspot-tickets", HUBSPOT, to, segment, share)


def test_share_on_a_rule_without_a_percentage_condition_is_refused():
    brand_rule = "the Globex Labs brand stays in assist until its pilot signs off"
    with pytest.raises(ChangeError, match="has no MODULO_RANGE condition"):
        plan_change(LOCAL_FLAGS, "zendesk-support", POLICY.workflows["zendesk-support"], "auto", brand_rule, 50)
