"""No loops on our own writes, and only signed bytes create work: echoes and replays create none."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.integration.between_events.conftest import ZD_SECRET, Stack, new_ticket
from triage_local.sandboxes.zendesk_webhooks import CREATED_TRIGGER_BODY, UPDATED_TRIGGER_BODY, Trigger


# ---------------------------------------------------------------- no loops on our own writes
def test_our_own_write_back_echoing_through_an_update_trigger_creates_no_work(stack: Stack, zendesk: Any) -> None:
    naive = (Trigger("created", "created", CREATED_TRIGGER_BODY), Trigger("updated", "updated", UPDATED_TRIGGER_BODY))
    hooks = zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="trigger", triggers=naive)  # no loop-safe condition
    new_ticket(stack, 51003, "Password reset mail", "The password reset mail never arrives.")
    stack.settle()
    zendesk.agent_update(51003, status="open")  # and a person's later update fires the trigger again
    stack.settle()

    updates = [d for d in hooks.deliveries if b'"ticket_updated"' in d.body]
    assert len(updates) >= 2  # our write-back and the agent's update both fired the update trigger
    assert all(d.statuses[-1] == 200 for d in hooks.deliveries)
    assert len(stack.decisions(51003)) == 1
    assert len(stack.ai_notes(51003)) == 1
    assert stack.model_calls("password reset mail") == 1


def test_the_readme_triggers_do_not_fire_on_our_own_write_back(stack: Stack, zendesk: Any) -> None:
    hooks = zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="trigger")  # the README's pair, loop-safe
    new_ticket(stack, 51004, "Invoice copy", "Please send a copy of the invoice.")
    stack.settle()

    assert [json.loads(d.body)["event"] for d in hooks.deliveries] == ["ticket_created"]  # the marker tag stops it
    assert len(stack.ai_notes(51004)) == 1


# ---------------------------------------------------------------- only signed bytes create work
def test_a_replayed_signed_trigger_body_with_other_headers_creates_no_work(stack: Stack, zendesk: Any) -> None:
    hooks = zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="trigger")
    new_ticket(stack, 51005, "Breach suspected", "We think there was a breach of our account.")
    stack.settle()
    [delivery] = [d for d in hooks.deliveries if b"51005" in d.body]
    signed = {k: v for k, v in delivery.sent[0].items() if "Signature" in k or k == "Content-Type"}  # replayed

    answers = [
        requests.post(stack.zendesk_url, data=delivery.body, timeout=15, headers={
            **signed, "X-Zendesk-Account-Id": account, "X-Zendesk-Webhook-Invocation-Id": invocation})
        for account, invocation in (("1", "a"), ("2", "b"), ("99999", "c"))
    ]  # fmt: skip
    stack.settle()

    assert [r.json()["duplicates"] for r in answers] == [1, 1, 1]
    assert len(stack.decisions(51005)) == 1
    assert stack.model_calls("breach suspected") == 1
    posts = [m for m in stack.sandboxes.slack.calls("chat.postMessage") if "51005" in json.dumps(m[1])]
    assert len(posts) == 1  # one review case (security is always reviewed), however often it is replayed


def test_a_path_in_a_signed_ticket_id_is_refused_at_intake(stack: Stack) -> None:
    body = json.dumps({"source": "zendesk-trigger", "event": "ticket_created",
                       "ticket_id": "40198/../../users/900001"}).encode()  # fmt: skip
    before = len(stack.sandboxes.zendesk.requests)

    response = stack.post_zendesk(body)
    stack.settle()

    assert response.status_code == 400
    assert response.json()["field"] == "ticket_id"
    assert len(stack.sandboxes.zendesk.requests) == before  # nothing reached the vendor's API
