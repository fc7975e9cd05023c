"""Posting a case to the review channel: the message, its masking and buttons, and Slack being down."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.integration.review.conftest import (
    BOT_TOKEN,
    ESCALATIONS,
    RAW_EMAIL,
    REVIEW,
    TICKET,
    WORKFLOW,
    Review,
    decided,
    elements,
    shown,
)
from triage_gate.errors import RateLimited, TransientVendorError
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.triage import reasons
from triage_gate.triage.decision import decision_message
from triage_local.sandboxes import FakeSlack
from triage_tools.memory import InMemoryDecisionStore


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
    message = decision_message(record)
    review.post(record)

    assert review.worker.post(message) == "already_posted"

    assert len(slack.messages(REVIEW)) == 1
    assert slack.posts == 1


# ---------------------------------------------------------------- Slack down
def test_slack_5xx_on_post_raises_transient_and_the_case_stays_postable(review, record, slack):
    slack.fail_next(503)

    with pytest.raises(TransientVendorError):
        review.post(record)

    assert slack.messages(REVIEW) == []
    assert review.review(record) == {}  # nothing recorded: the redelivery posts it
    assert review.worker.post(decision_message(record)) == "posted"
    assert len(slack.messages(REVIEW)) == 1


def test_slack_rate_limit_on_post_raises_rate_limited_with_retry_after(review, record, slack):
    slack.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RateLimited) as caught:
        review.post(record)

    assert caught.value.retry_after == 7.0
    assert review.review(record) == {}
    assert review.worker.post(decision_message(record)) == "posted"
    assert len(slack.messages(REVIEW)) == 1


def test_slack_channel_not_found_is_retried_not_dropped(review, record, slack):
    slack.fail_next_error("channel_not_found", method="chat.postMessage")

    with pytest.raises(TransientVendorError, match="channel_not_found"):
        review.post(record)

    assert review.worker.post(decision_message(record)) == "posted"


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
