"""Review in Slack, the pure parts: interaction parsing, request signing, Block Kit limits, the ack path's
claim/enqueue rules, few-shot examples and the prompt that carries them. No network."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from triage_gate.adapters.memory import InMemoryDecisionStore, RecordingQueue
from triage_gate.errors import InvalidPayload, QueueUnavailable
from triage_gate.policy import Policy, load_policy
from triage_gate.review.blocks import resolved_message, review_message
from triage_gate.review.feedback import EXAMPLE_CHARS, EXAMPLES_PER_LABEL, add_example
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.models import CORRECTION_REASONS, ReviewJob
from triage_gate.review.service import ReviewDesk
from triage_gate.review.signing import block_actions_payload, signed_interaction, slack_signature
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord, TaskDecision
from triage_gate.triage.prompt import system_prompt

DECISION_ID = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
CHANNEL, TS = "C0REVIEW01", "1764244800.000100"
WORKFLOW = "zendesk-support"
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped_policy() -> Policy:
    return load_policy()


def form(payload: Any) -> bytes:
    """A Slack interaction request body: `payload=<json>`, form-urlencoded."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def click(action_id: str, **kwargs: Any) -> bytes:
    kwargs.setdefault("user_id", "UALICE")
    kwargs.setdefault("user_name", "alice")
    kwargs.setdefault("channel", CHANNEL)
    kwargs.setdefault("ts", TS)
    return form(block_actions_payload(action_id, DECISION_ID, **kwargs))


def record(**changes: Any) -> DecisionRecord:
    tasks = {
        "category": TaskDecision(label="billing", reported_confidence=0.5, calibrated_confidence=0.41, threshold=0.7,
                                 route="haiku", model="claude-haiku-4-5"),
        "priority": TaskDecision(label="normal", reported_confidence=0.4, calibrated_confidence=0.4, threshold=0.5,
                                 route="local", model="local"),
    }  # fmt: skip
    fields: dict[str, Any] = {
        "decision_id": DECISION_ID, "correlation_id": "zendesk:40211", "source": "zendesk", "account_id": "90817263",
        "ticket_id": "40211", "event_id": "3f6c1a52", "event_type": "ticket.created", "workflow": WORKFLOW,
        "policy_version": "2026-11-27.1", "policy_sha256": "0" * 64, "prompt_version": "classify-v1",
        "created_at": CREATED, "occurred_at": CREATED, "mode": "auto", "action": "review",
        "proposed_action": "review", "reason_codes": ["low_confidence"], "tasks": tasks, "input_hash": "0" * 64,
        "input_text": "I was charged twice, write to [EMAIL].", "subject": "Charged twice",
        "context_fields": {"organization.name": "Acme"},
    }  # fmt: skip
    fields.update(changes)
    return DecisionRecord.model_validate(fields)


def elements(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == kind]


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


# ---------------------------------------------------------------- signing
def test_slack_signature_matches_the_documented_v0_formula() -> None:
    secret, timestamp, body = "s3cr3t-signing", "1764244800", b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    expected = "v0=" + hmac.new(secret.encode(), b"v0:1764244800:" + body, hashlib.sha256).hexdigest()

    assert slack_signature(secret, timestamp, body) == expected


def test_slack_signature_reproduces_slacks_published_example() -> None:
    # The worked example in Slack's "Verifying requests from Slack" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    signature = slack_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)

    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_signature_changes_when_one_byte_of_the_body_changes() -> None:
    assert slack_signature("k", "1", b"payload=a") != slack_signature("k", "1", b"payload=b")


def test_signed_interaction_is_accepted_by_slack_sdks_verifier() -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    now = 1_764_244_800.0

    body, headers = signed_interaction(payload, "s3cr3t-signing", now=now)

    verifier = SignatureVerifier("s3cr3t-signing", clock=_FixedClock(now))
    assert headers["X-Slack-Request-Timestamp"] == "1764244800"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("another-secret", clock=_FixedClock(now)).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert parse_interaction(body) == parse_interaction(form(payload))


class _FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


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


# ---------------------------------------------------------------- the ack path (ReviewDesk)
def _desk(state: str = "pending") -> tuple[ReviewDesk, InMemoryDecisionStore, RecordingQueue]:
    ledger, jobs = InMemoryDecisionStore(), RecordingQueue()
    ledger.create(record())
    ledger.review_posted(DECISION_ID, CHANNEL, TS, CREATED.isoformat(), WORKFLOW)
    ledger.records[DECISION_ID].review["state"] = state  # type: ignore[index]
    return ReviewDesk(ledger, jobs, clock=lambda: CREATED + timedelta(minutes=3)), ledger, jobs


def _act(desk: ReviewDesk, body: bytes) -> str:
    action = parse_interaction(body)
    assert action is not None
    return desk.act(action)


def test_desk_claims_the_case_and_enqueues_the_outcome() -> None:
    desk, ledger, jobs = _desk()

    result = _act(desk, click("correct", labels={"category": "refund"}, reason="wrong_category"))

    assert result == "claimed"
    assert ledger.records[DECISION_ID].review["state"] == "claimed"  # type: ignore[index]
    [job] = [ReviewJob.model_validate_json(b) for b in jobs.bodies]
    assert (job.kind, job.verdict, job.user_id, job.force) == ("review_outcome", "correct", "UALICE", False)
    assert (job.labels, job.reason, job.channel, job.ts) == ({"category": "refund"}, "wrong_category", CHANNEL, TS)


def test_desk_approve_anyway_is_an_approve_with_force() -> None:
    desk, _, jobs = _desk()

    assert _act(desk, click("approve_anyway", labels={"category": "refund"}, reason="other")) == "claimed"

    [job] = [ReviewJob.model_validate_json(b) for b in jobs.bodies]
    assert (job.verdict, job.force, job.labels, job.reason) == ("approve", True, {}, None)


@pytest.mark.parametrize(
    "selection",
    [{}, {"labels": {"category": "refund"}}, {"reason": "wrong_category"},
     {"labels": {"category": "refund"}, "reason": "because"}],
    ids=["nothing", "label-only", "reason-only", "unknown-reason"],
)  # fmt: skip
def test_desk_correct_without_label_and_known_reason_only_sends_a_notice(selection: dict[str, Any]) -> None:
    desk, ledger, jobs = _desk()

    assert _act(desk, click("correct", **selection)) == "incomplete"

    assert ledger.records[DECISION_ID].review["state"] == "pending"  # type: ignore[index]
    [job] = [ReviewJob.model_validate_json(b) for b in jobs.bodies]
    assert job.kind == "notice"
    assert "reason" in (job.notice or "")


@pytest.mark.parametrize("state", ["claimed", "resolved"])
def test_desk_click_on_a_case_someone_already_took_says_already_resolved(state: str) -> None:
    desk, ledger, jobs = _desk(state)

    assert _act(desk, click("approve")) == "already_resolved"

    assert ledger.records[DECISION_ID].review["state"] == state  # type: ignore[index]
    [job] = [ReviewJob.model_validate_json(b) for b in jobs.bodies]
    assert (job.kind, job.notice) == ("notice", "This case is already resolved.")


def test_desk_releases_the_claim_when_the_outcome_cannot_be_queued() -> None:
    desk, ledger, jobs = _desk()
    jobs.failing = True

    with pytest.raises(QueueUnavailable):
        _act(desk, click("approve"))

    assert ledger.records[DECISION_ID].review["state"] == "pending"  # type: ignore[index]
    jobs.failing = False
    assert _act(desk, click("approve")) == "claimed"


# ---------------------------------------------------------------- few-shot examples
def test_add_example_keeps_the_newest_per_label_first_and_caps_them() -> None:
    examples: dict[str, dict[str, list[str]]] = {}

    for text in ("first refund", "second refund", "third refund"):
        add_example(examples, "category", "refund", text)

    assert EXAMPLES_PER_LABEL == 2
    assert examples == {"category": {"refund": ["third refund", "second refund"]}}


def test_add_example_dedupes_by_moving_a_repeated_text_to_the_front() -> None:
    examples: dict[str, dict[str, list[str]]] = {}
    add_example(examples, "category", "refund", "charged   twice\nplease")
    add_example(examples, "category", "refund", "another one")

    add_example(examples, "category", "refund", "charged twice please")

    assert examples["category"]["refund"] == ["charged twice please", "another one"]


def test_add_example_clips_long_texts_and_keeps_labels_apart() -> None:
    examples: dict[str, dict[str, list[str]]] = {}

    add_example(examples, "category", "refund", "x" * 5000)
    add_example(examples, "category", "billing", "an invoice")
    add_example(examples, "priority", "high", "blocked")

    assert len(examples["category"]["refund"][0]) == EXAMPLE_CHARS
    assert examples["category"]["billing"] == ["an invoice"]
    assert examples["priority"] == {"high": ["blocked"]}


def test_add_example_gives_the_same_result_for_the_same_sequence() -> None:
    sequence = [("category", "refund", "a"), ("category", "bug", "b"), ("category", "refund", "c"),
                ("category", "refund", "a"), ("priority", "high", "d")]  # fmt: skip
    first: dict[str, dict[str, list[str]]] = {}
    second: dict[str, dict[str, list[str]]] = {}

    for task, label, text in sequence:
        add_example(first, task, label, text)
        add_example(second, task, label, text)

    assert json.dumps(first) == json.dumps(second)
    assert first["category"]["refund"] == ["a", "c"]


# ---------------------------------------------------------------- the prompt carries the corrections
def test_system_prompt_lists_recent_corrections_sorted_by_label(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]
    corrections = {"category": {"refund": ["please refund [EMAIL]"], "billing": ["invoice INV-1 is wrong"]}}

    prompt = system_prompt(WORKFLOW, workflow, ["category", "priority"], corrections)

    assert "Recent tickets reviewers labelled for `category`" in prompt
    billing = prompt.index('- "invoice INV-1 is wrong" → `billing`')
    refund = prompt.index('- "please refund [EMAIL]" → `refund`')
    assert billing < refund
    assert "reviewers labelled for `priority`" not in prompt


def test_system_prompt_is_the_same_whatever_order_the_corrections_arrive_in(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]
    one = {"category": {"refund": ["r"], "billing": ["b"], "bug": ["x"]}}
    other = {"category": {"bug": ["x"], "billing": ["b"], "refund": ["r"]}}
    first = system_prompt(WORKFLOW, workflow, ["category"], one)

    assert first == system_prompt(WORKFLOW, workflow, ["category"], other)


def test_system_prompt_leaves_out_corrections_to_labels_outside_the_taxonomy(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    prompt = system_prompt(WORKFLOW, workflow, ["category"], {"category": {"retired_label": ["old ticket"]}})

    assert "old ticket" not in prompt


def test_system_prompt_without_corrections_has_no_reviewed_examples(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    prompt = system_prompt(WORKFLOW, workflow, ["category"], None)

    assert "Recent tickets reviewers labelled" not in prompt
    assert prompt == system_prompt(WORKFLOW, workflow, ["category"], {})
