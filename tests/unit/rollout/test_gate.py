"""The promotion bar and each recommendation: hold, promote, widen, roll back."""

from __future__ import annotations

from tests.unit.rollout import NOW, applied, pending, reviewed, shadow, small_bar_policy
from tests.unit.rollout.test_status import NO_AI, flags, percentage_rule
from triage_gate.rollout_gate import judge, recommend
from triage_gate.rollout_status import WorkflowRollout, status

POLICY = small_bar_policy()  # bar 80 %; 20 decisions, 20 findings, 20 applied; roll back after 10 applied


def rollout_of(records: list, document: dict) -> WorkflowRollout:  # type: ignore[type-arg]
    return status(records, POLICY, document, NOW).workflows["support"]


def advice(records: list, document: dict, rule: str = "default"):  # type: ignore[no-untyped-def,type-arg]
    rollout = rollout_of(records, document)
    item = rollout.segment(rule)
    assert item is not None
    return recommend(rollout, item)


def test_shadow_with_strong_agreement_is_promoted_to_assist():
    # 30 of 30 agree: Wilson lower bound 30 / (30 + 1.96²) = 88.6 % >= 80 %.
    found = advice(shadow(30, agreeing=30), flags("shadow"))

    assert (found.action, found.to_mode) == ("promote", "assist")
    assert found.command == "triage rollout promote --workflow support --to assist --segment default"


def test_shadow_with_weak_agreement_holds_and_names_each_unmet_bar():
    found = advice(shadow(15, agreeing=12), flags("shadow"))

    assert found.action == "hold"
    assert found.command is None
    assert found.reasons == (
        "shadow findings 15 < min_shadow_findings 20",
        "shadow agreement lower bound 54.8% < 80.0% (1 - error_tolerance 0.2)",
        "decisions 15 < min_decisions 20",
    )


def test_assist_with_precise_applied_decisions_is_promoted_to_auto():
    found = advice(applied(30, overridden=0, mode="assist"), flags("assist"))

    assert (found.action, found.to_mode) == ("promote", "auto")


def test_an_auto_percentage_that_keeps_its_promise_is_widened_to_the_next_step():
    document = flags("shadow", {"canary": percentage_rule("auto", 9)})  # 10 %

    found = advice(applied(30, overridden=0, rule="canary"), document, rule="canary")

    assert (found.action, found.to_mode, found.share) == ("widen", "auto", 25.0)
    assert found.summary() == "widen to 25%"
    assert found.command == "triage rollout promote --workflow support --to auto --segment canary --share 25"


def test_auto_whose_precision_is_provably_below_the_bar_is_rolled_back():
    # 6 of 12 overridden: precision 50 %, Wilson upper bound (0.66006 + 0.32504) / 1.32012 = 74.6 % < 80 %.
    found = advice(applied(12, overridden=6), flags("auto"))

    assert (found.action, found.to_mode) == ("roll_back", "assist")
    assert "applied precision upper bound 74.6% < 80.0%" in found.reasons[0]
    assert "6 of 12 applied decisions" in found.reasons[0]


def test_too_few_applied_decisions_never_trigger_a_roll_back():
    found = advice(applied(4, overridden=2), flags("auto"))  # upper bound < 80 %, but 4 < min_rollback_sample

    assert found.action == "hold"


def test_an_off_segment_is_left_alone():
    found = advice([], flags("shadow", {"no_ai off": NO_AI}), rule="no_ai off")

    assert found.action == "hold"
    assert "nothing is measured" in found.reasons[0]


def test_reviews_missing_their_sla_block_a_promotion_the_evidence_otherwise_earns():
    late = [reviewed("approve", 120, rule="other") for _ in range(3)] + [pending(5, rule="other")]

    found = advice(shadow(30, agreeing=30) + late, flags("shadow"))

    assert found.action == "hold"
    assert found.reasons == (
        "review SLA misses 75.0% > max_sla_miss_rate 5.0% (3 of 4 reviews answered after, or waiting past, 60 min)",
    )


def test_rolling_back_is_always_allowed_and_skipping_assist_is_not():
    rollout = rollout_of(shadow(30, agreeing=30), flags("shadow"))
    evidence = rollout.evidence_for("default")

    assert judge(rollout, evidence, "auto", "shadow").allowed
    assert judge(rollout, evidence, "auto", "auto", 50, 25).kind == "roll_back"
    assert judge(rollout, evidence, "assist", "assist").kind == "no_change"
    assert judge(rollout, evidence, "off", "shadow").allowed  # shadow applies nothing
    skip = judge(rollout, evidence, "shadow", "auto")
    assert not skip.allowed
    assert "applied decisions 0 < min_applied 20" in skip.unmet
    assert any("promote to assist first" in bar for bar in skip.unmet)
