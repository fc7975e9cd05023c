"""The review and resolved messages: Block Kit limits, the buttons and selects, round trips."""

from __future__ import annotations

import json

from tests.unit.review.conftest import CHANNEL, DECISION_ID, TS, WORKFLOW, elements, form, record
from triage_gate.policy import Policy
from triage_gate.review.blocks import resolved_message, review_message
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.review.signing import block_actions_payload
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord


# ---------------------------------------------------------------- Block Kit limits
def _heavy_record() -> DecisionRecord:
    """Everything as long as it can get: all reason codes, a huge multi-line text, many context fields."""
    return record(
        reason_codes=list(reasons.DESCRIPTIONS),
        subject="S" * 1000,
        input_text="line of text\n" * 2000,
        context_fields={f"organization.field_{i}": "v" * 400 for i in range(40)},
    )


def test_review_message_stays_within_slacks_block_kit_limits(shipped_policy: Policy) -> None:
    text, blocks = review_message(_heavy_record(), shipped_policy.workflows[WORKFLOW], "https://z.example/t/1")

    assert len(blocks) <= 50
    assert len(text) <= 40_000
    for block in blocks:
        if block["type"] == "actions":
            assert len(block["elements"]) <= 5
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    for button in elements(blocks, "button"):
        assert len(button["text"]["text"]) <= 75
        assert len(button["value"]) <= 2000
    for select in elements(blocks, "static_select"):
        assert len(select["options"]) <= 100
        assert len(select["placeholder"]["text"]) <= 150
        assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in select["options"])


def test_review_message_clips_the_excerpt_of_a_long_ticket(shipped_policy: Policy) -> None:
    _, blocks = review_message(_heavy_record(), shipped_policy.workflows[WORKFLOW], None)

    excerpt = blocks[1]["text"]["text"]
    assert excerpt.endswith("…")
    assert excerpt.count("line of text") < 100


def test_review_message_offers_approve_correct_escalate_and_every_taxonomy_label(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    _, blocks = review_message(record(), workflow, None)

    assert [b["action_id"] for b in elements(blocks, "button")] == ["approve", "correct", "escalate"]
    assert {b["value"] for b in elements(blocks, "button")} == {DECISION_ID}
    selects = {s["action_id"]: [o["value"] for o in s["options"]] for s in elements(blocks, "static_select")}
    assert selects["label:category"] == [f"category={label}" for label in workflow.tasks["category"].labels]
    assert selects["label:priority"] == [f"priority={label}" for label in workflow.tasks["priority"].labels]
    assert selects["reason"] == list(CORRECTION_REASONS)


def test_review_message_with_a_warning_offers_approve_anyway(shipped_policy: Policy) -> None:
    _, blocks = review_message(record(), shipped_policy.workflows[WORKFLOW], None, warning="The ticket changed")

    assert [b["text"]["text"] for b in elements(blocks, "button")] == ["Approve anyway", "Correct anyway", "Escalate"]
    assert [b["action_id"] for b in elements(blocks, "button")] == ["approve_anyway", "correct_anyway", "escalate"]
    assert any(":warning: The ticket changed" in b.get("text", {}).get("text", "") for b in blocks)


def test_review_message_selects_round_trip_through_parse_interaction(shipped_policy: Policy) -> None:
    """The option values the message offers are what parse_interaction understands."""
    _, blocks = review_message(record(), shipped_policy.workflows[WORKFLOW], None)
    chosen = {s["action_id"]: s["options"][-1] for s in elements(blocks, "static_select")}
    payload = block_actions_payload("correct", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    payload["state"]["values"] = {
        "review_choices": {aid: {"type": "static_select", "selected_option": opt} for aid, opt in chosen.items()}
    }

    action = parse_interaction(form(payload))

    assert action is not None
    assert action.labels == {"category": "other", "priority": "urgent"}
    assert action.reason == "other"


def test_resolved_message_says_who_resolved_it_how_and_has_no_buttons() -> None:
    review = {"verdict": "correct", "reviewer": "UALICE", "reviewer_name": "alice", "labels": {"category": "refund"},
              "reason": "wrong_category", "resolved_at": "2026-11-27T12:05:00+00:00",
              "time_to_review_s": 300.0}  # fmt: skip

    text, blocks = resolved_message(record(), review)

    shown = json.dumps(blocks)
    assert "corrected to category `refund`" in shown
    assert CORRECTION_REASONS["wrong_category"] in shown
    assert "<@UALICE>" in shown
    assert "300 s" in shown
    assert "by alice" in text
    assert not any(b["type"] == "actions" for b in blocks)
