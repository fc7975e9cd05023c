"""The fakes refuse a request whose shape the vendor refuses, in the vendor's words, before doing anything with it:
Zendesk 422 RecordInvalid naming the ticket field, HubSpot 400 VALIDATION_ERROR naming where in the body, Slack
`invalid_arguments` (sandboxes/request_shapes.py, sandboxes/slack_args.py). What the vendors document as accepted
is accepted. These requests are hand-made and invalid on purpose: the vendor-contract watch lists them in the
test report instead of failing the test (tests/integration/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from triage_local.sandboxes import FakeHubSpot, FakeSlack, FakeZendesk

SLACK_TOKEN = "xoxb-shapes"
REVIEW = "#support-triage-review"


def ticket_url(zendesk: FakeZendesk, suffix: str = "") -> str:
    return f"{zendesk.url}/api/v2/tickets/42{suffix}.json"


# Zendesk ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ticket", "field", "message"),
    [
        ({"comment": {"body": "AI triage", "public": "false"}}, "comment", "'false' is not of type 'boolean'"),
        ({"comment": {"body": 7, "public": False}}, "comment", "7 is not of type 'string'"),
        ({"additional_tags": [1, 2]}, "additional_tags", "1 is not of type 'string'"),
        ({"safe_update": "yes", "updated_stamp": "2026-01-08T14:25:30Z"}, "safe_update",
         "'yes' is not valid under any of the given schemas"),
        ({"custom_fields": [{"id": 5, "value": {"nested": 1}}]}, "custom_fields", "is not of type"),
    ],
)  # fmt: skip
def test_zendesk_refuses_an_update_of_the_wrong_shape_with_422_on_the_field(
    zendesk: FakeZendesk, zd: requests.Session, ticket: dict[str, Any], field: str, message: str
) -> None:
    before = zendesk.ticket(42)

    reply = zd.put(ticket_url(zendesk), json={"ticket": ticket}, timeout=5)

    assert reply.status_code == 422
    body = reply.json()
    assert (body["error"], list(body["details"])) == ("RecordInvalid", [field])
    assert message in body["details"][field][0]["description"]
    assert zendesk.ticket(42) == before


def test_zendesk_accepts_the_forms_its_documentation_shows(zendesk: FakeZendesk, zd: requests.Session) -> None:
    """`additional_tags` as one tag, `safe_update` as the string "true" (Zendesk's own tags example)."""
    stamp = zendesk.ticket(42)["updated_at"]
    update = {"additional_tags": "ai_triaged", "safe_update": "true", "updated_stamp": stamp,
              "comment": {"body": "AI triage: billing", "public": False}}  # fmt: skip

    reply = zd.put(ticket_url(zendesk), json={"ticket": update}, timeout=5)

    assert reply.status_code == 200
    assert reply.json()["ticket"]["tags"] == ["vip", "ai_triaged"]


def test_zendesk_refuses_a_tags_call_with_a_stamp_of_the_wrong_type(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(ticket_url(zendesk, "/tags"), json={"tags": ["x"], "safe_update": True, "updated_stamp": 5},
                   timeout=5)  # fmt: skip

    assert reply.status_code == 422
    assert list(reply.json()["details"]) == ["updated_stamp"]
    assert zendesk.ticket(42)["tags"] == ["vip"]


# HubSpot ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/crm/v3/objects/tickets/search", {"filterGroups": [], "limit": 500}, "limit: 500 is greater than"),
        ("/crm/v3/objects/tickets/search",
         {"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "LIKE", "value": "x"}]}]},
         "filterGroups.0.filters.0.operator: 'LIKE' is not one of"),
        ("/crm/v3/objects/notes/search",
         {"filterGroups": [{"filters": [{"operator": "EQ", "value": "1001"}]}]},
         "filterGroups.0.filters.0: 'propertyName' is a required property"),
        ("/crm/v3/objects/tickets/batch/read", {"inputs": [{"ticket": "1001"}]}, "inputs.0: 'id' is a required"),
        ("/crm/v4/associations/tickets/companies/batch/read", {"inputs": [{"id": ["1001"]}]}, "inputs.0.id:"),
    ],
)  # fmt: skip
def test_hubspot_refuses_a_body_of_the_wrong_shape_with_400_validation_error(
    hubspot: FakeHubSpot, hs: requests.Session, path: str, body: dict[str, Any], where: str
) -> None:
    reply = hs.post(f"{hubspot.url}{path}", json=body, timeout=5)

    assert reply.status_code == 400
    assert reply.json()["category"] == "VALIDATION_ERROR"
    assert f"Invalid input JSON: {where}" in reply.json()["message"]


def test_hubspot_accepts_a_documented_search(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    search = {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GTE", "value": "0"}]}],
              "properties": ["subject"], "limit": 200}  # fmt: skip

    reply = hs.post(f"{hubspot.url}/crm/v3/objects/tickets/search", json=search, timeout=5)

    assert reply.status_code == 200
    assert [t["id"] for t in reply.json()["results"]] == ["1001"]


# Slack --------------------------------------------------------------------------------------------------------
@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(SLACK_TOKEN, per_channel_per_second=None) as fake:
        yield fake


@pytest.fixture
def slack_client(slack: FakeSlack) -> WebClient:
    return WebClient(token=SLACK_TOKEN, base_url=f"{slack.url}/api/")


@pytest.mark.parametrize(
    ("method", "arguments", "missing"),
    [
        ("chat.postMessage", {"text": "Review"}, "channel"),
        ("chat.update", {"channel": REVIEW, "text": "Approved"}, "ts"),
        ("chat.postEphemeral", {"channel": REVIEW, "text": "Only you"}, "user"),
    ],
)
def test_slack_answers_invalid_arguments_naming_a_missing_required_field(
    slack: FakeSlack, slack_client: WebClient, method: str, arguments: dict[str, Any], missing: str
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        slack_client.api_call(method, json=arguments)  # slack_sdk's own methods refuse to send it

    assert excinfo.value.response["error"] == "invalid_arguments"
    assert excinfo.value.response["response_metadata"] == {"messages": [f"[ERROR] missing required field: {missing}"]}
    assert slack.posts == 0


def test_slack_answers_invalid_arguments_to_a_value_of_the_wrong_type(
    slack: FakeSlack, slack_client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        slack_client.chat_postMessage(channel=REVIEW, text="x", unfurl_links="maybe")

    assert excinfo.value.response["error"] == "invalid_arguments"
    assert slack.posts == 0
    assert slack_client.chat_postMessage(channel=REVIEW, text="x", unfurl_links=False)["ok"] is True
