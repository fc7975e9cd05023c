"""Rollout evidence per segment, on hand-made decisions: agreement, precision, Wilson bounds, review load."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.unit.rollout import NOW, applied, decision, pending, reviewed, shadow, small_bar_policy
from triage_gate.proportions import wilson_lower_bound, wilson_upper_bound, z_for
from triage_gate.rollout_status import FlagSegment, flag_segments, status

POLICY = small_bar_policy()
WORKFLOW = POLICY.workflows["support"]


def flags(default: str = "shadow", rules: dict[str, Any] | None = None) -> dict[str, Any]:
    feature: dict[str, Any] = {"default": default, "boolean_type": False}
    if rules:
        feature["rules"] = rules
    return {"mode.support": feature}


def percentage_rule(mode: str, end: int, start: int = 0, base: int = 100) -> dict[str, Any]:
    value = {"BASE": base, "START": start, "END": end}
    return {"when_match": mode, "conditions": [{"action": "MODULO_RANGE", "key": "ticket_number", "value": value}]}


NO_AI = {"when_match": "off", "conditions": [{"action": "VALUE_IN_KEY", "key": "tags", "value": "no_ai"}]}


def test_wilson_bounds_by_hand():
    # p = 0.95, n = 100, z = 1.96: (0.969208 ∓ 0.046838) / 1.038416
    assert wilson_lower_bound(95, 100) == pytest.approx(0.888248, abs=1e-6)
    assert wilson_upper_bound(95, 100) == pytest.approx(0.978457, abs=1e-6)
    assert wilson_upper_bound(10, 10) == 1.0
    assert wilson_upper_bound(0, 0) == 1.0  # no evidence rules nothing out
    assert z_for(0.95) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError, match="successes"):
        wilson_upper_bound(3, 2)


def test_segments_follow_the_flag_rules_then_the_default_with_percentage_shares():
    document = flags("shadow", {"no_ai off": NO_AI, "canary": percentage_rule("auto", 24, base=200)})

    segments = flag_segments(document, "support", WORKFLOW)

    assert [(s.rule, s.mode, s.share) for s in segments] == [
        ("no_ai off", "off", None), ("canary", "auto", 12.5), ("default", "shadow", None),
    ]  # fmt: skip
    assert segments[1].conditions == ("ticket_number MODULO_RANGE {'BASE': 200, 'START': 0, 'END': 24}",)
    assert flag_segments({}, "support", WORKFLOW) == [FlagSegment(None, WORKFLOW.mode)]  # no flag: the policy's


def test_shadow_agreement_and_its_lower_bound_per_segment():
    records = shadow(40, agreeing=38) + shadow(5, agreeing=5, rule="canary")

    rollout = status(records, POLICY, flags("shadow", {"canary": percentage_rule("shadow", 9)}), NOW).workflows[
        "support"
    ]

    default = rollout.evidence_for("default")
    assert (default.decisions, default.shadow_findings, default.shadow_agreements) == (40, 40, 38)
    measures = default.measures(rollout.z)
    assert measures["shadow_agreement"] == pytest.approx(0.95)
    assert measures["shadow_agreement_lower"] == pytest.approx(wilson_lower_bound(38, 40, z_for(0.95)))
    assert measures["precision"] is None  # nothing applied in shadow
    assert rollout.evidence_for("canary").shadow_findings == 5


def test_applied_precision_counts_overrides_and_corrections_once_per_decision():
    records = [
        *applied(20, overridden=3),
        reviewed("approve", 10),
        reviewed("correct", 10),
        decision(mode="auto", writeback={"status": "failed"}),  # nothing reached the ticket: not applied
        decision(mode="auto", findings=["override", "override"], writeback={"status": "applied"}),
        decision(mode="assist", findings=["override"]),  # a suggestion the human did not follow
    ]

    rollout = status(records, POLICY, flags("auto"), NOW).workflows["support"]
    evidence = rollout.evidence_for("default")

    assert (evidence.auto_applied, evidence.reviewed, evidence.applied) == (22, 2, 24)
    assert (evidence.overridden, evidence.corrected, evidence.applied_errors) == (5, 1, 6)
    measures = evidence.measures(rollout.z)
    assert measures["precision"] == pytest.approx(18 / 24)
    assert measures["precision_lower"] == pytest.approx(wilson_lower_bound(18, 24, rollout.z))
    assert measures["precision_upper"] == pytest.approx(wilson_upper_bound(18, 24, rollout.z))


def test_review_backlog_and_sla_misses_against_the_workflows_review_sla():
    sla = WORKFLOW.sla.review_minutes  # 60
    records = [
        reviewed("approve", sla - 1),
        reviewed("escalate", sla + 1),  # answered late
        pending(sla + 30),  # still waiting past the SLA
        pending(5),
        decision(mode="auto", action="review"),  # not posted yet: waiting since it was decided (a day ago)
    ]

    rollout = status(records, POLICY, flags("auto"), NOW).workflows["support"]
    review = rollout.review

    assert (review.reviews_answered, review.reviews_pending, review.sla_misses) == (2, 3, 3)
    assert review.oldest_pending_minutes == pytest.approx(24 * 60)
    assert review.measures(rollout.z)["sla_miss_rate"] == pytest.approx(3 / 5)


def test_decisions_outside_the_window_or_of_unknown_workflows_are_counted_not_measured():
    window = WORKFLOW.promotion.window_days
    records = [
        decision(created=NOW - timedelta(days=window, seconds=1)),
        decision(created=NOW - timedelta(days=window - 1)),
        decision(workflow="retired-workflow"),
    ]

    result = status(records, POLICY, flags(), NOW)

    assert result.workflows["support"].evidence_for("default").decisions == 1
    assert result.left_out == {"outside_window": 1, "unknown_workflow": 1}


def test_rules_no_longer_in_the_flags_and_unrecorded_rules_are_kept_as_retired_segments():
    records = [decision(rule="old canary"), decision(rule=None), decision(rule="default")]

    rollout = status(records, POLICY, flags("shadow"), NOW).workflows["support"]

    assert [(s.segment.label, s.segment.mode, s.evidence.decisions) for s in rollout.segments] == [
        ("default", "shadow", 1), ("old canary", None, 1), ("(policy mode)", None, 1),
    ]  # fmt: skip


def test_without_a_flag_the_defaults_evidence_is_the_policy_mode_decisions():
    rollout = status(shadow(3, agreeing=3, rule=None), POLICY, {}, NOW).workflows["support"]

    assert not rollout.has_flag
    assert rollout.evidence_for("default").decisions == 3
