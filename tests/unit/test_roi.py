"""ROI maths and rendering on hand-computed decision sets (no I/O beyond tmp_path, no clock)."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage_gate.policy import RoiBaseline
from triage_gate.roi.maths import WeekStats, iso_week, parse_since, percentile, totals, week_start, weekly
from triage_gate.roi.render import slack_digest, terminal, write_html
from triage_gate.triage.decision import DecisionRecord

# Monday 2026-11-23 00:00 UTC starts ISO week 2026-W48.
W48 = datetime(2026, 11, 23, tzinfo=UTC)
W45 = W48 - timedelta(weeks=3)
BASELINE = RoiBaseline(manual_minutes_per_ticket=6.0, turnaround_minutes=240.0, error_rate=0.08)
BASELINES = {"support": BASELINE, "sales": BASELINE}

_ids = itertools.count(1)


def record(
    *,
    workflow: str = "support",
    created: datetime = W48 + timedelta(days=1),
    occurred: datetime | None = None,
    mode: str = "auto",
    action: str = "apply",
    reason_codes: list[str] | None = None,
    cost: float = 0.0,
    ticket: str | None = None,
    writeback: dict[str, Any] | None = None,
    review: dict[str, Any] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> DecisionRecord:
    """A decision record with only what ROI reads filled in meaningfully."""
    n = next(_ids)
    ticket_id = ticket or str(1000 + n)
    return DecisionRecord(
        decision_id=f"zendesk:1:{n}",
        correlation_id=f"zendesk:{ticket_id}",
        source="zendesk",
        account_id="1",
        ticket_id=ticket_id,
        event_id=str(n),
        event_type="ticket.created",
        workflow=workflow,
        policy_version="test",
        policy_sha256="0" * 64,
        prompt_version="p1",
        created_at=created,
        occurred_at=occurred or created,
        mode=mode,
        action=action,
        proposed_action="review" if action == "review" else "apply",
        reason_codes=reason_codes or [],
        input_hash="h",
        cost_usd=cost,
        writeback=writeback,
        review=review,
        override={"findings": findings} if findings is not None else None,
    )


def applied(created: datetime, minutes: float, **kwargs: Any) -> DecisionRecord:
    """Auto-applied; the write-back landed ``minutes`` after the ticket was created."""
    landed = created + timedelta(minutes=minutes)
    return record(created=created, writeback={"status": "applied", "at": landed.isoformat(), "mode": "auto"}, **kwargs)


def reviewed(
    created: datetime, verdict: str, *, seconds: float = 0.0, reviewer: str = "U0ALICE", **kwargs: Any
) -> DecisionRecord:
    resolved = created + timedelta(seconds=seconds)
    state = "escalated" if verdict == "escalate" else "resolved"
    review = {
        "state": state,
        "verdict": verdict,
        "reviewer": reviewer,
        "time_to_review_s": seconds,
        "resolved_at": resolved.isoformat(),
    }
    kwargs.setdefault("reason_codes", ["low_confidence"])
    return record(created=created, action="review", review=review, **kwargs)


def only(stats: list[WeekStats], workflow: str = "support") -> WeekStats:
    mine = [s for s in stats if s.workflow == workflow and s.decisions]
    assert len(mine) == 1
    return mine[0]


# --------------------------------------------------------------------------------------------- weeks and time


def test_iso_week_and_week_start() -> None:
    assert iso_week(datetime(2026, 11, 27, 12, tzinfo=UTC)) == "2026-W48"
    assert iso_week(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"  # ISO year, not calendar year
    assert iso_week(datetime(2026, 11, 23)) == "2026-W48"  # naive = UTC
    # Sunday 23:30 in New York is already Monday in UTC.
    new_york = datetime(2026, 11, 22, 23, 30, tzinfo=UTC).astimezone(UTC) + timedelta(hours=5)
    assert iso_week(new_york) == "2026-W48"
    assert week_start("2026-W48").isoformat() == "2026-11-23"
    with pytest.raises(ValueError, match="ISO week"):
        week_start("2026-48")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([40, 10, 30, 20, 100], 50) == 30  # ceil(2.5) = 3rd
    assert percentile([40, 10, 30, 20, 100], 90) == 100  # ceil(4.5) = 5th
    assert percentile([1, 2, 3, 4], 50) == 2  # ceil(2.0) = 2nd, no float creep


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("4w", NOW - timedelta(weeks=4)),
        ("36h", NOW - timedelta(hours=36)),
        (" 7D ", NOW - timedelta(days=7)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T06:30:00+02:00", datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
        ("2026-11-01T06:30:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    parsed = parse_since(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "7", "d7", "7x", "7 days", "yesterday", "2026-13-01", "2026/11/01", "-7d"])
def test_parse_since_rejects_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"7d.*2026-11-01|not a valid date"):
        parse_since(text, now=NOW)


def test_parse_since_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        parse_since("0d", now=NOW)


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


# --------------------------------------------------------------------------------------------- rendering


def _mixed_stats() -> tuple[list[WeekStats], dict[str, dict[str, Any]]]:
    records = [
        applied(W45 + timedelta(days=1), 12, cost=0.002),
        reviewed(W48 + timedelta(days=1), "correct", seconds=900, reason_codes=["low_confidence"]),
        reviewed(W48 + timedelta(days=1), "escalate", seconds=60, reason_codes=["vip_customer"]),
        applied(W48 + timedelta(days=2), 45),
        record(workflow="sales", created=W48, mode="shadow", action="record", findings=[{"kind": "shadow_agreement"}]),
    ]
    stats = weekly(records, BASELINES)
    return stats, totals(stats)


def test_terminal_report() -> None:
    stats, summary = _mixed_stats()
    text = terminal(stats, summary)
    assert "support  2026-W45 .. 2026-W48" in text
    assert re.search(r"^2026-W46\s+0\s+0\s+0\s+0\s+0\s+-", text, re.MULTILINE)  # the gap week is a row
    assert "12m vs 4.0h" in text
    assert "Top escalation reasons:" in text
    assert "low_confidence" in text
    assert "vip_customer" in text
    assert "Reviewer throughput:" in text
    assert "U0ALICE" in text
    assert "sales" in text
    assert "100.0% agree" in text
    assert terminal([], {}) == "No decisions in the period.\n"


def test_html_report_escapes_and_draws(tmp_path: Path) -> None:
    hostile = '<b onclick="x">&support'
    records = [
        applied(W45 + timedelta(days=1), 12, workflow=hostile),
        reviewed(
            W48 + timedelta(days=1),
            "escalate",
            seconds=60,
            workflow=hostile,
            reason_codes=["<img src=x>"],
            reviewer='"><script>alert(1)</script>',
        ),
    ]
    stats = weekly(records, {hostile: BASELINE})
    path = write_html(tmp_path / "out", stats, totals(stats))
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") >= 4
    assert "<script" not in page
    assert "<img" not in page
    assert "<b " not in page
    assert "&lt;b onclick=&quot;x&quot;&gt;&amp;support" in page
    assert "&lt;img src=x&gt;" in page
    assert "2026-W46" in page  # the gap week is in the table
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    payload = json.loads((tmp_path / "out" / "roi.json").read_text(encoding="utf-8"))
    assert [w["week"] for w in payload["weeks"]] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert payload["totals"][hostile]["escalations_by_reason"] == {"<img src=x>": 1}


def test_html_report_without_decisions(tmp_path: Path) -> None:
    page = write_html(tmp_path, [], {}).read_text(encoding="utf-8")
    assert "No decisions in the period." in page
    assert json.loads((tmp_path / "roi.json").read_text(encoding="utf-8")) == {"weeks": [], "totals": {}}


def _assert_slack_limits(text: str, blocks: list[dict[str, Any]]) -> None:
    assert text
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
    json.dumps(blocks)


def test_slack_digest_content() -> None:
    stats, summary = _mixed_stats()
    text, blocks = slack_digest(summary, stats, workflow="support", period="the last 4 weeks")
    _assert_slack_limits(text, blocks)
    assert text.startswith("Triage Gate ROI for support (the last 4 weeks): 4 decisions")
    assert blocks[0]["type"] == "header"
    rendered = json.dumps(blocks)
    assert "Hours recovered" in rendered
    assert "`low_confidence`: 1" in rendered
    assert "<@U0ALICE>: 2" in rendered
    assert "2026-W46" in rendered  # the gap week is in the week-by-week table

    _, shadow_blocks = slack_digest(summary, stats, workflow="sales", period="the last 4 weeks")
    assert "agreement 100.0%" in json.dumps(shadow_blocks)


def test_slack_digest_limits_and_escaping() -> None:
    name = "<!channel> & " + "w" * 300
    records = []
    for i in range(60):  # 60 weeks, 200 reason codes, 150 reviewers
        created = W48 - timedelta(weeks=i)
        codes = [f"reason_{i}_{j}_" + "x" * 40 for j in range(4)]
        records.append(
            reviewed(created, "escalate", workflow=name, reason_codes=codes, reviewer=f"U{i:04d}<>", seconds=60)
        )
        records.append(reviewed(created, "approve", workflow=name, reviewer=f"U{i + 100:04d}", seconds=60))
        records.append(applied(created, 10, workflow=name))
    stats = weekly(records, {name: BASELINE})
    text, blocks = slack_digest(totals(stats), stats, workflow=name, period="<period>")
    _assert_slack_limits(text, blocks)
    rendered = json.dumps(blocks)
    mrkdwn = [json.dumps(b) for b in blocks if b["type"] != "header"]  # plain_text never parses mentions
    assert not any("<!channel>" in part or "<period>" in part for part in mrkdwn)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp;" in rendered
    assert "U0000&lt;&gt;" in rendered  # not a Slack id: escaped, not a mention
    assert "more reason codes" in rendered


def test_slack_digest_without_decisions() -> None:
    text, blocks = slack_digest({}, [], workflow="support", period="the last 7 days")
    _assert_slack_limits(text, blocks)
    assert "no decisions" in text
