"""Review messages are built by review/block_kit.py: every block passes slack_sdk's Block Kit validation unchanged,
what can be shortened is clipped to the limits it checks, and identifiers are never clipped. No network."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from tests.unit.review.conftest import DECISION_ID, WORKFLOW, record
from triage_gate.policy import Policy, Workflow
from triage_gate.review.block_kit import BlockKitLimitError
from triage_gate.review.blocks import resolved_message, review_message
from triage_gate.review.models import CORRECTION_REASONS

REVIEW = {"verdict": "approve", "reviewer": "UALICE", "reviewer_name": "alice", "labels": {"category": "billing"},
          "resolved_at": "2026-11-27T12:05:00+00:00", "time_to_review_s": 42.0}  # fmt: skip


def revalidated(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks parsed back into slack_sdk objects and serialised again: raises if one breaks a limit."""
    return [Block.parse(b).to_dict() for b in blocks]  # type: ignore[union-attr]


def selects(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]
            if e["type"] == "static_select"}  # fmt: skip


def with_labels(workflow: Workflow, task: str, labels: list[str]) -> Workflow:
    """A workflow whose task has these labels, bypassing the policy's validation (names of up to 64 chars)."""
    spec = workflow.tasks[task]
    some_label = next(iter(spec.labels.values()))
    tasks = {**workflow.tasks, task: spec.replace(**{"labels": dict.fromkeys(labels, some_label)})}
    return workflow.replace(**{"tasks": tasks})


# ---------------------------------------------------------------- the JSON Slack receives
def test_the_review_message_keeps_its_json_shape(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    _, blocks = review_message(record(), workflow, "https://acme.zendesk.com/agent/tickets/40211")

    assert [(b["type"], b.get("block_id")) for b in blocks] == [
        ("section", None), ("section", None), ("section", None), ("section", None), ("context", None),
        ("actions", "review_choices"), ("actions", "review_buttons"),
    ]  # fmt: skip
    headline = "*Review needed* · <https://acme.zendesk.com/agent/tickets/40211|zendesk #40211> · zendesk-support"
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": headline}}
    assert blocks[4] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "organization.name: Acme"}]}
    reason = selects(blocks)["reason"]
    assert reason == {
        "type": "static_select", "action_id": "reason",
        "placeholder": {"type": "plain_text", "text": "Why (for a correction)"},
        "options": [{"text": {"type": "plain_text", "text": text}, "value": code}
                    for code, text in CORRECTION_REASONS.items()],
    }  # fmt: skip
    assert blocks[-1] == {
        "type": "actions", "block_id": "review_buttons",
        "elements": [
            {"type": "button", "action_id": "approve", "style": "primary", "value": DECISION_ID,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "correct", "value": DECISION_ID,
             "text": {"type": "plain_text", "text": "Correct"}},
            {"type": "button", "action_id": "escalate", "style": "danger", "value": DECISION_ID,
             "text": {"type": "plain_text", "text": "Escalate"}},
        ],
    }  # fmt: skip


def test_the_resolved_message_keeps_its_json_shape() -> None:
    _, blocks = resolved_message(record(), REVIEW)

    assert blocks == [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": ":white_check_mark: *zendesk #40211* approved category `billing` "
                                             "by <@UALICE>"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "2026-11-27T12:05:00+00:00 · 42 s after it was posted · decision `" + DECISION_ID[-24:] + "`")}]},
    ]  # fmt: skip


@pytest.mark.parametrize("warning", [None, "The ticket changed"])
def test_every_block_passes_slack_sdks_validation_unchanged(shipped_policy: Policy, warning: str | None) -> None:
    for workflow in shipped_policy.workflows.values():
        _, blocks = review_message(record(), workflow, "https://z.example/t/1", warning=warning)

        assert revalidated(blocks) == blocks
    _, resolved = resolved_message(record(), REVIEW)
    assert revalidated(resolved) == resolved


# ---------------------------------------------------------------- limits: clipped, left out or refused
def test_an_option_value_over_150_chars_is_left_out_not_clipped_into_another_label(shipped_policy: Policy) -> None:
    fits, too_long = "a" * (150 - len("category=")), "b" * (151 - len("category="))
    workflow = with_labels(shipped_policy.workflows[WORKFLOW], "category", ["billing", fits, too_long])

    _, blocks = review_message(record(), workflow, None)

    options = selects(blocks)["label:category"]["options"]
    assert [o["value"] for o in options] == ["category=billing", f"category={fits}"]
    assert options[1]["text"]["text"] == fits[:75]  # the shown text is clipped, the value is not
    assert revalidated(blocks) == blocks


def test_a_task_with_more_than_100_labels_offers_the_first_100(shipped_policy: Policy) -> None:
    labels = [f"label_{i:03d}" for i in range(130)]
    workflow = with_labels(shipped_policy.workflows[WORKFLOW], "category", labels)

    _, blocks = review_message(record(), workflow, None)

    assert [o["value"] for o in selects(blocks)["label:category"]["options"]] == [f"category={x}" for x in labels[:100]]


def test_at_most_three_label_selects_and_the_reason_select(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]
    spec = next(iter(workflow.tasks.values()))
    many = workflow.replace(**{"tasks": {f"task{i}": spec for i in range(6)}})

    _, blocks = review_message(record(), many, None)

    assert list(selects(blocks)) == ["label:task0", "label:task1", "label:task2", "reason"]


def test_a_decision_id_too_long_for_a_button_value_is_refused_not_clipped(shipped_policy: Policy) -> None:
    """The buttons carry the decision id back; a clipped one would name another case (or none)."""
    workflow = shipped_policy.workflows[WORKFLOW]
    review_message(record(decision_id="d" * 2000), workflow, None)

    with pytest.raises(BlockKitLimitError, match="button value cannot exceed 2000 characters"):
        review_message(record(decision_id="d" * 2001), workflow, None)


def test_long_proposed_labels_and_reason_codes_are_clipped_to_the_section_limit(shipped_policy: Policy) -> None:
    first = next(iter(record().tasks.values()))
    heavy = record(tasks={f"task_{i}": first for i in range(100)}, reason_codes=[f"code_{i}" for i in range(200)])

    _, blocks = review_message(heavy, shipped_policy.workflows[WORKFLOW], None)

    proposed, why = blocks[2]["text"]["text"], blocks[3]["text"]["text"]
    assert proposed.startswith("*Proposed*\n")
    assert proposed.endswith("…")
    assert len(proposed) <= 3000
    assert why.startswith("*Why a human*\n")
    assert why.endswith("…")
    assert len(why) <= 3000


def test_a_long_outcome_is_clipped_and_the_reviewer_mention_is_kept() -> None:
    review = {**REVIEW, "labels": {"category": "<&>" * 2000}}

    _, blocks = resolved_message(record(), review)

    headline = blocks[0]["text"]["text"]
    assert len(headline) <= 3000
    assert headline.endswith("… by <@UALICE>")
    assert revalidated(blocks) == blocks


# ---------------------------------------------------------------- whatever the ticket says
texts = st.text(max_size=4000) | st.text(alphabet="&<>\n a", max_size=6000)


@settings(max_examples=75, deadline=None)
@given(
    subject=st.none() | texts,
    input_text=texts,
    context=st.dictionaries(st.text(max_size=60), texts, max_size=12),
    warning=st.none() | texts,
    reason_codes=st.lists(st.text(max_size=80), max_size=40),
)
def test_any_ticket_text_builds_a_valid_review_message(
    shipped_policy: Policy,
    subject: str | None,
    input_text: str,
    context: dict[str, str],
    warning: str | None,
    reason_codes: list[str],
) -> None:
    hostile = record(subject=subject, input_text=input_text, context_fields=context, reason_codes=reason_codes)

    _, blocks = review_message(hostile, shipped_policy.workflows[WORKFLOW], "https://z.example/t/1", warning=warning)

    assert revalidated(blocks) == blocks
    assert all(len(e["text"]) <= 3000 for b in blocks if b["type"] == "context" for e in b["elements"])


@settings(max_examples=75, deadline=None)
@given(
    verdict=st.sampled_from(["approve", "correct", "escalate"]),
    name=st.none() | texts,
    labels=st.dictionaries(st.text(max_size=40), texts, max_size=4),
    reason=st.none() | st.text(max_size=200),
    resolved_at=st.text(max_size=3500),
)
def test_any_review_builds_a_valid_resolved_message(
    verdict: str, name: str | None, labels: dict[str, str], reason: str | None, resolved_at: str
) -> None:
    review = {"verdict": verdict, "reviewer": "UREVIEWER", "reviewer_name": name, "labels": labels,
              "reason": reason, "escalated_to": "S05SUPLEADS", "resolved_at": resolved_at,
              "time_to_review_s": 12.0}  # fmt: skip

    _, blocks = resolved_message(record(), review)

    assert revalidated(blocks) == blocks
    assert blocks[0]["text"]["text"].endswith(" by <@UREVIEWER>")
    assert len(blocks[1]["elements"][0]["text"]) <= 3000
