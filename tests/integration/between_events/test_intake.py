"""Nothing accepted is lost at intake: a bad event in a HubSpot batch, an escaped query string."""

from __future__ import annotations

import json

import requests

from tests.integration.between_events.conftest import HS_SECRET, Stack, _now
from triage_gate.intake.signatures import signed_hubspot_headers


# ---------------------------------------------------------------- nothing accepted is lost
def test_a_hubspot_batch_with_one_unrepresentable_event_loses_the_good_one(stack: Stack) -> None:
    hubspot = stack.sandboxes.hubspot
    hubspot.add_ticket(52001, subject="Quote for more seats", content="Please send a quote for 20 seats.")
    good = {"eventId": 1, "subscriptionId": 7, "portalId": 4471, "objectId": 52001, "occurredAt": 1_764_000_000_000,
            "subscriptionType": "ticket.creation", "attemptNumber": 0}  # fmt: skip
    bad = {**good, "eventId": 2, "subscriptionType": "ticket.propertyChange", "propertyName": "subject"}
    body = ("[" + json.dumps(good) + "," + json.dumps(bad)[:-1] + ', "propertyValue": "\\ud83d"}]').encode()
    url = f"{stack.runner.base_url}/webhooks/hubspot"

    response = requests.post(url, data=body, headers=signed_hubspot_headers(HS_SECRET, url, body, _now()), timeout=15)
    stack.settle()

    assert response.status_code == 200
    assert [e["status"] for e in response.json()["events"]] == ["accepted", "rejected"]
    [decision] = stack.decisions(52001)  # the valid event was classified
    assert decision.labels["category"] == "sales_inquiry"


def test_a_hubspot_signature_over_an_escaped_query_string_is_verified(stack: Stack) -> None:
    stack.sandboxes.hubspot.add_ticket(52002, subject="Renew our plan", content="We want to renew early.")
    event = {"eventId": 3, "subscriptionId": 7, "portalId": 4471, "objectId": 52002, "occurredAt": 1_764_000_001_000,
             "subscriptionType": "ticket.creation"}  # fmt: skip
    body = json.dumps([event]).encode()
    url = f"{stack.runner.base_url}/webhooks/hubspot?token=abc%3Adef"  # HubSpot signs it as ?token=abc:def

    response = requests.post(url, data=body, headers=signed_hubspot_headers(HS_SECRET, url, body, _now()), timeout=15)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
