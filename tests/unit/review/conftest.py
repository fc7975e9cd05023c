"""Review in Slack, the pure parts: the shipped policy, interaction bodies and the review decision record
shared by this package's tests. No network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from triage_gate.policy import Policy, load_policy
from triage_gate.review.signing import block_actions_payload
from triage_gate.triage.decision import DecisionRecord, TaskDecision

DECISION_ID = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
CHANNEL, TS = "C0REVIEW01", "1764244800.000100"
WORKFLOW = "zendesk-support"
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped_policy() -> Policy:
    return load_policy()


def form(payload: Any) -> bytes:
    """A Slack interaction request body: `payload=<json>`, form-urlencoded."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def click(action_id: str, **kwargs: Any) -> bytes:
    kwargs.setdefault("user_id", "UALICE")
    kwargs.setdefault("user_name", "alice")
    kwargs.setdefault("channel", CHANNEL)
    kwargs.setdefault("ts", TS)
    return form(block_actions_payload(action_id, DECISION_ID, **kwargs))


def record(**changes: Any) -> DecisionRecord:
    tasks = {
        "category": TaskDecision(label="billing", reported_confidence=0.5, calibrated_confidence=0.41, threshold=0.7,
                                 route="haiku", model="claude-haiku-4-5"),
        "priority": TaskDecision(label="normal", reported_confidence=0.4, calibrated_confidence=0.4, threshold=0.5,
                                 route="local", model="local"),
    }  # fmt: skip
    fields: dict[str, Any] = {
        "decision_id": DECISION_ID, "correlation_id": "zendesk:40211", "source": "zendesk", "account_id": "90817263",
        "ticket_id": "40211", "event_id": "3f6c1a52", "event_type": "ticket.created", "workflow": WORKFLOW,
        "policy_version": "2026-11-27.1", "policy_sha256": "0" * 64, "prompt_version": "classify-v1",
        "created_at": CREATED, "occurred_at": CREATED, "mode": "auto", "action": "review",
        "proposed_action": "review", "reason_codes": ["low_confidence"], "tasks": tasks, "input_hash": "0" * 64,
        "input_text": "I was charged twice, write to [EMAIL].", "subject": "Charged twice",
        "context_fields": {"organization.name": "Acme"},
    }  # fmt: skip
    fields.update(changes)
    return DecisionRecord.from_data(fields)


def elements(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == kind]
