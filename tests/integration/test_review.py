"""Review in Slack end to end.

ReviewWorker / ReviewDesk / ReviewBacklog drive the real SlackWebClient (slack_sdk) against the loopback
FakeSlack, the real VendorContext against FakeZendesk (the stale-ticket check), and an in-memory ledger;
the claim race, the by_review_state GSI, SlackActionsFunction and ReviewNotifyFunction run against the
template's resources in moto. Interaction requests are built and signed from Slack's documented format.
"""

from __future__ import annotations

import base64
import csv
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.integration.conftest import Stack, load_handler
from tests.triage_fakes import harness, ticket_event, zendesk_documents
from triage_gate import cli, wiring
from triage_gate.adapters import aws
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.memory import InMemoryDecisionStore, InMemoryExampleStore, RecordingQueue, StaticSecrets
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.config import VendorSecrets
from triage_gate.errors import RateLimited, TransientVendorError
from triage_gate.policy import Policy, load_policy
from triage_gate.review.endpoint import handle_interaction_event, process_exception_message
from triage_gate.review.feedback import labelled_rows, write_csv
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.models import CORRECTION_REASONS, ReviewJob
from triage_gate.review.service import ReviewBacklog, ReviewDesk, ReviewWorker
from triage_gate.review.signing import block_actions_payload, signed_interaction
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionMessage, DecisionRecord
from triage_local.sandboxes import FakeSlack, FakeZendesk
from triage_local.worker import LocalLambdaContext

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
        event = event.model_copy(update={"event_id": event_id, "dedupe_key": f"zendesk:{event.account_id}:{event_id}"})
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
        return self.worker.post(DecisionMessage.from_record(record))

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
            results.append(self.worker.complete(ReviewJob.model_validate_json(self.jobs.bodies.pop(0))))
        return results

    def applied(self) -> list[DecisionMessage]:
        return [DecisionMessage.model_validate_json(b) for b in self.actions.bodies]


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


# ---------------------------------------------------------------- posting the case
def test_post_puts_one_block_kit_message_in_the_workflow_review_channel(review, record, slack, zendesk):
    assert review.post(record) == "posted"

    [message] = slack.messages(REVIEW)
    text = shown(message)
    assert f"{zendesk.url}/agent/tickets/{TICKET}" in text
    assert "Charged twice for the November invoice" in text
    assert "INV-2026-1187" in text
    assert "`billing` (0.41" in text
    assert "`normal` (0.40" in text
    assert reasons.DESCRIPTIONS["low_confidence"] in text
    assert "organization.organization_fields.tier: growth" in text  # the context facts the policy names
    assert slack.messages(ESCALATIONS) == []


def test_post_shows_the_masked_excerpt_never_the_raw_email(review, record, slack):
    review.post(record)

    [message] = slack.messages(REVIEW)
    assert "[EMAIL]" in shown(message)
    assert RAW_EMAIL not in shown(message)
    assert RAW_EMAIL not in json.dumps(slack.calls("chat.postMessage"))


def test_post_offers_approve_correct_escalate_and_label_and_reason_selects(review, record, policy, slack):
    review.post(record)

    [message] = slack.messages(REVIEW)
    buttons = elements(message, "button")
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        ("approve", "Approve"), ("correct", "Correct"), ("escalate", "Escalate")]  # fmt: skip
    assert {b["value"] for b in buttons} == {record.decision_id}
    selects = {s["action_id"]: s for s in elements(message, "static_select")}
    assert set(selects) == {"label:category", "label:priority", "reason"}
    offered = [o["value"] for o in selects["label:category"]["options"]]
    assert offered == [f"category={label}" for label in policy.workflows[WORKFLOW].tasks["category"].labels]
    assert [o["value"] for o in selects["reason"]["options"]] == list(CORRECTION_REASONS)


def test_post_records_the_message_ts_on_the_decision(review, record, slack, clock):
    review.post(record)

    [message] = slack.messages(REVIEW)
    stored = review.review(record)
    assert stored["ts"] == message["ts"]
    assert stored["channel"] == slack.channel_id(REVIEW)
    assert stored["state"] == "pending"
    assert stored["posted_at"] == clock.now.isoformat()


def test_post_of_a_redelivered_case_does_not_post_it_twice(review, record, slack):
    message = DecisionMessage.from_record(record)
    review.post(record)

    assert review.worker.post(message) == "already_posted"

    assert len(slack.messages(REVIEW)) == 1
    assert slack.posts == 1


# ---------------------------------------------------------------- approve
def test_approve_applies_the_proposed_labels_through_the_actions_queue(review, record):
    review.post(record)

    assert review.click("approve", record) == "claimed"
    assert review.work() == ["approve"]

    [applied] = review.applied()
    assert (applied.decision_id, applied.action, applied.mode) == (record.decision_id, "apply", "auto")
    assert applied.labels == PROPOSED
    assert applied.reason_codes == []


def test_approve_records_reviewer_verdict_and_time_to_review_on_the_decision(review, record, clock):
    review.post(record)
    clock.advance(minutes=3)

    review.click("approve", record, user="UALICE")
    review.work()

    stored = review.review(record)
    assert stored["state"] == "resolved"
    assert (stored["reviewer"], stored["reviewer_name"], stored["verdict"]) == ("UALICE", "ualice", "approve")
    assert stored["time_to_review_s"] == 180.0
    assert stored["labels"] == PROPOSED


def test_time_to_review_is_measured_to_the_click_not_to_a_delayed_worker(review, record, clock):
    review.post(record)
    clock.advance(minutes=3)
    review.click("approve", record)
    clock.advance(minutes=20)  # ExceptionQueue was backed up (Slack rate limits, redeliveries)

    review.work()

    assert review.review(record)["time_to_review_s"] == 180.0


def test_approve_updates_the_slack_message_to_say_who_resolved_it_and_how(review, record, slack):
    review.post(record)

    review.click("approve", record, user="UALICE")
    review.work()

    [message] = slack.messages(REVIEW)
    assert message["updated"] is True
    assert slack.updates == 1
    assert "<@UALICE>" in shown(message)
    assert "approved category `billing`, priority `normal`" in shown(message)
    assert elements(message, "button") == []  # nothing left to click


# ---------------------------------------------------------------- correct
def test_correct_applies_the_corrected_label_and_keeps_the_others(review, record):
    review.post(record)

    assert review.click("correct", record, labels={"category": "refund"}, reason="wrong_category") == "claimed"
    assert review.work() == ["correct"]

    [applied] = review.applied()
    assert applied.action == "apply"
    assert applied.labels == {"category": "refund", "priority": "normal"}


def test_correct_stores_the_correction_and_its_reason_on_the_decision(review, record, slack):
    review.post(record)

    review.click("correct", record, labels={"category": "refund"}, reason="wrong_category")
    review.work()

    stored = review.review(record)
    assert (stored["state"], stored["verdict"]) == ("resolved", "correct")
    assert stored["corrected"] == {"category": "refund"}
    assert stored["reason"] == "wrong_category"
    assert stored["proposed"] == PROPOSED
    text = shown(review.message(record))
    assert "corrected to category `refund`" in text
    assert CORRECTION_REASONS["wrong_category"] in text


def test_correct_adds_a_masked_labelled_example_for_the_prompt(review, record):
    review.post(record)

    review.click("correct", record, labels={"category": "refund"}, reason="wrong_category")
    review.work()

    examples = review.examples.recent(WORKFLOW)
    [text] = examples["category"]["refund"]
    assert "Charged twice for the November invoice" in text
    assert "[EMAIL]" in text
    assert RAW_EMAIL not in text
    assert "priority" not in examples  # only what the reviewer corrected


def test_correct_without_a_reason_sends_an_ephemeral_notice_and_claims_nothing(review, record, slack):
    review.post(record)

    assert review.click("correct", record, user="UALICE", labels={"category": "refund"}) == "incomplete"
    assert review.work() == ["noticed"]

    [notice] = slack.ephemerals(REVIEW)
    assert notice["to_user"] == "UALICE"
    assert "reason" in notice["text"]
    assert review.review(record)["state"] == "pending"
    assert review.applied() == []
    assert slack.updates == 0
    assert review.click("approve", record) == "claimed"  # still open to the next click


# ---------------------------------------------------------------- escalate
def test_escalate_posts_to_the_escalation_channel_mentioning_the_group(review, record, slack):
    review.post(record)

    assert review.click("escalate", record, user="UBOB") == "claimed"
    assert review.work() == ["escalate"]

    [escalated] = slack.messages(ESCALATIONS)
    assert escalated["text"].startswith("<!subteam^S05SUPLEADS> ")
    assert "<@UBOB>" in escalated["text"]
    assert f"ticket {TICKET}" in escalated["text"]
    assert RAW_EMAIL not in shown(escalated)


def test_escalate_leaves_the_case_unapplied_and_marks_it_escalated(review, record, slack):
    review.post(record)

    review.click("escalate", record, user="UBOB")
    review.work()

    assert review.applied() == []
    stored = review.review(record)
    assert (stored["state"], stored["verdict"], stored["escalated_to"]) == ("escalated", "escalate", ESCALATIONS)
    assert "escalated to #triage-escalations" in shown(review.message(record))
    # Left unapplied for the senior queue, whose buttons can still resolve it.
    assert review.click("approve", record) == "claimed"


def test_escalated_case_buttons_in_the_senior_channel_are_not_a_dead_end(review, record, slack):
    review.post(record)
    review.click("escalate", record, user="UBOB")
    review.work()
    [escalated] = slack.messages(ESCALATIONS)
    if "approve" not in [b["action_id"] for b in elements(escalated, "button")]:
        return  # no button offered: nothing to dead-end
    payload = block_actions_payload("approve", record.decision_id, user_id="USENIOR",
                                    channel=slack.channel_id(ESCALATIONS), ts=escalated["ts"])  # fmt: skip
    action = parse_interaction(signed_interaction(payload, SIGNING_SECRET)[0])
    assert action is not None

    assert review.desk.act(action) == "claimed"
    review.work()
    assert len(review.applied()) == 1


# ---------------------------------------------------------------- one outcome per case
def test_double_click_by_the_same_reviewer_applies_once(review, record, slack):
    review.post(record)

    assert review.click("approve", record, user="UALICE") == "claimed"
    assert review.click("approve", record, user="UALICE") == "already_resolved"
    assert review.work() == ["approve", "noticed"]

    assert len(review.applied()) == 1
    [notice] = slack.ephemerals(REVIEW)
    assert (notice["to_user"], notice["text"]) == ("UALICE", "This case is already resolved.")
    assert slack.updates == 1


def test_a_click_after_the_case_was_resolved_says_already_resolved(review, record, slack):
    review.post(record)
    review.click("approve", record, user="UALICE")
    review.work()

    late = review.click("correct", record, user="UBOB", labels={"category": "bug"}, reason="other")
    assert late == "already_resolved"
    assert review.work() == ["noticed"]

    assert len(review.applied()) == 1
    assert review.review(record)["verdict"] == "approve"
    assert [n["to_user"] for n in slack.ephemerals(REVIEW)] == ["UBOB"]


def test_a_redelivered_outcome_job_does_not_apply_twice(review, record, slack):
    review.post(record)
    review.click("approve", record)
    [job] = review.jobs.bodies

    review.work()
    review.jobs.bodies.append(job)  # SQS at-least-once
    assert review.work() == ["already_done"]

    assert len(review.applied()) == 1
    assert "approved" in shown(review.message(record))


def test_two_reviewers_at_once_produce_one_outcome(review, record):
    review.post(record)
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def reviewer(user: str, action_id: str, **selected: Any) -> None:
        start.wait()
        results[user] = review.click(action_id, record, user=user, **selected)

    threads = [
        threading.Thread(target=reviewer, args=("UALICE", "approve")),
        threading.Thread(target=reviewer, args=("UBOB", "correct"),
                         kwargs={"labels": {"category": "refund"}, "reason": "wrong_category"}),
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    review.work()

    assert sorted(results.values()) == ["already_resolved", "claimed"]
    winner = next(user for user, result in results.items() if result == "claimed")
    assert review.review(record)["reviewer"] == winner
    assert len(review.applied()) == 1


# ---------------------------------------------------------------- stale ticket
def test_stale_ticket_approve_is_not_applied_and_the_reviewer_is_warned(review, record, zendesk):
    review.post(record)
    zendesk.touch(TICKET, status="open")  # an agent edited the ticket after the decision

    assert review.click("approve", record) == "claimed"
    assert review.work() == ["stale"]

    assert review.applied() == []
    assert review.review(record)["state"] == "pending"
    message = review.message(record)
    assert message["updated"] is True
    assert ":warning: The ticket changed" in shown(message)
    assert [b["text"]["text"] for b in elements(message, "button")] == ["Approve anyway", "Correct anyway", "Escalate"]


def test_stale_ticket_approve_anyway_then_applies(review, record, zendesk):
    review.post(record)
    zendesk.touch(TICKET, status="open")
    review.click("approve", record)
    review.work()

    assert review.click("approve_anyway", record, user="UALICE") == "claimed"
    assert review.work() == ["approve"]

    [applied] = review.applied()
    assert applied.labels == PROPOSED
    assert review.review(record)["state"] == "resolved"
    assert "approved" in shown(review.message(record))


def test_unchanged_ticket_is_checked_and_applied_without_a_warning(review, record, zendesk):
    review.post(record)

    review.click("approve", record)
    assert review.work() == ["approve"]

    assert any(r.path.startswith(f"/api/v2/tickets/{TICKET}") for r in zendesk.requests)
    assert ":warning:" not in shown(review.message(record))


# ---------------------------------------------------------------- Slack down
def test_slack_5xx_on_post_raises_transient_and_the_case_stays_postable(review, record, slack):
    slack.fail_next(503)

    with pytest.raises(TransientVendorError):
        review.post(record)

    assert slack.messages(REVIEW) == []
    assert review.review(record) == {}  # nothing recorded: the redelivery posts it
    assert review.worker.post(DecisionMessage.from_record(record)) == "posted"
    assert len(slack.messages(REVIEW)) == 1


def test_slack_rate_limit_on_post_raises_rate_limited_with_retry_after(review, record, slack):
    slack.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RateLimited) as caught:
        review.post(record)

    assert caught.value.retry_after == 7.0
    assert review.review(record) == {}
    assert review.worker.post(DecisionMessage.from_record(record)) == "posted"
    assert len(slack.messages(REVIEW)) == 1


def test_slack_channel_not_found_is_retried_not_dropped(review, record, slack):
    slack.fail_next_error("channel_not_found", method="chat.postMessage")

    with pytest.raises(TransientVendorError, match="channel_not_found"):
        review.post(record)

    assert review.worker.post(DecisionMessage.from_record(record)) == "posted"


def test_real_per_channel_rate_limit_surfaces_as_rate_limited(policy, zendesk, clock):
    with FakeSlack(BOT_TOKEN, per_channel_per_second=1.0) as limited:
        desk = Review(policy, limited, zendesk, InMemoryDecisionStore(), clock)
        first = decided(policy, clock.now - timedelta(minutes=2), event_id="e-first")
        second = decided(policy, clock.now - timedelta(minutes=2), event_id="e-second")
        desk.post(first)

        with pytest.raises(RateLimited) as caught:
            desk.post(second)

        assert caught.value.retry_after >= 1
        assert len(limited.messages(REVIEW)) == 1


# ---------------------------------------------------------------- review SLA
def test_review_past_its_sla_is_reposted_once_mentioning_the_escalation_group(review, record, slack, clock):
    review.post(record)
    clock.advance(minutes=31)

    review.backlog.run()

    first, repost = slack.messages(REVIEW)
    assert first["ts"] == review.review(record)["ts"]
    assert repost["text"].startswith("<!subteam^S05SUPLEADS> review overdue: waiting 31 min (SLA 30 min)")
    assert "Charged twice for the November invoice" in shown(repost)
    assert review.ledger.records[record.decision_id].review["sla_notified"] is True


def test_review_past_its_sla_is_never_approved(review, record, clock):
    review.post(record)
    clock.advance(minutes=31)

    review.backlog.run()
    clock.advance(hours=12)
    review.backlog.run()

    assert review.applied() == []
    assert review.review(record)["state"] == "pending"
    assert review.jobs.bodies == []


def test_review_sla_second_run_does_not_repost(review, record, slack, clock):
    review.post(record)
    clock.advance(minutes=31)
    review.backlog.run()
    clock.advance(minutes=5)

    review.backlog.run()

    assert len(slack.messages(REVIEW)) == 2


def test_review_within_its_sla_is_not_reposted(review, record, slack, clock):
    review.post(record)
    clock.advance(minutes=29)

    review.backlog.run()

    assert len(slack.messages(REVIEW)) == 1


def test_backlog_reports_pending_count_and_oldest_age_per_workflow(review, policy, slack, clock):
    old = decided(policy, clock.now - timedelta(minutes=2), event_id="e-old")
    review.post(old)
    clock.advance(minutes=10)
    review.post(decided(policy, clock.now - timedelta(minutes=2), event_id="e-new"))
    done = decided(policy, clock.now - timedelta(minutes=2), event_id="e-done")
    review.post(done)
    review.click("approve", done)
    review.work()
    clock.advance(minutes=5)

    stats = review.backlog.run()

    assert stats[WORKFLOW] == {"pending": 2, "oldest_minutes": pytest.approx(15.0)}
    assert stats["hubspot-tickets"] == {"pending": 0, "oldest_minutes": 0.0}


def test_resolving_from_the_sla_repost_updates_the_message_that_was_clicked(review, record, slack, clock):
    review.post(record)
    clock.advance(minutes=31)
    review.backlog.run()
    _, repost = slack.messages(REVIEW)
    payload = block_actions_payload("approve", record.decision_id, user_id="UALICE",
                                    channel=slack.channel_id(REVIEW), ts=repost["ts"])  # fmt: skip
    action = parse_interaction(signed_interaction(payload, SIGNING_SECRET)[0])
    assert action is not None

    assert review.desk.act(action) == "claimed"
    assert review.work() == ["approve"]

    clicked = slack.message(REVIEW, repost["ts"])
    assert "approved" in shown(clicked)
    assert elements(clicked, "button") == []


# ---------------------------------------------------------------- DynamoDB ledger (moto)
@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB evaluates a conditional write atomically per item; moto does not serialise concurrent requests."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


@pytest.fixture
def dynamo_review(stack: Stack, policy, slack, zendesk, clock) -> Review:
    return Review(policy, slack, zendesk, DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb), clock)


def test_dynamo_two_reviewers_at_once_produce_one_claim(dynamo_review, record, atomic_conditional_writes):
    dynamo_review.post(record)
    start = threading.Barrier(4)
    results: list[str] = []

    def reviewer(user: str) -> None:
        start.wait()
        results.append(dynamo_review.click("approve" if user < "UC" else "escalate", record, user=user))

    threads = [threading.Thread(target=reviewer, args=(user,)) for user in ("UALICE", "UBOB", "UCAROL", "UDAN")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = dynamo_review.work()

    assert sorted(results) == ["already_resolved"] * 3 + ["claimed"]
    assert outcomes.count("noticed") == 3
    assert [o for o in outcomes if o != "noticed"] in (["approve"], ["escalate"])
    assert len(dynamo_review.applied()) + len(dynamo_review.slack.messages(ESCALATIONS)) == 1
    assert dynamo_review.review(record)["state"] in ("resolved", "escalated")


def test_dynamo_ledger_round_trips_a_whole_correction(dynamo_review, record, clock):
    dynamo_review.post(record)
    clock.advance(minutes=4)

    dynamo_review.click("correct", record, user="UALICE", labels={"priority": "high"}, reason="wrong_priority")
    assert dynamo_review.work() == ["correct"]

    stored = dynamo_review.review(record)
    assert (stored["state"], stored["verdict"], stored["reason"]) == ("resolved", "correct", "wrong_priority")
    assert stored["corrected"] == {"priority": "high"}
    assert stored["time_to_review_s"] == 240.0
    [applied] = dynamo_review.applied()
    assert applied.labels == {"category": "billing", "priority": "high"}


def test_dynamo_pending_reviews_come_from_the_by_review_state_index(dynamo_review, policy, slack, clock):
    waiting = decided(policy, clock.now - timedelta(minutes=2), event_id="e-waiting")
    done = decided(policy, clock.now - timedelta(minutes=2), event_id="e-done")
    unposted = decided(policy, clock.now - timedelta(minutes=2), event_id="e-unposted")
    dynamo_review.post(waiting)
    dynamo_review.post(done)
    dynamo_review.ledger.create(unposted)  # decided, message not posted yet
    dynamo_review.click("approve", done)
    dynamo_review.work()

    pending = dynamo_review.ledger.pending_reviews()

    assert [(p["decision_id"], p["workflow"], p["state"]) for p in pending] == [
        (waiting.decision_id, WORKFLOW, "pending")]  # fmt: skip
    assert pending[0]["review_posted_at"] == clock.now.isoformat()
    assert pending[0]["sla_notified"] is False


def test_dynamo_backlog_reposts_an_overdue_review_once(dynamo_review, record, slack, clock):
    dynamo_review.post(record)
    clock.advance(minutes=45)

    stats = dynamo_review.backlog.run()
    dynamo_review.backlog.run()

    assert stats[WORKFLOW] == {"pending": 1, "oldest_minutes": pytest.approx(45.0)}
    messages = slack.messages(REVIEW)
    assert len(messages) == 2
    assert messages[1]["text"].startswith("<!subteam^S05SUPLEADS> review overdue")
    [item] = dynamo_review.ledger.pending_reviews()
    assert item["sla_notified"] is True
    assert dynamo_review.applied() == []


# ---------------------------------------------------------------- the Lambda functions (moto)
def apigw(body: bytes, headers: dict[str, str], *, encode: bool = False) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event for POST /slack/interactions."""
    return {
        "version": "2.0", "routeKey": "POST /slack/interactions", "rawPath": "/slack/interactions",
        "rawQueryString": "", "headers": {k.lower(): v for k, v in headers.items()},
        "body": base64.b64encode(body).decode() if encode else body.decode(), "isBase64Encoded": encode,
        "requestContext": {"http": {"method": "POST", "path": "/slack/interactions"}, "requestId": "req-1",
                           "domainName": "api.example.test"},
    }  # fmt: skip


@dataclass
class Functions:
    stack: Stack
    ledger: DynamoDecisionStore
    visibility_calls: list[dict[str, Any]]

    def pending_case(self, record: DecisionRecord) -> str:
        """A decision whose review message is in Slack (channel, ts as ReviewNotifyFunction recorded them)."""
        self.ledger.create(record)
        ts = f"{time.time():.6f}"
        self.ledger.review_posted(record.decision_id, "C0REVIEW", ts, datetime.now(UTC).isoformat(), WORKFLOW)
        return ts

    def jobs(self) -> list[dict[str, Any]]:
        return self.stack.drain("ExceptionQueue")

    def receive(self) -> list[dict[str, Any]]:
        got = self.stack.sqs.receive_message(QueueUrl=self.stack.url("ExceptionQueue"), MaxNumberOfMessages=10,
                                             AttributeNames=["All"], VisibilityTimeout=0)  # fmt: skip
        return list(got.get("Messages", []))

    def notify(self, module: ModuleType, messages: list[dict[str, Any]]) -> dict[str, Any]:
        arn = self.stack.template.physical["ExceptionQueue"]["Arn"]
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]},
             "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
             "eventSourceARN": arn, "awsRegion": "us-east-1"}
            for m in messages
        ]  # fmt: skip
        context = LocalLambdaContext(int(time.time() * 1000) + 30_000)
        return dict(module.lambda_handler({"Records": records}, context))


class SqsSpy:
    def __init__(self, inner: Any, calls: list[dict[str, Any]]) -> None:
        self._inner, self._calls = inner, calls

    def change_message_visibility(self, **kwargs: Any) -> Any:
        self._calls.append(kwargs)
        return self._inner.change_message_visibility(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def functions(stack: Stack, slack: FakeSlack, zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> Functions:
    """The environment template.yaml gives SlackActionsFunction and ReviewNotifyFunction, and the vendor secret."""
    secret_id = stack.url("VendorSecret")
    secrets = stack.session.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    current.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, ZENDESK_EMAIL=ZD_EMAIL,
                   ZENDESK_API_TOKEN=ZD_TOKEN)  # fmt: skip
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))
    env = {
        "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"), "EXCEPTION_QUEUE_URL": stack.url("ExceptionQueue"),
        "ACTIONS_QUEUE_URL": stack.url("ActionsQueue"), "CONTROL_TABLE_NAME": stack.url("ControlTable"),
        "TRIAGE_SECRET_ID": secret_id, "SLACK_API_URL": slack.url + "/api/", "ZENDESK_BASE_URL": zendesk.url,
    }  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    calls: list[dict[str, Any]] = []
    real_client = aws.client

    def spying_client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)
        return SqsSpy(made, calls) if service == "sqs" else made

    spying_client.cache_clear = real_client.cache_clear  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "client", spying_client)
    return Functions(stack, DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb), calls)


@pytest.fixture
def slack_actions(functions: Functions) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module = load_handler("slack_actions")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return dict(module.lambda_handler(event, LocalLambdaContext(int(time.time() * 1000) + 3_000)))

    return invoke


def signed_click(record: DecisionRecord, ts: str, *, secret: str = SIGNING_SECRET, now: float | None = None,
                 action_id: str = "approve", user: str = "UALICE") -> tuple[bytes, dict[str, str]]:  # fmt: skip
    payload = block_actions_payload(action_id, record.decision_id, user_id=user, channel="C0REVIEW", ts=ts)
    return signed_interaction(payload, secret, now=now)


def test_interactions_endpoint_acks_a_signed_click_with_an_empty_200_and_claims(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)

    started = time.monotonic()
    response = slack_actions(apigw(body, headers))
    elapsed = time.monotonic() - started

    assert response["statusCode"] == 200
    assert response["body"] == ""
    assert elapsed < 3.0
    assert functions.ledger.get(record.decision_id).review["state"] == "claimed"  # type: ignore[union-attr]
    [job] = [ReviewJob.model_validate(j) for j in functions.jobs()]
    assert (job.kind, job.verdict, job.user_id, job.ts) == ("review_outcome", "approve", "UALICE", ts)


def test_interactions_endpoint_rejects_a_bad_signature_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, secret="not-the-signing-secret")

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


def test_interactions_endpoint_rejects_a_tampered_body_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, action_id="escalate")
    tampered = body.replace(b"escalate", b"approve")

    response = slack_actions(apigw(tampered, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"


def test_interactions_endpoint_rejects_a_replayed_request_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, now=time.time() - 600)  # correctly signed, 10 minutes ago

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "stale_timestamp"
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_interactions_endpoint_rejects_missing_signature_headers_with_401(functions, slack_actions, record, missing):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)
    del headers[missing]

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "missing_signature"
    assert functions.jobs() == []


def test_interactions_endpoint_verifies_a_base64_encoded_body(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)

    response = slack_actions(apigw(body, headers, encode=True))

    assert response["statusCode"] == 200
    assert functions.ledger.get(record.decision_id).review["state"] == "claimed"  # type: ignore[union-attr]
    assert len(functions.jobs()) == 1


def test_interactions_endpoint_acks_a_dropdown_change_without_claiming(functions, slack_actions, record):
    ts = functions.pending_case(record)
    payload = block_actions_payload("approve", record.decision_id, user_id="UALICE", channel="C0REVIEW", ts=ts)
    payload["actions"] = [{"type": "static_select", "action_id": "reason", "selected_option": {"value": "other"}}]
    body, headers = signed_interaction(payload, SIGNING_SECRET)

    response = slack_actions(apigw(body, headers))

    assert (response["statusCode"], response["body"]) == (200, "")
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


def test_interactions_endpoint_two_reviewers_at_once_claim_once(functions, record, atomic_conditional_writes):
    ts = functions.pending_case(record)
    wiring.review_desk()  # built once, as on a warm Lambda
    wiring.vendor_secrets().get()
    requests = [apigw(*signed_click(record, ts, user=user)) for user in ("UALICE", "UBOB")]
    start = threading.Barrier(2)
    responses: list[dict[str, Any]] = []

    def post(event: dict[str, Any]) -> None:
        start.wait()
        responses.append(handle_interaction_event(event))

    threads = [threading.Thread(target=post, args=(event,)) for event in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r["statusCode"] for r in responses] == [200, 200]
    jobs = [ReviewJob.model_validate(j) for j in functions.jobs()]
    assert sorted(j.kind for j in jobs) == ["notice", "review_outcome"]
    [outcome] = [j for j in jobs if j.kind == "review_outcome"]
    [notice] = [j for j in jobs if j.kind == "notice"]
    assert {outcome.user_id, notice.user_id} == {"UALICE", "UBOB"}
    assert notice.notice == "This case is already resolved."


def test_process_exception_message_posts_a_decision_and_completes_a_review_job(functions, record, slack):
    functions.ledger.create(record)

    assert process_exception_message(DecisionMessage.from_record(record).model_dump_json()) == "posted"

    [message] = slack.messages(REVIEW)
    stored = functions.ledger.get(record.decision_id)
    assert stored is not None
    assert stored.review is not None
    assert stored.review["ts"] == message["ts"]
    assert functions.ledger.claim_review(record.decision_id, "UALICE", "approve")
    job = ReviewJob(kind="review_outcome", decision_id=record.decision_id, verdict="approve", user_id="UALICE",
                    channel=stored.review["channel"], ts=message["ts"], requested_at=datetime.now(UTC))  # fmt: skip

    assert process_exception_message(job.model_dump_json()) == "approve"

    [applied] = [DecisionMessage.model_validate(b) for b in functions.stack.drain("ActionsQueue")]
    assert (applied.decision_id, applied.action, applied.labels) == (record.decision_id, "apply", PROPOSED)
    assert "approved" in shown(slack.message(REVIEW, message["ts"]))


def test_review_notify_puts_a_rate_limited_case_back_for_retry_after(functions, record, slack):
    functions.ledger.create(record)
    functions.stack.sqs.send_message(QueueUrl=functions.stack.url("ExceptionQueue"),
                                     MessageBody=DecisionMessage.from_record(record).model_dump_json())  # fmt: skip
    [message] = functions.receive()
    slack.fail_next(429, headers={"Retry-After": "7"})

    response = functions.notify(load_handler("review_notify"), [message])

    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    [call] = functions.visibility_calls
    assert call["ReceiptHandle"] == message["ReceiptHandle"]
    assert call["QueueUrl"] == functions.stack.url("ExceptionQueue")
    assert call["VisibilityTimeout"] == 8
    assert slack.messages(REVIEW) == []


def test_review_notify_slack_down_redelivers_then_dead_letters_never_drops(functions, record, slack, stack):
    functions.ledger.create(record)
    stack.sqs.send_message(QueueUrl=stack.url("ExceptionQueue"),
                           MessageBody=DecisionMessage.from_record(record).model_dump_json())  # fmt: skip
    slack.fail_next(503, times=1000)
    module = load_handler("review_notify")
    max_receives = stack.template.resources["ExceptionQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    responses = []
    for _ in range(max_receives):
        messages = functions.receive()
        assert len(messages) == 1
        responses.append(functions.notify(module, messages))

    assert all(r == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]} for r in responses)
    assert functions.receive() == []  # the next receive moves it to the DLQ
    dead = stack.drain("ExceptionDlq")
    assert [DecisionMessage.model_validate(b).decision_id for b in dead] == [record.decision_id]
    assert functions.visibility_calls == []


def test_review_backlog_function_reposts_overdue_cases_and_emits_the_oldest_age(functions, record, slack, capsys):
    functions.ledger.create(record)
    posted_at = (datetime.now(UTC) - timedelta(minutes=45)).isoformat()
    functions.ledger.review_posted(record.decision_id, slack.channel_id(REVIEW), "1764244800.000100", posted_at,
                                   WORKFLOW)  # fmt: skip
    module = load_handler("review_backlog")

    result = module.lambda_handler({}, LocalLambdaContext(int(time.time() * 1000) + 60_000))

    assert result["workflows"][WORKFLOW]["pending"] == 1
    assert 45 <= result["workflows"][WORKFLOW]["oldest_minutes"] < 46
    [repost] = slack.messages(REVIEW)
    assert repost["text"].startswith("<!subteam^S05SUPLEADS> review overdue: waiting 45 min (SLA 30 min)")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    oldest = [m for m in emitted if "OldestPendingReviewAge" in m and m.get("Workflow") == WORKFLOW]
    assert len(oldest) == 1
    value = oldest[0]["OldestPendingReviewAge"]
    assert 45 <= (value[0] if isinstance(value, list) else value) < 46
    assert functions.ledger.pending_reviews()[0]["sla_notified"] is True


# ---------------------------------------------------------------- the feedback loop
BASE_ROWS = [
    ("I was charged twice on my card", "billing"), ("The invoice total is wrong", "billing"),
    ("Please send a copy of the invoice", "billing"), ("Update the billing address on invoices", "billing"),
    ("The export button crashes the app", "bug"), ("Error 500 when saving a report", "bug"),
    ("The dashboard does not load", "bug"), ("Search returns a blank page", "bug"),
    ("I want my money back for last month", "refund"), ("Please refund the duplicate payment", "refund"),
    ("Refund the annual plan I cancelled", "refund"), ("Money back for the unused seats please", "refund"),
]  # fmt: skip


def _reviewed_records(review: Review, policy: Policy, clock: Clock) -> list[DecisionRecord]:
    approved = decided(policy, clock.now - timedelta(minutes=2), event_id="e-approved")
    corrected = decided(policy, clock.now - timedelta(minutes=2), event_id="e-corrected")
    escalated = decided(policy, clock.now - timedelta(minutes=2), event_id="e-escalated")
    overridden = decided(policy, clock.now - timedelta(minutes=2), event_id="e-overridden")
    untouched = decided(policy, clock.now - timedelta(minutes=2), event_id="e-untouched")
    for item in (approved, corrected, escalated):
        review.post(item)
    review.ledger.create(overridden)
    review.ledger.create(untouched)
    review.click("approve", approved, user="UALICE")
    review.click("correct", corrected, user="UBOB", labels={"category": "refund"}, reason="wrong_category")
    review.click("escalate", escalated, user="UCAROL")
    review.work()
    review.ledger.add_override(overridden.decision_id, {
        "kind": "override", "task": "category", "field": "custom_field", "system_label": "billing",
        "system_value": "billing", "human_value": "bug", "human_label": "bug"})  # fmt: skip
    return [review.ledger.get(r.decision_id) for r in (approved, corrected, escalated, overridden, untouched)]


def test_feedback_export_has_reviewed_and_overridden_cases_with_text_and_task_columns(review, policy, clock, tmp_path):
    records = _reviewed_records(review, policy, clock)
    out = tmp_path / "feedback.csv"

    assert write_csv(labelled_rows(records), out) == 3

    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = {row["decision_id"].rsplit(":", 1)[1]: row for row in reader}
        columns = reader.fieldnames or []
    assert {"text", "category", "priority", "label_source", "reason", "reviewer"} <= set(columns)
    assert set(rows) == {"e-approved", "e-corrected", "e-overridden"}  # escalated and untouched: no human label
    assert (rows["e-approved"]["category"], rows["e-approved"]["label_source"]) == ("billing", "review_approve")
    corrected = rows["e-corrected"]
    assert (corrected["category"], corrected["priority"]) == ("refund", "normal")
    assert (corrected["label_source"], corrected["reason"], corrected["reviewer"]) == (
        "review_correct", "wrong_category", "UBOB")  # fmt: skip
    assert (rows["e-overridden"]["category"], rows["e-overridden"]["label_source"]) == ("bug", "override")
    assert all("[EMAIL]" in row["text"] and RAW_EMAIL not in row["text"] for row in rows.values())
    assert all(row["text"].startswith("Charged twice for the November invoice") for row in rows.values())


def test_feedback_export_trains_with_triage_train_include(review, policy, clock, tmp_path, capsys):
    export = tmp_path / "feedback.csv"
    write_csv(labelled_rows(_reviewed_records(review, policy, clock)), export)
    base = tmp_path / "base.csv"
    with base.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(BASE_ROWS)
    model = tmp_path / "models" / "category.json"

    code = cli.main(["train", str(base), "--text-col", "text", "--label-col", "category", "--include", str(export),
                     "--out", str(model), "--task", "category", "--workflow", WORKFLOW])  # fmt: skip

    assert code == 0
    assert model.is_file()
    assert "included 3 rows" in capsys.readouterr().err


def test_corrections_reach_the_next_classification_prompt(review, record, policy):
    review.post(record)
    review.click("correct", record, labels={"category": "refund"}, reason="wrong_category")
    review.work()
    h = harness(policy, documents={("zendesk", str(TICKET)): zendesk_documents()})
    h.service.deps.examples = review.examples  # type: ignore[misc]
    event = ticket_event().model_copy(update={"event_id": "e-next", "dedupe_key": "zendesk:90817263:e-next"})

    h.service.process(event)

    [prompt] = h.remote.prompts
    assert "Recent tickets reviewers labelled for `category`" in prompt.system
    assert "→ `refund`" in prompt.system
    assert RAW_EMAIL not in prompt.system
