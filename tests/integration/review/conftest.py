"""Review in Slack end to end: the harness shared by this package's tests.

ReviewWorker / ReviewDesk / ReviewBacklog drive the real SlackWebClient (slack_sdk) against the loopback
FakeSlack, the real VendorContext against FakeZendesk (the stale-ticket check), and an in-memory ledger;
the claim race, the by_review_state GSI, SlackActionsFunction and ReviewNotifyFunction run against the
template's resources in moto. Interaction requests are built and signed from Slack's documented format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import harness, ticket_event, zendesk_documents
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.config import VendorSecrets
from triage_gate.messages import DecisionMessage, ReviewJob
from triage_gate.policy import Policy, load_policy
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.service import ReviewBacklog, ReviewDesk, ReviewWorker
from triage_gate.review.signing import block_actions_payload, signed_interaction
from triage_gate.triage.decision import DecisionRecord, decision_message
from triage_local.sandboxes import FakeSlack, FakeZendesk
from triage_tools.memory import InMemoryDecisionStore, InMemoryExampleStore, RecordingQueue, StaticSecrets

BOT_TOKEN = "xoxb-review-tests"
SIGNING_SECRET = "slack-review-signing-secret"
ZD_EMAIL, ZD_TOKEN = "review@example.com", "zd-review-token"
WORKFLOW = "zendesk-support"
REVIEW, ESCALATIONS = "#support-triage-review", "#triage-escalations"
TICKET = 40211
RAW_EMAIL = "jane.doe@example.com"
DESCRIPTION = f"I was charged twice for invoice INV-2026-1187. Write to {RAW_EMAIL} and please refund."
PROPOSED = {"category": "billing", "priority": "normal"}
DEFAULT_EVENT = "3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"


# ---------------------------------------------------------------- helpers
@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def decided(policy: Policy, at: datetime, event_id: str = DEFAULT_EVENT) -> DecisionRecord:
    """A decision TriageFunction sent to review (low confidence), with its masked text, from the shipped policy."""
    event = ticket_event()
    if event_id != DEFAULT_EVENT:
        event = event.replace(**{"event_id": event_id, "dedupe_key": f"zendesk:{event.account_id}:{event_id}"})
    h = harness(policy, documents={("zendesk", event.ticket_id): zendesk_documents(description=DESCRIPTION)})
    h.clock[0] = at
    h.remote.default = {"category": "billing", "category_confidence": 0.41, "rationale": "a double charge"}
    h.local.answers = {"category": ("billing", 0.41), "priority": ("normal", 0.4)}
    record = h.service.process(event).record
    assert record is not None
    assert record.action == "review"
    assert record.labels == PROPOSED
    return record


def shown(message: dict[str, Any]) -> str:
    """Everything a reader of a Slack message sees: its text and its blocks."""
    return message["text"] + "\n" + json.dumps(message["blocks"], ensure_ascii=False)


def elements(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == kind]


@dataclass
class Review:
    """One review desk: the worker, the ack path and the backlog, sharing a ledger, queues and a clock."""

    policy: Policy
    slack: FakeSlack
    zendesk: FakeZendesk
    ledger: Any
    clock: Clock
    jobs: RecordingQueue = field(default_factory=RecordingQueue)
    actions: RecordingQueue = field(default_factory=RecordingQueue)
    examples: InMemoryExampleStore = field(default_factory=InMemoryExampleStore)

    def __post_init__(self) -> None:
        secrets = StaticSecrets(
            VendorSecrets(SLACK_BOT_TOKEN=BOT_TOKEN, ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN)  # type: ignore[arg-type]
        )
        self.slack_client = SlackWebClient(secrets, api_url=self.slack.url + "/api/")
        self.worker = ReviewWorker(
            policy=self.policy, ledger=self.ledger, slack=self.slack_client, actions=self.actions,
            context=VendorContext(secrets, zendesk_base_url=self.zendesk.url, hubspot_base_url=None),
            zendesk_base_url=self.zendesk.url, clock=self.clock, examples=self.examples,
        )  # fmt: skip
        self.desk = ReviewDesk(self.ledger, self.jobs, clock=self.clock)
        self.backlog = ReviewBacklog(self.policy, self.ledger, self.slack_client, self.zendesk.url, clock=self.clock)

    def post(self, record: DecisionRecord) -> str:
        """What TriageFunction and ReviewNotifyFunction do: store the decision, post its review message."""
        self.ledger.create(record)
        return self.worker.post(decision_message(record))

    def review(self, record: DecisionRecord) -> dict[str, Any]:
        stored = self.ledger.get(record.decision_id)
        return dict(stored.review or {}) if stored else {}

    def message(self, record: DecisionRecord) -> dict[str, Any]:
        review = self.review(record)
        return self.slack.message(review["channel"], review["ts"])

    def click(self, action_id: str, record: DecisionRecord, user: str = "UALICE", **selected: Any) -> str:
        """A reviewer presses a button of the case's message (with the selects as they are): the ack path."""
        review = self.review(record)
        payload = block_actions_payload(action_id, record.decision_id, user_id=user, user_name=user.lower(),
                                        channel=review.get("channel"), ts=review.get("ts"), **selected)  # fmt: skip
        body, _ = signed_interaction(payload, SIGNING_SECRET)
        action = parse_interaction(body)
        assert action is not None
        return self.desk.act(action)

    def work(self) -> list[str]:
        """ReviewNotifyFunction takes every queued reviewer job off ExceptionQueue."""
        results = []
        while self.jobs.bodies:
            results.append(self.worker.complete(ReviewJob.from_json(self.jobs.bodies.pop(0))))
        return results

    def applied(self) -> list[DecisionMessage]:
        return [DecisionMessage.from_json(b) for b in self.actions.bodies]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(BOT_TOKEN, per_channel_per_second=None) as fake:
        yield fake


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as fake:  # the ticket was last updated an hour ago
        fake.add_ticket(TICKET, subject="Charged twice for the November invoice", description=DESCRIPTION)
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def review(policy: Policy, slack: FakeSlack, zendesk: FakeZendesk, clock: Clock) -> Review:
    return Review(policy, slack, zendesk, InMemoryDecisionStore(), clock)


@pytest.fixture
def record(policy: Policy, clock: Clock) -> DecisionRecord:
    """Decided two minutes before the review message is posted (after the ticket's last update)."""
    return decided(policy, clock.now - timedelta(minutes=2))


@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB evaluates each request atomically per item; in-process moto does not serialise concurrent requests
    (its update_item handler deep-copies the item before the backend's update, so a lock on the backend alone
    let another thread change the item mid-copy: "dictionary changed size during iteration"). Every DynamoDB
    request is handled whole under one lock, as the service would see them."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)
