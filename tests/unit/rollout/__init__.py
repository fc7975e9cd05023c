"""The promotion gate on hand-made decision records: the records, findings and reviews these tests build."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.builders import policy
from triage_gate.policy import Policy
from triage_gate.triage.decision import DecisionRecord

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)  # for the commands, which measure up to the real now
DECISIONS_TABLE = "decisions"
_ids = itertools.count(1)

# Small bars so that a few dozen records decide: bar = 1 - 0.2 = 80 %.
BAR_SETTINGS = {"min_decisions": 20, "min_shadow_findings": 20, "min_applied": 20, "min_rollback_sample": 10}


def small_bar_policy(**overrides: Any) -> Policy:
    """builders.policy()'s one workflow, "support" (review SLA 60 min), with an 80 % bar and small samples."""
    settings: dict[str, Any] = {"error_tolerance": 0.2, "promotion": dict(BAR_SETTINGS), **overrides}
    return policy(**settings)


def finding(kind: str) -> dict[str, Any]:
    return {"kind": kind, "task": "priority", "field": "priority", "system_value": "normal", "human_value": "high"}


def decision(
    *,
    rule: str | None = "default",
    mode: str = "shadow",
    action: str | None = None,
    workflow: str = "support",
    created: datetime | None = None,
    findings: list[str] | None = None,
    review: dict[str, Any] | None = None,
    writeback: dict[str, Any] | None = None,
) -> DecisionRecord:
    """A decision as the rollout status reads it; ``action`` defaults to what the mode does (record in shadow)."""
    n = next(_ids)
    at = created or NOW - timedelta(days=1)
    return DecisionRecord(
        decision_id=f"zendesk:1:{n}", correlation_id=f"zendesk:{n}", source="zendesk", account_id="1",
        ticket_id=str(40000 + n), event_id=str(n), event_type="ticket.created", workflow=workflow,
        policy_version="test-1", policy_sha256="0" * 64, prompt_version="p1", created_at=at, occurred_at=at,
        mode=mode, rollout_rule=rule, action=action or ("record" if mode == "shadow" else "apply"),
        proposed_action="review" if action == "review" else "apply", input_hash="h", writeback=writeback,
        review=review, override={"findings": [finding(k) for k in findings]} if findings is not None else None,
    )  # fmt: skip


def shadow(count: int, agreeing: int, **kwargs: Any) -> list[DecisionRecord]:
    """``count`` shadow decisions with one finding each, ``agreeing`` of them agreements."""
    return [
        decision(findings=["shadow_agreement" if i < agreeing else "shadow_disagreement"], **kwargs)
        for i in range(count)
    ]


def applied(count: int, overridden: int, **kwargs: Any) -> list[DecisionRecord]:
    """``count`` auto-applied decisions (write-back landed), ``overridden`` of them later changed by a human."""
    kwargs.setdefault("mode", "auto")
    return [
        decision(findings=["override"] if i < overridden else [], writeback={"status": "applied"}, **kwargs)
        for i in range(count)
    ]


def reviewed(verdict: str, waited_minutes: float, **kwargs: Any) -> DecisionRecord:
    kwargs.setdefault("mode", "auto")
    review = {"state": "resolved", "verdict": verdict, "time_to_review_s": waited_minutes * 60}
    return decision(action="review", review=review, **kwargs)


def pending(posted_minutes_ago: float, now: datetime = NOW, **kwargs: Any) -> DecisionRecord:
    kwargs.setdefault("mode", "auto")
    posted = (now - timedelta(minutes=posted_minutes_ago)).isoformat()
    return decision(action="review", review={"state": "pending", "posted_at": posted}, **kwargs)


def hubspot_shadow(count: int, agreeing: int) -> list[DecisionRecord]:
    """Shadow decisions of the shipped policy's hubspot-tickets workflow, an hour ago, one finding each."""
    return shadow(count, agreeing, workflow="hubspot-tickets", created=HOUR_AGO)


def store(table: Any, records: list[DecisionRecord]) -> None:
    """Into a DecisionsTable (DynamoDecisionStore), as the triage function writes them."""
    for record in records:
        assert table.create(record)
