"""ROI maths and rendering on hand-computed decision sets (no I/O beyond tmp_path, no clock): the weeks,
baselines and decision-record builders shared by this package's tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from triage_gate.policy import RoiBaseline
from triage_gate.roi.weeks import WeekStats
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
