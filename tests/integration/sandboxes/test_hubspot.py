"""FakeHubSpot through `requests`: auth, reads, property validation, notes, rate limits."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.sandboxes.conftest import HS_TOKEN
from triage_local.sandboxes import FakeHubSpot


# HubSpot -------------------------------------------------------------------------------------------------------
def test_hubspot_rejects_a_missing_or_wrong_bearer_token(hubspot: FakeHubSpot) -> None:
    url = f"{hubspot.url}/crm/v3/objects/tickets/1001"

    for headers in ({}, {"Authorization": "Bearer nope"}):
        reply = requests.get(url, headers=headers, timeout=5)
        assert reply.status_code == 401
        assert reply.json()["status"] == "error"
        assert reply.json()["category"] == "INVALID_AUTHENTICATION"


def test_hubspot_ticket_read_returns_requested_properties_and_companies(
    hubspot: FakeHubSpot, hs: requests.Session
) -> None:
    params = {"properties": "subject,hs_ticket_priority,no_such_property", "associations": "companies"}

    body = hs.get(f"{hubspot.url}/crm/v3/objects/tickets/1001", params=params, timeout=5).json()

    assert body["id"] == "1001"
    assert set(body["properties"]) == {"hs_object_id", "createdate", "hs_lastmodifieddate", "subject",
                                       "hs_ticket_priority"}  # fmt: skip
    assert body["properties"]["hs_ticket_priority"] == "LOW"
    assert body["associations"]["companies"]["results"] == [{"id": "9", "type": "ticket_to_company"}]
    company = hs.get(f"{hubspot.url}/crm/v3/objects/companies/9", params={"properties": "name"}, timeout=5).json()
    assert company["properties"]["name"] == "Acme"


def test_hubspot_update_with_unknown_property_is_400(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    url = f"{hubspot.url}/crm/v3/objects/tickets/1001"

    refused = hs.patch(url, json={"properties": {"ai_triage_label": "refund"}}, timeout=5)
    hubspot.allow_properties("ai_triage_label")
    accepted = hs.patch(
        url, json={"properties": {"ai_triage_label": "refund", "hs_ticket_priority": "HIGH"}}, timeout=5
    )

    assert refused.status_code == 400
    assert refused.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in refused.json()["message"]
    assert accepted.status_code == 200
    assert hubspot.ticket(1001)["properties"]["hs_ticket_priority"] == "HIGH"


@pytest.mark.parametrize(
    ("properties", "error"),
    [({"hs_ticket_priority": "CRITICAL"}, "INVALID_OPTION"), ({"subject": {"text": "x"}}, "INVALID_PROPERTY_VALUE")],
)
def test_hubspot_update_with_invalid_value_is_400(
    hubspot: FakeHubSpot, hs: requests.Session, properties: dict[str, Any], error: str
) -> None:
    reply = hs.patch(f"{hubspot.url}/crm/v3/objects/tickets/1001", json={"properties": properties}, timeout=5)

    assert reply.status_code == 400
    assert error in reply.json()["message"]
    assert hubspot.ticket(1001)["properties"]["hs_ticket_priority"] == "LOW"


def test_hubspot_note_is_created_and_associated_with_the_ticket(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    note = {
        "properties": {"hs_timestamp": "2026-01-08T14:25:30.000Z", "hs_note_body": "<p>AI triage: billing</p>"},
        "associations": [{"to": {"id": "1001"},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}],
    }  # fmt: skip

    reply = hs.post(f"{hubspot.url}/crm/v3/objects/notes", json=note, timeout=5)
    missing = hs.post(f"{hubspot.url}/crm/v3/objects/notes", json={"properties": {"hs_note_body": "x"}}, timeout=5)

    assert reply.status_code == 201
    assert [n["properties"]["hs_note_body"] for n in hubspot.notes_for(1001)] == ["<p>AI triage: billing</p>"]
    assert missing.status_code == 400
    assert "hs_timestamp" in missing.json()["message"]


def test_hubspot_rate_limit_answers_429_ten_secondly(hs: requests.Session) -> None:
    with FakeHubSpot(HS_TOKEN, rate_limit_per_10s=1) as fake:
        fake.add_ticket(1)
        replies = [hs.get(f"{fake.url}/crm/v3/objects/tickets/1", timeout=5) for _ in range(2)]

    assert [r.status_code for r in replies] == [200, 429]
    assert replies[1].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert replies[1].json()["errorType"] == "RATE_LIMIT"
    assert replies[1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert replies[1].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
