"""The review SLA: overdue cases are reposted once, never approved; the backlog's figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.review.conftest import REVIEW, SIGNING_SECRET, WORKFLOW, decided, elements, shown
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.signing import block_actions_payload, signed_interaction


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
