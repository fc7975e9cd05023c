"""The HubSpot note, exactly once, even when its answer was lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from tests.integration.between_events.conftest import HS_SECRET, Stack, _now
from triage_gate.intake.signatures import signed_hubspot_headers


# ---------------------------------------------------------------- the HubSpot note, exactly once
def test_a_hubspot_note_whose_answer_was_lost_is_not_posted_twice(stack: Stack) -> None:
    hubspot = stack.sandboxes.hubspot
    hubspot.add_ticket(52003, subject="Renew with a quote", content="We renew in March; please send a quote.")
    original: Callable[..., Any] = hubspot.handle
    lost = {"left": 1}

    def lose_the_note_answer(request: Any) -> Any:
        reply = original(request)
        if request.method == "POST" and request.path == "/crm/v3/objects/notes" and lost["left"]:
            lost["left"] -= 1
            reply.status = 502  # the note was created; the answer never arrived
        return reply

    hubspot.handle = lose_the_note_answer  # type: ignore[method-assign]
    event = {"eventId": 4, "subscriptionId": 7, "portalId": 4471, "objectId": 52003, "occurredAt": 1_764_000_002_000,
             "subscriptionType": "ticket.creation"}  # fmt: skip
    body = json.dumps([event]).encode()
    url = f"{stack.runner.base_url}/webhooks/hubspot"
    try:
        requests.post(url, data=body, headers=signed_hubspot_headers(HS_SECRET, url, body, _now()), timeout=15)
        stack.settle(timeout=60)
    finally:
        hubspot.handle = original  # type: ignore[method-assign]

    assert len(hubspot.notes_for(52003)) == 1
    assert any(r.path == "/crm/v3/objects/notes/search" for r in hubspot.requests)
    assert "record failed" in stack.log.getvalue()  # the first attempt's reason reached the log (error level)
