"""Hostile input at intake: any bytes, headers and content types give a 4xx or a 200, never a 5xx or an
exception; oversized and deeply nested JSON are refused cheaply."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import HUBSPOT_SECRET, HUBSPOT_URL, ZENDESK_SECRET, load_event, make_service, make_settings
from tests.unit.hostile_input.strategies import PROPERTY, extra_headers, json_values
from triage_gate.compose import ingest as compose_ingest
from triage_gate.compose.common import Lazy
from triage_gate.intake import signatures

MAX_BODY = 262_144
INGEST_STATUSES = {200, 400, 401, 413, 415}


# ------------------------------------------------------------------------------------------ fixtures
Ingest = Lazy[compose_ingest.Ingest]


@pytest.fixture
def ingest() -> Ingest:
    settings = make_settings(max_body_bytes=MAX_BODY)
    service, _, _ = make_service(settings)
    return Lazy.of(compose_ingest.Ingest(service, settings.retry_after_seconds))


# Shapes close to the real payloads, so the parsers past json.loads get exercised too.
zendesk_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["zen:event-type:ticket.created", "zen:event-type:user.created"]) | json_values},
    optional={
        "id": json_values,
        "account_id": json_values,
        "time": st.sampled_from(["2026-11-27T12:00:00Z", "not a time"]) | json_values,
        "detail": st.dictionaries(st.sampled_from(["id", "subject", "description", "status", "priority"]), json_values)
        | json_values,
        "event": json_values,
        "subject": json_values,
    },
)
hubspot_like = st.lists(
    st.fixed_dictionaries(
        {"subscriptionType": st.sampled_from(["object.creation", "object.propertyChange"]) | json_values},
        optional={
            "objectTypeId": st.sampled_from(["0-5", "0-1"]) | json_values,
            "objectId": json_values,
            "eventId": json_values,
            "occurredAt": st.integers() | json_values,
            "propertyName": json_values,
            "propertyValue": json_values,
            "portalId": json_values,
        },
    )
    | json_values,
    max_size=4,
)


content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x+json", ""]
) | st.text(max_size=30)


def _envelope(source: str, body: bytes, *, b64: bool, headers: dict[str, str]) -> dict[str, Any]:
    name = "ingest__zendesk_ticket_created.json" if source == "zendesk" else "ingest__hubspot_batch.json"
    event = load_event(name)
    event["headers"] = {**{k.lower(): v for k, v in event["headers"].items()}, **headers}
    if b64:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body.decode("utf-8", "surrogateescape"), False
    return event


def _signed_headers(source: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    now = now or datetime.now(UTC)
    if source == "zendesk":
        made = signatures.signed_zendesk_headers(ZENDESK_SECRET, body, now)
    else:
        made = signatures.signed_hubspot_headers(HUBSPOT_SECRET, HUBSPOT_URL, body, now)
    return {k.lower(): v for k, v in made.items()}


def _call(ingest: Ingest, event: dict[str, Any]) -> int:
    response = compose_ingest.handle(event, ingest)
    json.loads(response["body"])  # always a JSON body
    return int(response["statusCode"])


# ---------------------------------------------------------------------------- ingest: any request
@PROPERTY
@given(
    source=st.sampled_from(["zendesk", "hubspot"]),
    body=st.binary(max_size=2000),
    b64=st.booleans(),
    signed=st.booleans(),
    content_type=content_types,
    headers=extra_headers,
)
def test_ingest_answers_any_bytes_with_a_4xx_or_200(
    ingest: Ingest, source: str, body: bytes, b64: bool, signed: bool, content_type: str, headers: dict[str, str]
) -> None:
    if not b64:
        body = body.decode("utf-8", "replace").encode("utf-8")  # a non-base64 API Gateway body is text
    sent = {k.lower(): v for k, v in headers.items()}
    sent.update(_signed_headers(source, body) if signed else {})
    sent["content-type"] = content_type
    status = _call(ingest, _envelope(source, body, b64=b64, headers=sent))
    assert status in INGEST_STATUSES


@PROPERTY
@given(source=st.sampled_from(["zendesk", "hubspot"]), text=st.text(max_size=300), headers=extra_headers)
def test_ingest_body_flagged_base64_that_is_not_base64_is_refused(
    ingest: Ingest, source: str, text: str, headers: dict[str, str]
) -> None:
    event = _envelope(source, b"", b64=True, headers={k.lower(): v for k, v in headers.items()})
    event["body"] = text + "!*"  # never valid base64
    assert _call(ingest, event) in {400, 401}


@PROPERTY
@given(source=st.sampled_from(["zendesk", "hubspot"]), body=st.binary(min_size=1, max_size=500))
def test_ingest_signed_non_utf8_bytes_are_a_4xx(ingest: Ingest, source: str, body: bytes) -> None:
    body = b"\xff\xfe\x00" + body
    event = _envelope(source, body, b64=True, headers=_signed_headers(source, body))
    assert _call(ingest, event) in {400, 413, 415}


@PROPERTY
@given(
    source=st.sampled_from(["zendesk", "hubspot"]),
    payload=json_values | zendesk_like | hubspot_like,
    b64=st.booleans(),
    headers=extra_headers,
)
def test_ingest_signed_json_of_any_shape_is_200_or_400(
    ingest: Ingest, source: str, payload: Any, b64: bool, headers: dict[str, str]
) -> None:
    body = json.dumps(payload).encode("utf-8")
    sent = {k.lower(): v for k, v in headers.items() if k.lower() != "content-type"}
    sent.update(_signed_headers(source, body))
    assert _call(ingest, _envelope(source, body, b64=b64, headers=sent)) in {200, 400}


# ------------------------------------------------------------------------ ingest: refused cheaply
@pytest.mark.parametrize("source", ["zendesk", "hubspot"])
@pytest.mark.parametrize("shape", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_quickly(ingest: Ingest, source: str, shape: str) -> None:
    closer = "]" if shape == "[" else "}"
    body = (shape * 100_000 + closer * 100_000).encode()
    event = _envelope(source, body, b64=False, headers=_signed_headers(source, body))
    started = time.perf_counter()
    status = _call(ingest, event)
    assert time.perf_counter() - started < 1.0
    assert status in {400, 413}


@pytest.mark.parametrize("source", ["zendesk", "hubspot"])
@pytest.mark.parametrize("b64", [False, True])
def test_oversized_body_is_refused_quickly(ingest: Ingest, source: str, b64: bool) -> None:
    body = b'{"x":"' + b"a" * (8 * MAX_BODY) + b'"}'
    event = _envelope(source, body, b64=b64, headers=_signed_headers(source, body))
    started = time.perf_counter()
    status = _call(ingest, event)
    assert time.perf_counter() - started < 1.0
    assert status == 413
