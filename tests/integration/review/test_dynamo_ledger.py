"""The review ledger on the template's DecisionsTable (moto): the claim race, the by_review_state index."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.integration.conftest import Stack
from tests.integration.review.conftest import ESCALATIONS, REVIEW, WORKFLOW, Review, decided
from triage_gate.adapters.decisions_table import DynamoDecisionStore


# ---------------------------------------------------------------- DynamoDB ledger (moto)
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
