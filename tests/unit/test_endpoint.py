"""IngestFunction's request handling (compose.ingest.handle): routing, HTTP status and JSON body per outcome,
metrics, never a 500."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import (
    event_with_body,
    load_event,
    make_service,
    make_settings,
    sign_hubspot,
    sign_zendesk,
)
from triage_gate.compose import ingest
from triage_gate.compose.common import Lazy
from triage_gate.observability import metrics
from triage_tools.memory import InMemoryDedupeStore, InMemoryEventQueue

CREATED = "ingest__zendesk_ticket_created.json"
BATCH = "ingest__hubspot_batch.json"
CREATED_KEY = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
MAX_BODY = 262_144


@dataclass
class Wired:
    dedupe: InMemoryDedupeStore
    queue: InMemoryEventQueue
    handler: Lazy[ingest.Ingest]

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One invocation: the metrics are flushed at its end, as the handler's ``log_metrics`` does."""
        try:
            return ingest.handle(event, self.handler)
        finally:
            metrics.flush_metrics()


def _wire(**overrides: Any) -> Wired:
    settings = make_settings(max_body_bytes=MAX_BODY, **overrides)
    service, dedupe, queue = make_service(settings)
    return Wired(dedupe, queue, Lazy.of(ingest.Ingest(service, settings.retry_after_seconds)))


@pytest.fixture
def wired() -> Wired:
    return _wire()


def _zendesk(name: str = CREATED, body: Any = None, **sign: Any) -> dict[str, Any]:
    event = load_event(name) if body is None else event_with_body(name, body)
    return sign_zendesk(event, **sign)


def _hubspot(body: Any = None, **sign: Any) -> dict[str, Any]:
    event = load_event(BATCH) if body is None else event_with_body(BATCH, body)
    return sign_hubspot(event, **sign)


def _call(wired: Wired, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = wired.handle(event)
    return response["statusCode"], json.loads(response["body"])


def _metrics(out: str, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line and name in line]


# --- 200 -----------------------------------------------------------------------------------------


def test_accepted_zendesk_event_returns_200_with_dedupe_key(wired: Wired) -> None:
    status, body = _call(wired, _zendesk())

    assert status == 200
    assert body["accepted"] == 1
    assert body["events"] == [{"index": 0, "status": "accepted", "dedupe_key": CREATED_KEY}]
    assert len(wired.queue.messages) == 1


def test_redelivered_event_returns_200_duplicate(wired: Wired) -> None:
    _call(wired, _zendesk())

    status, body = _call(wired, _zendesk())

    assert status == 200
    assert (body["accepted"], body["duplicates"]) == (0, 1)


def test_non_ticket_event_returns_200_ignored(wired: Wired) -> None:
    status, body = _call(wired, _zendesk("ingest__zendesk_user_created.json"))

    assert status == 200
    assert body["ignored"] == 1
    assert body["events"][0]["detail"] == "not_a_ticket_event"


def test_hubspot_batch_returns_200_with_counts_per_outcome(wired: Wired) -> None:
    status, body = _call(wired, _hubspot())

    assert status == 200
    assert body["source"] == "hubspot"
    assert (body["received"], body["accepted"], body["ignored"]) == (4, 2, 2)


def test_trailing_slash_on_path_is_routed(wired: Wired) -> None:
    event = _zendesk()
    event["rawPath"] = "/webhooks/zendesk/"

    status, _ = _call(wired, event)

    assert status == 200


# --- 401 -----------------------------------------------------------------------------------------


def test_wrong_secret_returns_401_invalid_signature(wired: Wired) -> None:
    status, body = _call(wired, _zendesk(secret="not-the-secret"))

    assert status == 401
    assert body["error"] == "invalid_signature"
    assert wired.queue.messages == []


def test_unsigned_sample_returns_401_invalid_signature(wired: Wired) -> None:
    status, body = _call(wired, load_event(BATCH))  # placeholder SIGNED-AT-SEND-TIME header

    assert (status, body["error"]) == (401, "invalid_signature")


def test_old_signature_returns_401_stale_timestamp(wired: Wired) -> None:
    status, body = _call(wired, _zendesk(now=datetime.now(UTC) - timedelta(minutes=10)))

    assert (status, body["error"]) == (401, "stale_timestamp")


def test_missing_signature_header_returns_401_missing_signature(wired: Wired) -> None:
    event = _hubspot()
    del event["headers"]["x-hubspot-signature-v3"]

    status, body = _call(wired, event)

    assert (status, body["error"]) == (401, "missing_signature")


# --- 400 / 413 / 415 -----------------------------------------------------------------------------


def test_malformed_json_returns_400_malformed_json(wired: Wired) -> None:
    status, body = _call(wired, _zendesk(body='{"type": "zen:event-type:ticket.created",'))

    assert (status, body["error"]) == (400, "malformed_json")


def test_invalid_payload_returns_400_naming_field(wired: Wired) -> None:
    payload = json.loads(load_event(CREATED)["body"])
    del payload["detail"]["id"]

    status, body = _call(wired, _zendesk(body=payload))

    assert (status, body["error"], body["field"]) == (400, "invalid_payload", "detail.id")


def test_oversized_body_returns_413(wired: Wired) -> None:
    status, body = _call(wired, _zendesk(body="x" * (MAX_BODY + 1)))

    assert (status, body["error"]) == (413, "payload_too_large")


def test_wrong_content_type_returns_415(wired: Wired) -> None:
    event = _zendesk()
    event["headers"]["content-type"] = "text/plain"

    status, body = _call(wired, event)

    assert (status, body["error"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize("path", ["/webhooks/intercom", "/hooks/zendesk", "/webhooks", "", "/"])
def test_unknown_path_returns_404(wired: Wired, path: str) -> None:
    event = _zendesk()
    event["rawPath"] = path

    status, body = _call(wired, event)

    assert (status, body["error"]) == (404, "not_found")
    assert wired.queue.messages == []


# --- base64 bodies -------------------------------------------------------------------------------


def test_base64_encoded_body_is_verified_on_decoded_bytes(wired: Wired) -> None:
    event = _zendesk()
    event["body"] = base64.b64encode(event["body"].encode("utf-8")).decode("ascii")
    event["isBase64Encoded"] = True

    status, body = _call(wired, event)

    assert (status, body["accepted"]) == (200, 1)


def test_body_flagged_base64_that_is_not_base64_returns_400(wired: Wired) -> None:
    event = _zendesk()
    event["isBase64Encoded"] = True  # the body is plain JSON

    status, body = _call(wired, event)

    assert (status, body["error"]) == (400, "invalid_payload")


# --- 503 -----------------------------------------------------------------------------------------


def test_queue_failure_returns_503_with_retry_after_under_60(wired: Wired) -> None:
    wired.queue.failing = {CREATED_KEY}

    response = wired.handle(_zendesk())

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "queue_unavailable"
    assert 0 < int(response["headers"]["Retry-After"]) < 60


def test_queue_failure_retry_after_follows_setting() -> None:
    wired = _wire(retry_after_seconds=12)
    wired.queue.failing = {CREATED_KEY}

    response = wired.handle(_zendesk())

    assert response["headers"]["Retry-After"] == "12"
    assert json.loads(response["body"])["retry_after_seconds"] == 12


def test_redelivery_after_503_is_accepted(wired: Wired) -> None:
    wired.queue.failing = {CREATED_KEY}
    wired.handle(_zendesk())
    wired.queue.failing = set()

    status, body = _call(wired, _zendesk())

    assert (status, body["accepted"]) == (200, 1)


def test_unset_queue_url_returns_503_misconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_QUEUE_URL", raising=False)
    monkeypatch.setenv("DEDUPE_TABLE_NAME", "dedupe")

    response = ingest.handle(_zendesk(), Lazy(ingest.build))  # the settings fail when the service is built

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "misconfigured"
    assert 0 < int(response["headers"]["Retry-After"]) < 60


def test_misconfigured_response_does_not_leak_the_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_QUEUE_URL", raising=False)
    monkeypatch.setenv("DEDUPE_TABLE_NAME", "dedupe")

    response = ingest.handle(_zendesk(), Lazy(ingest.build))

    assert "TRIAGE_QUEUE_URL" not in response["body"]


# --- metrics -------------------------------------------------------------------------------------


def test_rejected_signature_emits_webhook_rejected_metric(wired: Wired, capsys: pytest.CaptureFixture[str]) -> None:
    _call(wired, _zendesk(secret="not-the-secret"))

    [metric] = _metrics(capsys.readouterr().out, "WebhookRejected")
    assert (metric["Reason"], metric["Source"], metric["WebhookRejected"]) == (
        "invalid_signature",
        "zendesk",
        [1.0],
    )


def test_accepted_event_emits_events_accepted_metric(wired: Wired, capsys: pytest.CaptureFixture[str]) -> None:
    _call(wired, _hubspot())

    [metric] = _metrics(capsys.readouterr().out, "EventsAccepted")
    assert (metric["Source"], metric["EventsAccepted"]) == ("hubspot", [2.0])


def test_queue_failure_emits_webhook_unavailable_metric(wired: Wired, capsys: pytest.CaptureFixture[str]) -> None:
    wired.queue.failing = {CREATED_KEY}

    wired.handle(_zendesk())

    [metric] = _metrics(capsys.readouterr().out, "WebhookUnavailable")
    assert metric["Reason"] == "queue_unavailable"


# --- never a 500 ---------------------------------------------------------------------------------

_COMMENT = json.loads(load_event("ingest__zendesk_comment_added.json")["body"])
_HS_CREATION = json.loads(load_event(BATCH)["body"])[0]


def _comment_with(**comment: Any) -> str:
    return json.dumps({**_COMMENT, "event": {"comment": {**_COMMENT["event"]["comment"], **comment}}})


GARBAGE = {
    "empty": "",
    "null": "null",
    "empty-array": "[]",
    "empty-object": "{}",
    "numbers-array": "[1,2]",
    "string": '"a string"',
    "number": "42",
    "boolean": "true",
    "nested-arrays": "[[[]]]",
    "nan-infinity": '{"x": NaN, "y": Infinity}',
    "wrong-type-and-source": '{"type": 5, "source": []}',
    "envelope-wrong-types": '{"type": "zen:event-type:ticket.created", "account_id": {}, "id": [], "time": 7}',
    "envelope-detail-string": '{"type": "zen:event-type:ticket.created", "account_id": 1, "id": "e", '
    '"time": "2026-11-27T09:00:00Z", "detail": "40211", "event": []}',
    "trigger-object-ticket-id": '{"source": "zendesk-trigger", "event": "ticket_created", "ticket_id": {"id": 1}}',
    "trigger-null-event": '{"source": "zendesk-trigger", "event": null, "ticket_id": 1.5}',
    "hubspot-wrong-types": '[{"eventId": [], "objectId": {}, "occurredAt": "soon"}]',
    "hubspot-non-objects": '[null, "x", 3]',
    "hubspot-101-events": "[" + ",".join(["{}"] * 101) + "]",
    "hubspot-negative-time-bool-id": json.dumps([{**_HS_CREATION, "occurredAt": -5, "portalId": False}]),
    "hubspot-nan-time": json.dumps([{**_HS_CREATION, "occurredAt": float("nan")}]),
}


@pytest.mark.parametrize("source", ["zendesk", "hubspot"])
@pytest.mark.parametrize("payload", GARBAGE.values(), ids=GARBAGE.keys())
def test_signed_garbage_body_is_a_client_error_never_500(wired: Wired, source: str, payload: str) -> None:
    event = _zendesk(body=payload) if source == "zendesk" else _hubspot(body=payload)

    status, _ = _call(wired, event)

    assert status in {400, 401, 415}


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("source", "payload"),
    [
        pytest.param(
            "zendesk",
            _comment_with(body=12345),
            id="comment-body-int",
        ),
        pytest.param(
            "zendesk",
            _comment_with(author="Tomas"),
            id="author-str",
        ),
        pytest.param(
            "hubspot",
            json.dumps([{**_HS_CREATION, "occurredAt": 10**17}]),
            id="hubspot-far-future-time",
        ),
        pytest.param("zendesk", DEEP, id="zendesk-deeply-nested"),
        pytest.param("hubspot", DEEP, id="hubspot-deeply-nested"),
    ],
)
def test_signed_hostile_body_is_a_client_error_never_500(wired: Wired, source: str, payload: str) -> None:
    event = _zendesk(body=payload) if source == "zendesk" else _hubspot(body=payload)

    status, _ = _call(wired, event)

    assert status in {400, 401, 415}


def test_non_ascii_signature_header_returns_401(wired: Wired) -> None:
    event = _zendesk()
    event["headers"]["x-zendesk-webhook-signature"] = "signé"

    status, body = _call(wired, event)

    assert (status, body["error"]) == (401, "invalid_signature")
