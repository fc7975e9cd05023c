"""In-memory implementations of the ports, for the eval runner, unit tests and benchmarks (no Lambda runs them)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from msgspec.structs import replace

from triage_gate.config import VendorSecrets
from triage_gate.errors import DedupeStoreUnavailable
from triage_gate.messages import TicketEvent
from triage_gate.triage.breaker import BreakerState
from triage_gate.triage.decision import DecisionRecord
from triage_gate.triage.ports import TicketClaim


class StaticSecrets:
    def __init__(self, secrets: VendorSecrets) -> None:
        self.secrets = secrets

    def get(self) -> VendorSecrets:
        return self.secrets


class InMemoryDedupeStore:
    def __init__(self, *, ttl_seconds: int = 172_800, lease_seconds: int = 20) -> None:
        self.items: dict[str, dict[str, float | str]] = {}
        self.ttl = ttl_seconds
        self.lease = lease_seconds
        self.unavailable = False

    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        if self.unavailable:
            raise DedupeStoreUnavailable("in-memory store switched off")
        ts = now.timestamp()
        claimed = set()
        for key in keys:
            item = self.items.get(key)
            lapsed = item is not None and (
                float(item["expires_at"]) < ts or (item["state"] == "claimed" and float(item["lease_until"]) < ts)
            )
            if item is None or lapsed:
                self.items[key] = {
                    "state": "claimed",
                    "lease_until": ts + self.lease,
                    "expires_at": ts + self.ttl,
                }
                claimed.add(key)
        return claimed

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        for key in keys:
            if key in self.items:
                self.items[key]["state"] = "queued"

    def release(self, keys: Sequence[str]) -> None:
        for key in keys:
            if self.items.get(key, {}).get("state") == "claimed":
                del self.items[key]


class InMemoryEventQueue:
    def __init__(self) -> None:
        self.messages: list[TicketEvent] = []
        # Dedupe keys that fail to send until removed (fault injection for tests).
        self.failing: set[str] = set()

    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        failed = [e.dedupe_key for e in events if e.dedupe_key in self.failing]
        self.messages.extend(e for e in events if e.dedupe_key not in self.failing)
        return failed


# ---------------------------------------------------------------- classification fakes
class InMemoryDecisionStore:
    def __init__(self) -> None:
        self.records: dict[str, DecisionRecord] = {}
        self.leases: dict[str, float] = {}

    def get(self, decision_id: str) -> DecisionRecord | None:
        record = self.records.get(decision_id)
        return copy.deepcopy(record) if record else None

    def create(self, record: DecisionRecord) -> bool:
        if record.decision_id in self.records:
            return False
        self.records[record.decision_id] = copy.deepcopy(record)
        return True

    def mark_routed(self, decision_id: str) -> None:
        self.records[decision_id].status = "routed"

    def latest_for_ticket(self, ticket_key: str) -> DecisionRecord | None:
        mine = [r for r in self.records.values() if r.ticket_key == ticket_key]
        return self.get(max(mine, key=lambda r: r.created_at).decision_id) if mine else None

    def add_override(self, decision_id: str, finding: dict[str, Any]) -> None:
        record = self.records[decision_id]
        findings = list((record.override or {}).get("findings", []))
        record.override = {"findings": [*findings, finding]}

    # review ledger
    def review_posted(self, decision_id: str, channel: str, ts: str, posted_at: str, workflow: str) -> bool:
        record = self.records[decision_id]
        if record.review and record.review.get("ts"):
            return False
        record.review = {"state": "pending", "channel": channel, "ts": ts, "posted_at": posted_at}
        return True

    def claim_review(self, decision_id: str, user_id: str, verdict: str) -> bool:
        review = self.records[decision_id].review
        if not review or review.get("state") not in ("pending", "escalated"):
            return False
        review.update(state="claimed", claimed_by=user_id)
        return True

    def reopen_review(self, decision_id: str) -> None:
        review = self.records[decision_id].review
        if review and review.get("state") == "claimed":
            review["state"] = "pending"

    def finish_review(self, decision_id: str, state: str, review: dict[str, Any]) -> None:
        current = self.records[decision_id].review or {}
        if current.get("state") == "claimed":
            self.records[decision_id].review = {**current, **review, "state": state}

    def pending_reviews(self) -> list[dict[str, Any]]:
        return [
            {"decision_id": r.decision_id, "workflow": r.workflow, "review_posted_at": r.review.get("posted_at"),
             "sla_notified": r.review.get("sla_notified", False), "state": r.review["state"]}
            for r in self.records.values()
            if r.review and r.review.get("state") in ("pending", "claimed")
        ]  # fmt: skip

    def mark_sla_notified(self, decision_id: str) -> None:
        review = self.records[decision_id].review
        if review is not None:
            review["sla_notified"] = True

    def writeback_state(self, decision_id: str) -> dict[str, Any] | None:
        record = self.records.get(decision_id)
        return dict(record.writeback) if record and record.writeback else None

    def set_writeback(self, decision_id: str, state: dict[str, Any]) -> None:
        self.records[decision_id].writeback = dict(state)

    def claim_writeback(self, decision_id: str, lease_seconds: int) -> bool:
        import time

        now = time.time()
        if self.leases.get(decision_id, 0.0) > now:
            return False
        self.leases[decision_id] = now + lease_seconds
        return True

    def release_writeback(self, decision_id: str) -> None:
        self.leases.pop(decision_id, None)


class InMemoryTicketClaims:
    def __init__(self) -> None:
        self.tickets: dict[str, tuple[str, str, float]] = {}  # ticket key -> (decision id, state, lease until)

    def claim(self, ticket_key: str, decision_id: str, lease_seconds: int) -> TicketClaim:
        import time

        now = time.time()
        held = self.tickets.get(ticket_key)
        if held is None or held[0] == decision_id or (held[1] == "deciding" and held[2] < now):
            self.tickets[ticket_key] = (decision_id, "deciding", now + lease_seconds)
            return "claimed"
        return "decided" if held[1] == "decided" else "busy"

    def settle(self, ticket_key: str, decision_id: str) -> None:
        self.tickets[ticket_key] = (decision_id, "decided", 0.0)

    def release(self, ticket_key: str, decision_id: str) -> None:
        held = self.tickets.get(ticket_key)
        if held is not None and held[0] == decision_id and held[1] == "deciding":
            del self.tickets[ticket_key]


class InMemoryBreakerStore:
    def __init__(self) -> None:
        self.states: dict[str, BreakerState] = {}

    def load(self, key: str) -> BreakerState:
        return self.states.get(key, BreakerState())

    def save(self, key: str, state: BreakerState) -> bool:
        if self.states.get(key, BreakerState()).version != state.version:
            return False
        self.states[key] = replace(state, version=state.version + 1)
        return True


class InMemoryBudgetStore:
    def __init__(self) -> None:
        self.spend: dict[str, float] = {}

    def spent(self, key: str) -> float:
        return self.spend.get(key, 0.0)

    def add(self, key: str, usd: float) -> None:
        self.spend[key] = self.spend.get(key, 0.0) + usd


class RecordingQueue:
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.failing = False

    def send(self, body: str, *, dedupe_key: str, correlation_id: str) -> None:
        from triage_gate.errors import QueueUnavailable

        if self.failing:
            raise QueueUnavailable("in-memory queue switched off")
        self.bodies.append(body)


class StaticContext:
    """Documents per (source, ticket id); a missing ticket is a ContextUnavailable."""

    def __init__(self, documents: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.documents = documents or {}
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def fetch(
        self, source: str, account_id: str, ticket_id: str, fields: Sequence[str], timeout: float
    ) -> dict[str, Any]:
        from triage_gate.errors import ContextUnavailable

        self.calls.append((source, ticket_id, tuple(fields)))
        if (source, ticket_id) not in self.documents:
            raise ContextUnavailable(f"{source} ticket {ticket_id} not found")
        return self.documents[(source, ticket_id)]


class InMemoryExampleStore:
    def __init__(self) -> None:
        self.examples: dict[str, dict[str, dict[str, list[str]]]] = {}

    def add(self, workflow: str, task: str, label: str, text: str) -> None:
        from triage_gate.review.feedback import add_example

        add_example(self.examples.setdefault(workflow, {}), task, label, text)

    def recent(self, workflow: str) -> dict[str, dict[str, list[str]]]:
        return self.examples.get(workflow, {})
