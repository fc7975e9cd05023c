"""parse_interaction: buttons, selects, and what is ignored or refused as an invalid payload."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.unit.review.conftest import CHANNEL, DECISION_ID, TS, click, form
from triage_gate.errors import InvalidPayload
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.signing import block_actions_payload


# ---------------------------------------------------------------- parse_interaction
@pytest.mark.parametrize("button", ["approve", "correct", "escalate", "approve_anyway", "correct_anyway"])
def test_parse_interaction_reads_each_review_button(button: str) -> None:
    action = parse_interaction(click(button))

    assert action is not None
    assert action.action == button
    assert action.decision_id == DECISION_ID
    assert (action.user_id, action.user_name) == ("UALICE", "alice")
    assert (action.channel, action.ts) == (CHANNEL, TS)


def test_parse_interaction_reads_the_label_and_reason_selects_from_state_values() -> None:
    body = click("correct", labels={"category": "refund", "priority": "high"}, reason="wrong_category")

    action = parse_interaction(body)

    assert action is not None
    assert action.labels == {"category": "refund", "priority": "high"}
    assert action.reason == "wrong_category"


def test_parse_interaction_without_selections_has_no_labels_and_no_reason() -> None:
    action = parse_interaction(click("approve"))

    assert action is not None
    assert action.labels == {}
    assert action.reason is None


def test_parse_interaction_ignores_a_dropdown_change_without_a_button() -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    payload["actions"] = [{"type": "static_select", "action_id": "label:category", "block_id": "review_choices",
                           "selected_option": {"value": "category=refund"}}]  # fmt: skip

    assert parse_interaction(form(payload)) is None


@pytest.mark.parametrize("kind", ["view_submission", "shortcut", "message_action", None])
def test_parse_interaction_returns_none_for_payloads_that_are_not_block_actions(kind: str | None) -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    payload["type"] = kind

    assert parse_interaction(form(payload)) is None


def test_parse_interaction_returns_none_for_a_json_payload_that_is_not_an_object() -> None:
    assert parse_interaction(form(["approve"])) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a form at all",
        b"payload=%7Bnot-json",
        b"other=1",
        b"payload=" + quote("\u00ff").encode() + b"\xff\xfe",
        json.dumps({"type": "block_actions"}).encode(),
    ],
    ids=["empty", "not-a-form", "not-json", "no-payload-field", "not-utf8", "raw-json"],
)
def test_parse_interaction_rejects_garbage_as_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_interaction(body)

    assert caught.value.reason == "invalid_payload"


def test_parse_interaction_rejects_a_button_without_a_decision_id() -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    del payload["actions"][0]["value"]

    with pytest.raises(InvalidPayload):
        parse_interaction(form(payload))


def test_parse_interaction_rejects_a_click_without_a_user() -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    payload["user"] = {}

    with pytest.raises(InvalidPayload):
        parse_interaction(form(payload))
