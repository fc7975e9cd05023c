"""Weekly figures and totals: turnaround, hours recovered, rework, shadow agreement, filters."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.unit.roi.conftest import BASELINES, W45, W48, applied, only, record, reviewed
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly

# --------------------------------------------------------------------------------------------- weekly figures


def test_turnaround_percentiles_only_count_what_landed() -> None:
    day = W48 + timedelta(days=2)
    records = [
        applied(day, 10),
        applied(day, 40),
        applied(day, 30),
        applied(day, -5),  # vendor clock ahead of ours: counts as 0
        # Reviewed and approved, the write-back after review not recorded yet: the answer is the landing.
        reviewed(day, "approve", seconds=100 * 60),
        # Failed, in progress, pending, escalated and shadow never landed.
        record(created=day, writeback={"status": "failed", "at": (day + timedelta(minutes=1)).isoformat()}),
        record(created=day, writeback={"status": "in_progress", "at": (day + timedelta(minutes=1)).isoformat()}),
        record(created=day, action="review", reason_codes=["vip_customer"]),
        reviewed(day, "escalate", seconds=60),
        record(created=day, mode="shadow", action="record"),
    ]
    week = only(weekly(records, BASELINES))
    assert week.turnaround_samples_min == (0.0, 10.0, 30.0, 40.0, 100.0)
    assert week.turnaround_p50_min == 30.0
    assert week.turnaround_p90_min == 100.0
    assert week.baseline_turnaround_min == 240.0


def test_turnaround_prefers_the_writeback_after_review() -> None:
    created = W48 + timedelta(hours=1)
    item = reviewed(created, "correct", seconds=600)
    item.writeback = {"status": "applied", "at": (created + timedelta(minutes=25)).isoformat(), "mode": "auto"}
    item.occurred_at = created - timedelta(minutes=5)
    week = only(weekly([item], BASELINES))
    assert week.turnaround_p50_min == 30.0


def test_counts_hours_recovered_and_rework() -> None:
    day = W48 + timedelta(days=1)
    override = {"kind": "override", "task": "priority"}
    records = [
        # 4 auto-applied (auto and assist), one later overridden on two fields (counts once).
        applied(day, 5, findings=[override, {"kind": "override", "task": "category"}]),
        applied(day, 5),
        applied(day, 5, mode="assist"),
        record(created=day),  # apply, write-back not reported yet: still auto-applied
        # Not auto-applied: a permanently failed write-back.
        record(created=day, writeback={"status": "failed", "at": day.isoformat()}),
        # Reviews: approve 10 min, correct 20 min (by Bob), escalate 5 min.
        reviewed(day, "approve", seconds=600, reason_codes=["low_confidence", "policy_always_review"]),
        reviewed(day, "correct", seconds=1200, reviewer="U0BOB"),
        reviewed(day, "escalate", seconds=300, reason_codes=["injection_suspected"]),
        # Waiting for a reviewer: pending, claimed (no verdict yet) and not yet posted.
        record(created=day, action="review", reason_codes=["low_confidence"], review={"state": "pending"}),
        record(created=day, action="review", reason_codes=["low_confidence"], review={"state": "claimed"}),
        record(created=day, action="review"),
    ]
    week = only(weekly(records, BASELINES))
    assert week.decisions == 11
    assert week.auto_applied == 4
    assert week.applied_after_review == 2
    assert week.escalated == 4  # 1 escalated + 3 waiting
    assert week.reviews == 3
    assert week.corrections == 1
    assert week.overrides == 1
    assert week.reviewer_throughput == {"U0ALICE": 2, "U0BOB": 1}
    assert week.escalations_by_reason == {
        "low_confidence": 4,
        "injection_suspected": 1,
        "policy_always_review": 1,
        "unspecified": 1,
    }
    assert week.review_minutes == pytest.approx(35.0)
    # (4 auto-applied x 6 min - 35 min of review) / 60
    assert week.hours_recovered == pytest.approx((24 - 35) / 60)
    assert week.hours_recovered is not None
    assert week.hours_recovered < 0
    # (1 correction + 1 override) / (4 auto-applied + 2 applied after review)
    assert week.rework_rate == pytest.approx(2 / 6)
    assert week.baseline_error_rate == 0.08


def test_hours_recovered_positive() -> None:
    day = W48 + timedelta(days=3)
    records = [applied(day, 3) for _ in range(10)]
    records += [reviewed(day, "approve", seconds=600), reviewed(day, "approve", seconds=1200)]
    week = only(weekly(records, BASELINES))
    assert week.hours_recovered == pytest.approx((10 * 6 - 30) / 60)  # 0.5 h
    assert week.rework_rate == 0.0


def test_shadow_only_workflow() -> None:
    day = W48 + timedelta(days=1)
    agree, disagree = {"kind": "shadow_agreement", "task": "priority"}, {"kind": "shadow_disagreement", "task": "x"}
    records = [
        record(workflow="sales", created=day, mode="shadow", action="record", findings=[agree, agree]),
        record(workflow="sales", created=day, mode="shadow", action="record", findings=[agree, disagree]),
        record(workflow="sales", created=day, mode="shadow", action="record", cost=0.003),
    ]
    week = only(weekly(records, BASELINES), "sales")
    assert (week.decisions, week.shadow, week.auto_applied, week.applied_after_review) == (3, 3, 0, 0)
    assert week.shadow_findings == 4
    assert week.shadow_agreement == pytest.approx(0.75)
    assert week.rework_rate is None
    assert week.hours_recovered == 0.0
    assert week.turnaround_p50_min is None
    assert week.escalated == 0
    assert week.cost_per_ticket == pytest.approx(0.001)
    total = totals(weekly(records, BASELINES))["sales"]
    assert total["shadow_agreement"] == pytest.approx(0.75)
    assert total["rework_rate"] is None
    assert total["hours_recovered"] == 0.0


def test_no_shadow_findings_means_no_agreement_share() -> None:
    week = only(weekly([record(mode="shadow", action="record")], BASELINES))
    assert week.shadow_agreement is None


def test_weeks_without_traffic_are_kept() -> None:
    records = [applied(W45 + timedelta(days=2), 10, cost=0.02), applied(W48 + timedelta(days=4), 20)]
    stats = weekly(records, BASELINES)
    assert [s.week for s in stats] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    for gap in stats[1:3]:
        assert (gap.decisions, gap.tickets, gap.auto_applied, gap.escalated, gap.reviews) == (0, 0, 0, 0, 0)
        assert gap.turnaround_p50_min is None
        assert gap.rework_rate is None
        assert gap.shadow_agreement is None
        assert gap.cost_per_ticket is None
        assert gap.hours_recovered == 0.0
        assert gap.baseline_turnaround_min == 240.0
        assert not gap.has_traffic
    assert stats[0].decisions == stats[3].decisions == 1


def test_range_bounds_extend_gaps_and_every_workflow_runs_to_the_last_week() -> None:
    records = [
        applied(W45 + timedelta(days=1), 10, workflow="sales"),
        applied(W48 + timedelta(days=1), 10, workflow="support"),
    ]
    stats = weekly(records, BASELINES)
    assert [(s.workflow, s.week) for s in stats] == [
        ("sales", "2026-W45"),
        ("sales", "2026-W46"),
        ("sales", "2026-W47"),
        ("sales", "2026-W48"),  # sales went quiet: shown, not hidden
        ("support", "2026-W48"),
    ]
    bounded = weekly(records, BASELINES, since=W45 - timedelta(weeks=1), until=W48 + timedelta(weeks=1))
    assert [s.week for s in bounded if s.workflow == "support"] == [
        "2026-W44",
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
    ]
    # until is exclusive: Monday 00:00 of W49 ends with W48.
    assert bounded[-1].week == "2026-W48"


def test_since_until_and_workflow_filters() -> None:
    at_since = W48
    records = [
        applied(at_since - timedelta(seconds=1), 1),  # before since: out
        applied(at_since, 1),  # since is inclusive
        applied(W48 + timedelta(days=2), 1),
        applied(W48 + timedelta(days=3), 1),  # == until: out
        applied(W48 + timedelta(days=2), 1, workflow="sales"),
    ]
    until = W48 + timedelta(days=3)
    stats = weekly(records, BASELINES, since=at_since, until=until)
    assert {s.workflow: s.decisions for s in stats} == {"sales": 1, "support": 2}
    support = weekly(records, BASELINES, since=at_since, until=until, workflow="support")
    assert [(s.workflow, s.decisions) for s in support] == [("support", 2)]
    assert weekly(records, BASELINES, workflow="nope") == []
    assert weekly([], BASELINES) == []
    # Naive bounds are UTC.
    naive = weekly(records, BASELINES, since=at_since.replace(tzinfo=None), until=until.replace(tzinfo=None))
    assert sum(s.decisions for s in naive) == 3


def test_missing_baseline_gives_no_hours() -> None:
    week = only(weekly([applied(W48, 5, workflow="renamed")], BASELINES), "renamed")
    assert week.hours_recovered is None
    assert week.baseline_turnaround_min is None
    assert week.baseline_error_rate is None
    assert week.rework_rate == 0.0
    assert totals([week])["renamed"]["hours_recovered"] is None


def test_totals_pool_samples_and_distinct_tickets() -> None:
    records = [
        applied(W45 + timedelta(days=1), 10, ticket="7", cost=0.01),
        applied(W45 + timedelta(days=2), 20, ticket="7", cost=0.01),  # same ticket, another event
        applied(W48 + timedelta(days=1), 30, ticket="8", cost=0.01),
        applied(W48 + timedelta(days=1), 200, ticket="9", cost=0.01),
        reviewed(W48 + timedelta(days=1), "correct", seconds=1800, ticket="10"),
    ]
    stats = weekly(records, BASELINES)
    total = totals(stats)["support"]
    assert (total["first_week"], total["last_week"], total["weeks"], total["weeks_with_traffic"]) == (
        "2026-W45",
        "2026-W48",
        4,
        2,
    )
    assert total["decisions"] == 5
    assert total["tickets"] == 4
    assert total["cost_usd"] == pytest.approx(0.04)
    assert total["cost_per_ticket"] == pytest.approx(0.01)
    # Samples 10, 20, 30, 30 (review answered after 30 min), 200: p50 = 3rd, p90 = 5th.
    assert total["turnaround_p50_min"] == 30.0
    assert total["turnaround_p90_min"] == 200.0
    assert total["hours_recovered"] == pytest.approx(sum(s.hours_recovered or 0 for s in stats))
    assert total["hours_recovered"] == pytest.approx((4 * 6 - 30) / 60)
    assert total["rework_rate"] == pytest.approx(1 / 5)
    assert total["auto_rate"] == pytest.approx(4 / 5)
    assert total["reviewer_throughput"] == {"U0ALICE": 1}
    json.dumps(total)
    json.dumps([s.as_dict() for s in stats])
