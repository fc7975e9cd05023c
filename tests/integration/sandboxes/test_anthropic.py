"""FakeAnthropic through the real `anthropic` SDK: tool calls, scripts, errors, prompt caching."""

from __future__ import annotations

import enum

import anthropic
import pydantic
import pytest
import requests

from tests.integration.sandboxes.conftest import KEY, SYSTEM, TOOL, TOOL_NAME, classify
from triage_local.sandboxes import FakeAnthropic


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
