"""Fail closed: opt-outs that cannot be read, labels outside the taxonomy, cut-off and rejected model replies."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.between_events.conftest import SLACK_SECRET, ZD_SECRET, Stack, new_ticket
from triage_gate.triage import reasons
from triage_local.review_cli import click
from triage_local.sandboxes.zendesk_webhooks import CREATED_TRIGGER_BODY, Trigger


# ---------------------------------------------------------------- fail closed
def test_an_opt_out_tag_in_the_webhook_holds_when_the_context_fetch_fails(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    zendesk.fail_next(503)  # the worker's context GET
    new_ticket(stack, 51010, "Invoice question", "Where is my invoice?", tags=["no_ai"])
    stack.settle()

    assert stack.decisions(51010) == []  # the no_ai rule, read from the webhook's own tags: off
    assert stack.ai_notes(51010) == []
    assert "ai_triaged" not in zendesk.ticket(51010)["tags"]


def test_an_opt_out_that_cannot_be_read_fails_closed(stack: Stack, zendesk: Any) -> None:
    legacy = (Trigger("created", "created", CREATED_TRIGGER_BODY.replace(',\n  "tags": "{{ticket.tags}}"', "")),)
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="trigger", triggers=legacy)  # a body without tags
    zendesk.fail_next(503)
    new_ticket(stack, 51011, "Invoice question", "Where is my other invoice?")
    stack.settle()

    assert stack.decisions(51011) == []  # the tags are unknown: a rule on them may have said off
    assert stack.ai_notes(51011) == []


def test_a_slack_correction_outside_the_taxonomy_is_never_applied(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, 51012, "Breach in our workspace", "We think there was a breach.")
    stack.settle()
    [case] = stack.decisions(51012)

    response = click(stack.runner.base_url, "correct", case.decision_id, secret=SLACK_SECRET, user="U0REVIEW",
                     labels={"category": "free_money"}, reason="wrong_category")  # fmt: skip
    stack.settle()

    assert response.status_code == 200
    assert zendesk.ticket(51012)["group_id"] is None
    assert stack.ai_notes(51012) == []
    notices = [c for c in stack.sandboxes.slack.calls("chat.postEphemeral") if "free_money" in json.dumps(c[1])]
    assert notices


def test_a_reviewers_correction_is_noted_as_set_by_the_reviewer(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, 51013, "Breach or a bug?", "We think there was a breach.")
    stack.settle()
    [case] = stack.decisions(51013)

    click(stack.runner.base_url, "correct", case.decision_id, secret=SLACK_SECRET, user="U0REVIEW",
          labels={"category": "bug"}, reason="wrong_category")  # fmt: skip
    stack.settle()

    [note] = stack.ai_notes(51013)
    assert "- category: bug (set by reviewer)" in note["body"]
    assert zendesk.ticket(51013)["group_id"] == 36002118


def test_a_claude_reply_cut_off_at_max_tokens_goes_to_review(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    stack.sandboxes.anthropic.script("max_tokens")
    new_ticket(stack, 51014, "Invoice 5150 missing", "Where is invoice 5150?")
    stack.settle()

    [decision] = stack.decisions(51014)
    assert decision.action == "review"
    assert reasons.MODEL_OUTPUT_INCOMPLETE in decision.reason_codes
    assert stack.ai_notes(51014) == []


def test_bad_requests_to_claude_do_not_open_the_shared_breaker(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    stack.sandboxes.anthropic.script(*[("status", 400)] * 5)
    for n in range(5):
        new_ticket(stack, 51020 + n, f"Invoice 60{n} wrong", "The invoice total is wrong.")
    stack.settle()
    new_ticket(stack, 51030, "Invoice 6099 wrong", "The invoice total is wrong again.")
    stack.settle()

    rejected = [stack.decisions(51020 + n)[0] for n in range(5)]
    assert all(reasons.MODEL_REQUEST_REJECTED in d.reason_codes for d in rejected)
    [ordinary] = stack.decisions(51030)
    assert ordinary.fallback is None  # the breaker stayed closed: Claude answered the next ticket
    assert ordinary.tasks["category"].model == "claude-haiku-4-5"
    assert "ModelRequestRejected" in stack.log.getvalue()
