"""The internal note: labels, calibrated confidence, reasons in plain words, the decision ref."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.unit.writeback_plan.conftest import DECISION_ID, message
from triage_gate.triage.decision import DecisionRecord, TaskDecision, decision_message
from triage_gate.writeback.plan import (
    NOTE_MARKER,
    decision_ref,
    note_text,
)


# ---------------------------------------------------------------- the note
def test_note_names_labels_calibrated_confidence_reasons_in_plain_words_and_the_decision_ref():
    msg = message(
        mode="assist",
        labels={"category": "refund", "priority": "normal"},
        confidence={"category": 0.734, "priority": 0.5},
        reason_codes=["low_confidence", "vip_customer"],
    )

    text = note_text(msg)

    assert "category: refund (calibrated confidence 0.73)" in text
    assert "priority: normal (calibrated confidence 0.50)" in text
    assert "the model was not confident enough for this label" in text
    assert "the customer's tier is handled by a person" in text
    assert f"{NOTE_MARKER} {decision_ref(DECISION_ID)}" in text
    assert "policy 2026-11-27.1" in text


def test_note_shows_the_calibrated_not_the_reported_confidence():
    created = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    record = DecisionRecord(
        decision_id=DECISION_ID, correlation_id="zendesk:40198", source="zendesk", account_id="90817263",
        ticket_id="40198", event_id="e1", event_type="ticket.created", workflow="zendesk-support",
        policy_version="2026-11-27.1", policy_sha256="0" * 64, prompt_version="classify-v1", created_at=created,
        occurred_at=created, mode="auto", action="apply", proposed_action="apply", input_hash="0" * 64,
        tasks={"category": TaskDecision(label="bug", reported_confidence=0.97, calibrated_confidence=0.81,
                                        threshold=0.7, route="haiku", model="claude-haiku-4-5")},
    )  # fmt: skip

    text = note_text(decision_message(record))

    assert "category: bug (calibrated confidence 0.81)" in text
    assert "0.97" not in text


def test_note_says_na_when_a_task_has_no_confidence():
    text = note_text(message(labels={"category": "bug"}, confidence={"category": None}))

    assert "category: bug (calibrated confidence n/a)" in text


def test_note_keeps_an_unknown_reason_code_as_is():
    text = note_text(message(reason_codes=["some_new_reason"]))

    assert "Needs a human because: some_new_reason" in text


def test_note_without_reasons_says_nothing_about_a_human():
    assert "Needs a human" not in note_text(message(reason_codes=[]))


def test_decision_ref_is_stable_and_distinct_per_decision():
    ref = decision_ref(DECISION_ID)

    assert ref == decision_ref(DECISION_ID)
    assert len(ref) == 12
    assert ref != decision_ref(DECISION_ID + "x")
    assert DECISION_ID not in note_text(message())  # the note shows the short ref, not the raw event key
