"""The Claude adapter's requests, its reading of replies and errors, over HTTP against the fake Anthropic API on
loopback (which `tests/integration/sandboxes/test_anthropic.py` proves answers as the real SDK expects): the
request on the wire, incomplete replies, which errors are outages and which are our bugs, no answer at all,
and how Retry-After and x-should-retry decide a retry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError

from tests.builders import LANGUAGE_DETECTOR, NOW, FakeLocal, policy, ticket_event, zendesk_documents
from triage_gate.adapters.claude import API_VERSION, MAX_RETRY_WAIT, ClaudeModel, message_of, retry_after, unanswered
from triage_gate.adapters.vendor_http import VendorResponse
from triage_gate.config import VendorSecrets
from triage_gate.errors import ModelRequestRejected, ModelUnavailable
from triage_gate.policy import Policy, Route
from triage_gate.triage import reasons
from triage_gate.triage.answers import ModelResult
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.prompt import TOOL_NAME, build_prompt
from triage_gate.triage.service import TriageService
from triage_local.sandboxes import FakeAnthropic
from triage_tools.memory import (
    InMemoryBreakerStore,
    InMemoryBudgetStore,
    InMemoryDecisionStore,
    InMemoryTicketClaims,
    RecordingQueue,
    StaticContext,
    StaticSecrets,
)

API_KEY = "sk-ant-adapter-tests"
GOOD = {"category": "billing", "category_confidence": 0.93, "rationale": "a double charge"}


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def pol() -> Policy:
    return policy()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def model(fake: FakeAnthropic, pol: Policy, sleeps: list[float]) -> ClaudeModel:
    secrets = StaticSecrets(VendorSecrets(ANTHROPIC_API_KEY=API_KEY))  # type: ignore[arg-type]
    return ClaudeModel(secrets, pol.prices, fake.url, sleep=sleeps.append)


def _route(pol: Policy, **changes: Any) -> Route:
    return pol.routes["haiku"].replace(**{"timeout_seconds": 3.0, "max_retries": 2, **changes})


def _classify(model: ClaudeModel, pol: Policy, **route_changes: Any) -> ModelResult:
    workflow = pol.workflows["support"]
    prompt = build_prompt("support", workflow, ["category"], "Charged twice", "I was charged twice.", {})
    return model.classify("haiku", _route(pol, **route_changes), prompt, {"category": workflow.tasks["category"]})


# ------------------------------------------------------------------------------------ the request
def test_the_request_is_the_messages_api_with_the_key_the_version_and_the_forced_tool(fake, model, pol):
    _classify(model, pol)

    [request] = [r for r in fake.requests if r.path == "/v1/messages"]
    assert request.method == "POST"
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["anthropic-version"] == API_VERSION == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert request.json["tool_choice"] == {"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True}
    assert request.json["model"] == pol.routes["haiku"].model
    assert request.status == 200


def test_without_a_key_no_request_is_sent(fake, pol):
    keyless = ClaudeModel(StaticSecrets(VendorSecrets()), pol.prices, fake.url)

    with pytest.raises(ModelUnavailable) as caught:
        _classify(keyless, pol)

    assert caught.value.kind == "config"
    assert fake.requests == []


# ------------------------------------------------------------------------------------ replies
def test_a_finished_tool_call_is_a_clean_answer_and_its_stop_reason_is_recorded(fake, model, pol):
    fake.script({"input": GOOD})

    result = _classify(model, pol)

    assert result.answers["category"].label == "billing"
    assert result.answers["category"].problem is None
    assert result.raw["stop_reason"] == "tool_use"
    assert result.raw["category"] == "billing"
    assert result.rationale == "a double charge"


@pytest.mark.parametrize(
    ("step", "stop_reason"),
    [
        ("max_tokens", "max_tokens"),
        ("refusal", "refusal"),
        ("text_only", "end_turn"),
        ({"input": GOOD, "stop_reason": "end_turn"}, "end_turn"),
        ({"input": GOOD, "stop_reason": "max_tokens"}, "max_tokens"),
        ({"input": GOOD, "stop_reason": "pause_turn"}, "pause_turn"),
    ],
)
def test_a_reply_that_did_not_finish_the_tool_call_answers_no_task(fake, model, pol, step, stop_reason):
    fake.script(step)

    result = _classify(model, pol)

    assert result.answers["category"].problem == reasons.MODEL_OUTPUT_INCOMPLETE
    assert result.answers["category"].label is None
    assert result.raw["stop_reason"] == stop_reason
    assert result.rationale is None


def test_a_reply_cut_off_by_the_routes_max_tokens_is_incomplete(fake, model, pol):
    result = _classify(model, pol, max_tokens=16)  # the fake cuts the tool call off at 16 tokens

    assert result.raw["stop_reason"] == "max_tokens"
    assert result.answers["category"].problem == reasons.MODEL_OUTPUT_INCOMPLETE


def test_the_fakes_max_tokens_step_leaves_a_plausible_but_truncated_input(fake, model, pol):
    fake.script("max_tokens")

    result = _classify(model, pol)

    assert result.raw["category"] == "billing"  # looks like an answer ...
    assert "rationale" not in result.raw  # ... but the call was cut off before its end
    assert result.answers["category"].problem == reasons.MODEL_OUTPUT_INCOMPLETE


def test_an_incomplete_reply_sends_the_ticket_to_review_never_applies_it(fake, model, pol):
    actions = RecordingQueue()
    deps = TriageDeps(
        policy=pol, context=StaticContext({("zendesk", "40211"): zendesk_documents()}), remote=model,
        local=FakeLocal(), languages=LANGUAGE_DETECTOR, breakers=InMemoryBreakerStore(), budgets=InMemoryBudgetStore(),
        decisions=InMemoryDecisionStore(), claims=InMemoryTicketClaims(), actions=actions,
        exceptions=RecordingQueue(), clock=lambda: NOW,
    )  # fmt: skip
    fake.script("max_tokens")

    record = TriageService(deps).process(ticket_event()).record

    assert record is not None
    assert record.action == "review"
    assert reasons.MODEL_OUTPUT_INCOMPLETE in record.reason_codes
    assert record.raw_outputs[0]["stop_reason"] == "max_tokens"
    assert actions.bodies == []


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, "invalid_request_error"), (404, "not_found_error"), (413, "request_too_large"), (422, None)],
)
def test_other_4xx_is_our_bug_raised_as_request_rejected_and_never_retried(
    fake, model, pol, sleeps, status, error_type
):
    fake.script(("status", status), "ok")

    with pytest.raises(ModelRequestRejected) as caught:
        _classify(model, pol)

    assert caught.value.status == status
    assert caught.value.kind == f"http_{status}"
    if error_type:
        assert caught.value.error_type == error_type
    assert isinstance(caught.value.error_type, str)
    assert not isinstance(caught.value, ModelUnavailable)
    assert len(fake.message_requests()) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_stay_model_unavailable_and_are_not_retried(fake, model, pol, status):
    fake.script(("status", status), "ok")

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol)

    assert caught.value.kind == f"http_{status}"
    assert len(fake.message_requests()) == 1


@pytest.mark.parametrize("status", [408, 409, 429, 500, 501, 503, 529])
def test_availability_failures_are_retried(fake, model, pol, sleeps, status):
    fake.script(("status", status, {"retry-after": "0"}), "ok")

    result = _classify(model, pol)

    assert result.answers["category"].problem is None
    assert len(fake.message_requests()) == 2
    assert sleeps == [0.0]


@pytest.mark.parametrize("status", [408, 429, 500, 529])
def test_availability_failures_that_persist_are_model_unavailable(fake, model, pol, status):
    fake.script(*[("status", status, {"retry-after": "0"})] * 3)

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol)

    assert caught.value.kind == f"http_{status}"
    assert len(fake.message_requests()) == 3  # max_retries = 2


# ------------------------------------------------------------------------------------ no answer
def test_a_hung_request_times_out_retries_once_then_is_model_unavailable(fake, model, pol, sleeps):
    fake.script(("hang", 2.0), ("hang", 2.0), "ok")

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol, timeout_seconds=0.3, max_retries=1)

    assert caught.value.kind == "timeout"
    assert len(fake.message_requests()) == 2  # asked again at once, no sleep
    assert sleeps == []


def test_a_timeout_then_an_answer_is_an_answer(fake, model, pol):
    fake.script(("hang", 2.0), "ok")

    result = _classify(model, pol, timeout_seconds=0.5, max_retries=1)

    assert result.answers["category"].problem is None


def test_an_api_nobody_listens_on_is_a_connection_failure(pol):
    with FakeAnthropic(api_key=API_KEY) as closed:
        url = closed.url  # the port is free again once the sandbox stops
    model = ClaudeModel(StaticSecrets(VendorSecrets(ANTHROPIC_API_KEY=API_KEY)), pol.prices, url)  # type: ignore[arg-type]

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol, max_retries=1)

    assert caught.value.kind == "connection"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ReadTimeoutError(None, "/v1/messages", "read timed out"), "timeout"),
        (ConnectTimeoutError("connect timed out"), "timeout"),
        (NewConnectionError(None, "connection refused"), "connection"),  # a ConnectTimeoutError subclass in urllib3
        (ProtocolError("connection reset"), "connection"),
    ],
)
def test_no_answer_is_a_timeout_or_a_connection_failure(error, kind):
    assert unanswered(error).kind == kind


@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b"[]", b'{"type": "message"}', b'{"content": "text"}', b"\xff"]
)
def test_a_2xx_that_is_not_a_message_is_an_outage_not_an_answer(body):
    with pytest.raises(ModelUnavailable) as caught:
        message_of(VendorResponse(200, {}, body))

    assert caught.value.kind == "bad_reply"


# ------------------------------------------------------------------------------------ retry-after
def _http_date(offset_seconds: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=offset_seconds), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "waited"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "30"}, 0.25),  # the precise header wins
        ({"retry-after": "1"}, 1.0),
        ({"retry-after": "0.5"}, 0.5),
    ],
)
def test_a_short_retry_after_is_waited_then_retried(fake, model, pol, sleeps, headers, waited):
    fake.script(("status", 429, headers), "ok")

    _classify(model, pol)

    assert sleeps == [waited]
    assert len(fake.message_requests()) == 2


def test_retry_after_as_an_http_date_in_the_past_means_retry_now(fake, model, pol, sleeps):
    fake.script(("status", 529, {"retry-after": _http_date(-3600)}), "ok")

    _classify(model, pol)

    assert sleeps == [0.0]
    assert len(fake.message_requests()) == 2


def test_retry_after_as_a_near_http_date_is_waited(fake, model, pol, sleeps):
    fake.script(("status", 503, {"retry-after": _http_date(2)}), "ok")

    _classify(model, pol)

    [waited] = sleeps
    assert 0.0 < waited <= MAX_RETRY_WAIT
    assert len(fake.message_requests()) == 2


@pytest.mark.parametrize(
    "headers",
    # Built when the test runs: a date built at collection is in the past by the time a long suite gets here.
    [lambda: {"retry-after-ms": "5000"}, lambda: {"retry-after": "30"}, lambda: {"retry-after": _http_date(120)}],
    ids=["retry-after-ms", "retry-after-seconds", "retry-after-http-date"],
)
def test_a_long_retry_after_fails_fast_without_waiting(fake, model, pol, sleeps, headers):
    fake.script(("status", 429, headers()), "ok")

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol)

    assert caught.value.kind == "http_429"
    assert sleeps == []
    assert len(fake.message_requests()) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 0.5),
        ({"retry-after": "soon"}, 0.5),
        ({"retry-after": "nan"}, 0.5),
        ({"retry-after-ms": "inf", "retry-after": "1"}, 1.0),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
def test_retry_after_parsing(headers, expected):
    assert retry_after(headers, 0) == expected


# ------------------------------------------------------------------------------------ x-should-retry
def test_x_should_retry_false_is_never_retried_even_for_a_retryable_status(fake, model, pol, sleeps):
    fake.script(("status", 529, {"x-should-retry": "false", "retry-after": "0"}), "ok")

    with pytest.raises(ModelUnavailable) as caught:
        _classify(model, pol)

    assert caught.value.kind == "http_529"
    assert len(fake.message_requests()) == 1
    assert sleeps == []


def test_x_should_retry_true_retries_a_status_that_is_not_retryable(fake, model, pol):
    fake.script(("status", 400, {"x-should-retry": "true", "retry-after": "0"}), "ok")

    result = _classify(model, pol)

    assert result.answers["category"].problem is None
    assert len(fake.message_requests()) == 2


def test_x_should_retry_true_still_never_waits_longer_than_the_limit(fake, model, pol, sleeps):
    fake.script(("status", 400, {"x-should-retry": "true", "retry-after": "30"}), "ok")

    with pytest.raises(ModelRequestRejected):
        _classify(model, pol)

    assert sleeps == []
    assert len(fake.message_requests()) == 1


def test_x_should_retry_true_still_stops_at_the_routes_max_retries(fake, model, pol):
    fake.script(*[("status", 400, {"x-should-retry": "true", "retry-after": "0"})] * 4)

    with pytest.raises(ModelRequestRejected):
        _classify(model, pol, max_retries=1)

    assert len(fake.message_requests()) == 2
    assert fake.pending_steps == 2
