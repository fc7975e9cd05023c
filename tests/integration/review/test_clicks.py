"""What a reviewer's click does: approve, correct, escalate."""

from __future__ import annotations

from tests.integration.review.conftest import (
    ESCALATIONS,
    PROPOSED,
    RAW_EMAIL,
    REVIEW,
    SIGNING_SECRET,
    TICKET,
    WORKFLOW,
    elements,
    shown,
)
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.review.signing import block_actions_payload, signed_interaction


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
