"""The fake vendor servers check what the real ones check, and answer in the real shapes.

The Anthropic fake is driven through the real `anthropic` SDK; Zendesk and HubSpot through `requests`.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterator
from typing import Any

import anthropic
import pydantic
import pytest
import requests

from triage_local.sandboxes import FakeAnthropic, FakeHubSpot, FakeZendesk, Sandboxes

KEY = "sk-ant-test-key"
TOOL_NAME = "record_classification"
TOOL: dict[str, Any] = {
    "name": TOOL_NAME,
    "description": "Record the triage classification for one support ticket.",
    "input_schema": {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": ["billing", "bug", "how_to"]},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"},
        },
        "required": ["category", "priority", "confidence", "rationale"],
        "additionalProperties": False,
    },
}
SYSTEM = [{"type": "text", "text": "Classify support tickets. " * 200, "cache_control": {"type": "ephemeral"}}]
ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "bot@example.com", "zd-secret", "hs-secret"


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(KEY) as fake:
        yield fake


@pytest.fixture
def client(fake_anthropic: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=fake_anthropic.url, max_retries=0, timeout=2)


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as fake:
        fake.add_organization(77, name="Acme")
        fake.add_user(501, name="Ada", email="ada@acme.test", organization_id=77)
        fake.add_ticket(42, subject="Refund please", description="I was charged twice", requester_id=501,
                        submitter_id=501, organization_id=77, tags=["vip"])  # fmt: skip
        yield fake


@pytest.fixture
def zd() -> requests.Session:
    session = requests.Session()
    session.auth = (f"{ZD_EMAIL}/token", ZD_TOKEN)
    return session


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(HS_TOKEN) as fake:
        fake.add_ticket(1001, subject="Cannot log in", content="Password reset fails", hs_ticket_priority="LOW")
        fake.add_company(9, name="Acme", domain="acme.test")
        fake.associate(1001, 9)
        yield fake


@pytest.fixture
def hs() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {HS_TOKEN}"
    return session


def classify(client: anthropic.Anthropic, text: str = "I was charged twice", **extra: Any) -> Any:
    return client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=extra.pop("max_tokens", 512),
        system=extra.pop("system", SYSTEM),
        tools=[TOOL],
        tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": text}],
        **extra,
    )


# Anthropic -----------------------------------------------------------------------------------------------------
def test_tool_call_parses_with_first_enum_values_when_script_is_empty(client: anthropic.Anthropic) -> None:
    message = classify(client)

    assert message.id.startswith("msg_")
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use"
    assert block.id.startswith("toolu_")
    assert block.name == TOOL_NAME
    assert block.input["category"] == "billing"
    assert block.input["priority"] == "low"
    assert 0 <= block.input["confidence"] <= 1
    assert message._request_id.startswith("req_")


def test_responder_builds_the_tool_input_when_set(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.responder = lambda body: {"category": "bug", "priority": "high", "confidence": 0.8,
                                             "rationale": body["messages"][0]["content"][:5]}  # fmt: skip

    block = classify(client, "crash on login").content[0]

    assert block.input == {"category": "bug", "priority": "high", "confidence": 0.8, "rationale": "crash"}


def test_scripted_steps_answer_in_order(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    exact = {"category": "how_to", "priority": "normal", "confidence": 0.7, "rationale": "asks how"}
    fake_anthropic.script({"input": exact}, "out_of_taxonomy", "low_confidence", "malformed", "text_only")

    replies = [classify(client) for _ in range(5)]

    assert replies[0].content[0].input == exact
    assert replies[1].content[0].input["category"] not in TOOL["input_schema"]["properties"]["category"]["enum"]
    assert replies[2].content[0].input["confidence"] == 0.05
    malformed = replies[3].content[0].input
    assert "category" not in malformed
    assert not isinstance(malformed["priority"], str)
    assert replies[4].content[0].type == "text"
    assert replies[4].stop_reason == "end_turn"
    assert fake_anthropic.pending_steps == 0


def test_ok_answer_follows_a_pydantic_generated_schema(client: anthropic.Anthropic) -> None:
    class Label(enum.StrEnum):
        REFUND = "refund"
        OUTAGE = "outage"

    class Classification(pydantic.BaseModel):
        label: Label
        confidence: float = pydantic.Field(ge=0, le=1)
        reasons: list[str]
        escalate: bool | None = None

    tool = {"name": "classify", "input_schema": Classification.model_json_schema()}

    message = client.messages.create(model="claude-haiku-4-5", max_tokens=256, tools=[tool],
                                     tool_choice={"type": "tool", "name": "classify"},
                                     messages=[{"role": "user", "content": "refund me"}])  # fmt: skip

    parsed = Classification.model_validate(message.content[0].input)
    assert parsed.label is Label.REFUND


def test_reply_cut_off_by_max_tokens_has_no_tool_input(client: anthropic.Anthropic) -> None:
    message = classify(client, max_tokens=5)

    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5
    assert message.content[0].input == {}


def test_wrong_key_raises_authentication_error(fake_anthropic: FakeAnthropic) -> None:
    wrong = anthropic.Anthropic(api_key="sk-ant-wrong", base_url=fake_anthropic.url, max_retries=0, timeout=2)

    with pytest.raises(anthropic.AuthenticationError) as caught:
        classify(wrong)

    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"] == {"type": "authentication_error", "message": "invalid x-api-key"}
    assert caught.value.request_id == caught.value.body["request_id"]


def test_raw_request_needs_key_and_version_headers(fake_anthropic: FakeAnthropic) -> None:
    url = f"{fake_anthropic.url}/v1/messages"
    body = {"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}

    no_key = requests.post(url, json=body, headers={"anthropic-version": "2023-06-01"}, timeout=5)
    no_version = requests.post(url, json=body, headers={"x-api-key": KEY}, timeout=5)
    good = requests.post(url, json=body, headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"}, timeout=5)

    assert no_key.status_code == 401
    assert no_key.json()["type"] == "error"
    assert no_key.json()["error"]["type"] == "authentication_error"
    assert no_version.status_code == 400
    assert no_version.json()["error"]["type"] == "invalid_request_error"
    assert good.status_code == 200
    assert good.headers["request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
    ],
)
def test_scripted_status_raises_the_sdk_error(
    fake_anthropic: FakeAnthropic, client: anthropic.Anthropic, status: int, error: type[Exception], kind: str
) -> None:
    fake_anthropic.script(("status", status, {"retry-after": "1"}))

    with pytest.raises(error) as caught:
        classify(client)

    assert isinstance(caught.value, anthropic.APIStatusError)
    assert caught.value.status_code == status
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body["error"]["type"] == kind
    assert classify(client).stop_reason == "tool_use"  # the step was consumed


def test_hang_raises_timeout_error(fake_anthropic: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake_anthropic.script(("hang", 2))

    with pytest.raises(anthropic.APITimeoutError):
        classify(client.with_options(timeout=0.3))


def test_invalid_tool_request_is_rejected_as_bad_request(client: anthropic.Anthropic) -> None:
    bad_schema = {**TOOL, "input_schema": {"type": "string"}}

    with pytest.raises(anthropic.BadRequestError, match=r"input_schema\.type"):
        client.messages.create(
            model="m", max_tokens=10, tools=[bad_schema], messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(anthropic.BadRequestError, match="not found in provided tools"):
        client.messages.create(model="m", max_tokens=10, tools=[TOOL], tool_choice={"type": "tool", "name": "nope"},
                               messages=[{"role": "user", "content": "x"}])  # fmt: skip
    with pytest.raises(anthropic.BadRequestError, match="at least 1 item"):
        client.messages.create(model="m", max_tokens=10, messages=[])


def test_cache_is_written_once_then_read_for_the_same_prefix(client: anthropic.Anthropic) -> None:
    first = classify(client, "ticket one").usage
    second = classify(client, "ticket two").usage
    changed = classify(client, "ticket three", system=[{**SYSTEM[0], "text": "Other rules. " * 400}]).usage

    assert first.cache_creation_input_tokens > 1000
    assert first.cache_read_input_tokens == 0
    assert second.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.input_tokens < 20
    assert changed.cache_creation_input_tokens > 0
    assert changed.cache_read_input_tokens == 0


def test_no_cache_counters_without_cache_control(client: anthropic.Anthropic) -> None:
    usage = classify(client, system="Classify support tickets.").usage

    assert usage.cache_creation_input_tokens == 0
    assert usage.cache_read_input_tokens == 0
    assert usage.input_tokens > 0


def test_every_request_is_recorded_with_what_the_model_read(
    fake_anthropic: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    classify(client, "contact me at [EMAIL]")

    assert "contact me at [EMAIL]" in fake_anthropic.sent_text()
    assert "@" not in fake_anthropic.sent_text()
    recorded = fake_anthropic.requests[-1]
    assert recorded.method == "POST"
    assert recorded.path == "/v1/messages"
    assert recorded.json["tool_choice"]["name"] == TOOL_NAME


# Zendesk -------------------------------------------------------------------------------------------------------
def test_zendesk_rejects_credentials_that_are_not_email_token_basic_auth(zendesk: FakeZendesk) -> None:
    url = f"{zendesk.url}/api/v2/tickets/42.json"
    password_style = base64.b64encode(f"{ZD_EMAIL}:{ZD_TOKEN}".encode()).decode()

    for auth in (None, f"Basic {password_style}", f"Bearer {ZD_TOKEN}"):
        headers = {"Authorization": auth} if auth else {}
        reply = requests.get(url, headers=headers, timeout=5)
        assert reply.status_code == 401
        assert reply.json() == {"error": "Couldn't authenticate you"}


def test_zendesk_ticket_read_sideloads_users_and_organizations(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.get(f"{zendesk.url}/api/v2/tickets/42", params={"include": "users,organizations"}, timeout=5)

    assert reply.status_code == 200
    body = reply.json()
    assert body["ticket"]["subject"] == "Refund please"
    assert [u["email"] for u in body["users"]] == ["ada@acme.test"]
    assert [o["name"] for o in body["organizations"]] == ["Acme"]
    assert "users" not in zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5).json()


def test_zendesk_missing_ticket_is_404_record_not_found(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.get(f"{zendesk.url}/api/v2/tickets/404.json", timeout=5)

    assert reply.status_code == 404
    assert reply.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_zendesk_update_applies_fields_and_appends_an_internal_note(zendesk: FakeZendesk, zd: requests.Session) -> None:
    update = {"ticket": {"priority": "high", "group_id": 7, "custom_fields": [{"id": 5, "value": "refund"}],
                         "comment": {"body": "AI triage: billing", "public": False}}}  # fmt: skip

    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json=update, timeout=5)

    assert reply.status_code == 200
    ticket = reply.json()["ticket"]
    assert (ticket["priority"], ticket["group_id"], ticket["tags"]) == ("high", 7, ["vip"])
    assert ticket["custom_fields"] == [{"id": 5, "value": "refund"}]
    assert any(e["type"] == "Comment" for e in reply.json()["audit"]["events"])
    comments = zd.get(f"{zendesk.url}/api/v2/tickets/42/comments.json", timeout=5).json()["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [
        ("I was charged twice", True),
        ("AI triage: billing", False),
    ]
    assert comments[1]["author_id"] == zendesk.agent_id


def test_zendesk_tags_api_adds_without_overwriting(zendesk: FakeZendesk, zd: requests.Session) -> None:
    tags_url = f"{zendesk.url}/api/v2/tickets/42/tags.json"

    added = zd.put(tags_url, json={"tags": ["ai_triaged", "vip"]}, timeout=5).json()["tags"]
    removed = zd.delete(tags_url, json={"tags": ["vip"]}, timeout=5).json()["tags"]
    replaced = zd.post(tags_url, json={"tags": ["only"]}, timeout=5).json()["tags"]

    assert added == ["vip", "ai_triaged"]
    assert removed == ["ai_triaged"]
    assert replaced == ["only"]


def test_zendesk_tags_in_a_ticket_update_replace_the_list(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json={"ticket": {"tags": ["ai_triaged"]}}, timeout=5)

    assert reply.json()["ticket"]["tags"] == ["ai_triaged"]


def test_zendesk_safe_update_conflicts_when_the_stamp_is_stale(zendesk: FakeZendesk, zd: requests.Session) -> None:
    url = f"{zendesk.url}/api/v2/tickets/42.json"
    stale = zd.get(url, timeout=5).json()["ticket"]["updated_at"]
    zendesk.touch(42, status="open")  # an agent edits the ticket meanwhile

    conflict = zd.put(url, json={"ticket": {"priority": "low", "safe_update": True, "updated_stamp": stale}}, timeout=5)
    fresh = zd.get(url, timeout=5).json()["ticket"]["updated_at"]
    retried = zd.put(url, json={"ticket": {"priority": "low", "safe_update": True, "updated_stamp": fresh}}, timeout=5)

    assert conflict.status_code == 409
    assert zendesk.ticket(42)["status"] == "open"
    assert retried.status_code == 200
    assert retried.json()["ticket"]["updated_at"] != fresh


def test_zendesk_unknown_priority_is_422_record_invalid(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json={"ticket": {"priority": "critical"}}, timeout=5)

    assert reply.status_code == 422
    assert reply.json()["error"] == "RecordInvalid"
    assert "priority" in reply.json()["details"]
    assert zendesk.ticket(42)["priority"] is None


def test_zendesk_write_without_json_content_type_is_refused(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", data=b'{"ticket": {"priority": "low"}}', timeout=5)

    assert reply.status_code == 415


def test_zendesk_rate_limit_answers_429_with_retry_after(zd: requests.Session) -> None:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN, rate_limit_per_minute=2) as fake:
        fake.add_ticket(1)
        replies = [zd.get(f"{fake.url}/api/v2/tickets/1.json", timeout=5) for _ in range(3)]

    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[1].headers["X-Rate-Limit-Remaining"] == "0"
    assert 1 <= int(replies[2].headers["Retry-After"]) <= 60


def test_injected_failure_answers_once_then_recovers(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.fail_next(503, headers={"Retry-After": "5"})

    failed = zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5)
    recovered = zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5)

    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "5")
    assert recovered.status_code == 200
    assert [r.status for r in zendesk.requests] == [503, 200]
    assert zendesk.requests[0].headers["authorization"].startswith("Basic ")


def test_injected_hang_times_the_client_out(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.hang_next(2)

    with pytest.raises(requests.Timeout):
        zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=0.3)


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


# launcher ------------------------------------------------------------------------------------------------------
def test_sandboxes_env_points_clients_at_the_running_fakes() -> None:
    with Sandboxes(zendesk_email=ZD_EMAIL, zendesk_token=ZD_TOKEN, hubspot_token=HS_TOKEN, anthropic_key=KEY) as sb:
        env = sb.env()
        sb.zendesk.add_ticket(5)
        sb.hubspot.add_ticket(6)
        sdk = anthropic.Anthropic(api_key=KEY, base_url=env["ANTHROPIC_BASE_URL"], max_retries=0, timeout=2)

        message = classify(sdk)
        ticket = requests.get(f"{env['ZENDESK_BASE_URL']}/api/v2/tickets/5.json", auth=(f"{ZD_EMAIL}/token", ZD_TOKEN),
                              timeout=5)  # fmt: skip
        hs_ticket = requests.get(f"{env['HUBSPOT_BASE_URL']}/crm/v3/objects/tickets/6",
                                 headers={"Authorization": f"Bearer {HS_TOKEN}"}, timeout=5)  # fmt: skip

    assert message.stop_reason == "tool_use"
    assert [name for name, _ in sb.journal()] == ["anthropic", "zendesk", "hubspot"]
    assert ticket.json()["ticket"]["id"] == 5
    assert hs_ticket.json()["id"] == "6"
    with pytest.raises(requests.ConnectionError):
        requests.get(env["ZENDESK_BASE_URL"], timeout=1)
