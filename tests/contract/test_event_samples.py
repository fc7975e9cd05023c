"""Every events/ sample is a valid API Gateway v2 event whose body the intake understands,
and TicketEvent (the TriageQueue message) keeps its wire format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import EVENTS_DIR, load_event, make_service, sign_hubspot, sign_zendesk
from triage_gate.config import DEFAULT_HUBSPOT_EVENT_TYPES, DEFAULT_ZENDESK_EVENT_TYPES
from triage_gate.http import WebhookRequest
from triage_gate.intake.hubspot import parse_hubspot
from triage_gate.intake.outcomes import Ignored, Parsed
from triage_gate.intake.zendesk import parse_zendesk
from triage_gate.messages import TicketEvent

SAMPLES = sorted(p.name for p in EVENTS_DIR.glob("ingest__*.json"))  # the queue samples: test_queue_samples
RECEIVED = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
# The reasons intake documents for answering 2xx without queueing (intake/outcomes.py, Ignored).
DOCUMENTED_IGNORE_REASONS = {"not_a_ticket_event", "event_type_not_handled", "staff_comment"}


def _source(event: dict[str, Any]) -> str:
    return event["rawPath"].rstrip("/").rsplit("/", 1)[-1]


def _parse(event: dict[str, Any]) -> list[Parsed]:
    body = json.loads(event["body"])
    if _source(event) == "hubspot":
        return parse_hubspot(body, received_at=RECEIVED, handled_types=DEFAULT_HUBSPOT_EVENT_TYPES)
    parsed = parse_zendesk(
        body,
        headers=event["headers"],
        received_at=RECEIVED,
        handled_types=DEFAULT_ZENDESK_EVENT_TYPES,
        max_text_chars=32_768,
    )
    return [parsed]


def test_events_directory_holds_samples_for_both_vendors() -> None:
    sources = {_source(load_event(name)) for name in SAMPLES}

    assert sources == {"zendesk", "hubspot"}


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_is_an_api_gateway_v2_event(name: str) -> None:
    event = load_event(name)

    assert event["version"] == "2.0"
    assert event["routeKey"] == f"POST {event['rawPath']}"
    assert event["rawPath"] in {"/webhooks/zendesk", "/webhooks/hubspot"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    assert isinstance(event["body"], str)
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_headers_are_lower_case_json(name: str) -> None:
    headers = load_event(name)["headers"]

    assert all(key == key.lower() for key in headers)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_carries_the_vendor_signature_headers(name: str) -> None:
    event = load_event(name)
    expected = {
        "zendesk": {"x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp"},
        "hubspot": {"x-hubspot-signature-v3", "x-hubspot-request-timestamp"},
    }[_source(event)]

    assert expected <= set(event["headers"])


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_body_parses_to_ticket_events_or_documented_ignores(name: str) -> None:
    parsed = _parse(load_event(name))

    assert parsed
    for item in parsed:
        assert isinstance(item, TicketEvent | Ignored), item
        if isinstance(item, Ignored):
            assert item.reason in DOCUMENTED_IGNORE_REASONS


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_ticket_events_round_trip_through_json(name: str) -> None:
    events = [p for p in _parse(load_event(name)) if isinstance(p, TicketEvent)]

    for event in events:
        assert TicketEvent.from_json(event.to_json()) == event


def test_samples_produce_at_least_one_ticket_event_per_vendor() -> None:
    produced = {
        _source(load_event(name))
        for name in SAMPLES
        if any(isinstance(p, TicketEvent) for p in _parse(load_event(name)))
    }

    assert produced == {"zendesk", "hubspot"}


SCHEMA_V1_MESSAGE = """
{
  "schema_version": 1,
  "source": "zendesk",
  "account_id": "90817263",
  "ticket_id": "40211",
  "event_type": "ticket.created",
  "vendor_event_type": "zen:event-type:ticket.created",
  "event_id": "3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13",
  "occurred_at": "2026-11-27T09:14:58Z",
  "received_at": "2026-11-27T09:15:00.123456Z",
  "dedupe_key": "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13",
  "subject": "Charged twice for the November invoice",
  "text": "Hi, my card was charged twice for invoice INV-2026-1187 this morning.",
  "text_truncated": false,
  "fields": {"status": "new", "priority": "normal", "tags": ["web_form"], "via_channel": "web_form"},
  "changes": {},
  "delivery": {"webhook_id": "01JD4R7N2Q8VX5K3M9T6W1B0CZ", "invocation_id": "8812093347"}
}
"""


def test_schema_version_1_message_keeps_parsing() -> None:
    event = TicketEvent.from_json(SCHEMA_V1_MESSAGE)

    assert (event.schema_version, event.source, event.ticket_id) == (1, "zendesk", "40211")
    assert event.occurred_at == datetime(2026, 11, 27, 9, 14, 58, tzinfo=UTC)
    assert event.fields["tags"] == ["web_form"]
    assert event.correlation_id == "zendesk:40211"


def test_schema_version_1_minimal_message_keeps_parsing() -> None:
    minimal = {
        key: value
        for key, value in json.loads(SCHEMA_V1_MESSAGE).items()
        if key not in {"subject", "text", "text_truncated", "fields", "changes", "delivery"}
    }

    event = TicketEvent.from_json(json.dumps(minimal))

    assert (event.text, event.text_truncated, event.fields) == (None, False, {})


@pytest.mark.parametrize("name", SAMPLES)
def test_signed_sample_is_taken_by_the_intake_service(name: str) -> None:
    service, _, queue = make_service()
    event = load_event(name)
    signed = sign_hubspot(event) if _source(event) == "hubspot" else sign_zendesk(event)
    request = WebhookRequest.from_apigw_v2(signed)

    handle = service.handle_hubspot if _source(event) == "hubspot" else service.handle_zendesk
    result = handle(request)

    assert result.count("rejected") == 0
    assert len(queue.messages) == result.count("accepted")
