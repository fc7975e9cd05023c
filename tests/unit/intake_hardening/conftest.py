"""Intake hardening, through IntakeService and through IngestFunction's request handling (compose.ingest):
the fakes, fixtures and request builders shared by this package's tests.

1. Nothing accepted is lost, nothing bad gets a 500 (test_nothing_lost.py).
2. Dedupe only on what the vendor signed (test_signed_dedupe.py).
3. Ticket, account and portal ids are digits at intake (test_ids.py).
4. HubSpot v3 request URI (test_hubspot_uri.py).

The handler tests queue through the real SqsEventQueue over a stub SQS client that refuses what SQS
refuses, so what reaches "the queue" is exactly what SendMessageBatch would take.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import event_with_body, load_event, make_secrets, make_settings, sign_hubspot, sign_zendesk
from triage_gate.adapters.sqs_queue import SqsEventQueue
from triage_gate.compose import ingest
from triage_gate.compose.common import Lazy
from triage_gate.config import IngestSettings, VendorSecrets
from triage_gate.http import WebhookRequest
from triage_gate.intake.outcomes import IntakeResult
from triage_gate.intake.service import IntakeService
from triage_gate.messages import MAX_QUEUE_MESSAGE_BYTES, TicketEvent
from triage_gate.observability import metrics
from triage_gate.ports import EventQueue
from triage_tools.memory import InMemoryDedupeStore, InMemoryEventQueue, StaticSecrets

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/triage"
CREATED = "ingest__zendesk_ticket_created.json"
COMMENT = "ingest__zendesk_comment_added.json"
USER = "ingest__zendesk_user_created.json"
TRIGGER_CREATED = "ingest__zendesk_trigger_ticket_created.json"
TRIGGER_UPDATED = "ingest__zendesk_trigger_ticket_updated.json"
BATCH = "ingest__hubspot_batch.json"
CREATED_KEY = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
HS_CREATION_KEY = "hubspot:48213377:2210481:4120087731:19800231:1795770840000"
HS_CHANGE_KEY = "hubspot:48213377:2210482:4120087995:19800231:1795770846000"
GATEWAY_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
# What SQS refuses in a message body (it takes #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
_SQS_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# ------------------------------------------------------------------------------------------- fakes
class StubSqs:
    """SendMessageBatch as SQS answers it: too large or unsendable entries fail as sender faults."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ok: list[dict[str, str]] = []
        failed: list[dict[str, Any]] = []
        for entry in Entries:
            body = entry["MessageBody"]
            attributes = sum(
                len(name) + len(value["DataType"]) + len(value["StringValue"])
                for name, value in entry["MessageAttributes"].items()
            )
            size = len(body.encode("utf-8", "surrogatepass")) + attributes
            if size > MAX_QUEUE_MESSAGE_BYTES or _SQS_REFUSED.search(body):
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidParameterValue"})
            else:
                self.bodies.append(body)
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def keys(self) -> list[str]:
        return [TicketEvent.from_json(b).dedupe_key for b in self.bodies]


class ExplodingQueue(InMemoryEventQueue):
    """Raises something no adapter documents (a bug, a library surprise) while ``explode`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.explode = True

    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        if self.explode:
            raise RuntimeError("boom: unexpected failure inside the queue adapter")
        return super().send(events)


class ExplodingConfirmStore(InMemoryDedupeStore):
    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        raise RuntimeError("boom: unexpected failure while confirming")


class ExplodingSecrets:
    def get(self) -> VendorSecrets:
        raise RuntimeError("boom: unexpected failure reading secrets")


@dataclass
class Wired:
    service: IntakeService
    dedupe: InMemoryDedupeStore
    sqs: StubSqs
    handler: Lazy[ingest.Ingest]


Wire = Callable[..., Wired]


@pytest.fixture
def wire() -> Wire:
    """An IngestFunction handler over an IntakeService with SqsEventQueue(StubSqs) and an in-memory store."""

    def make(
        settings: IngestSettings | None = None,
        *,
        dedupe: InMemoryDedupeStore | None = None,
        queue: EventQueue | None = None,
        secrets: Any = None,
    ) -> Wired:
        sqs = StubSqs()
        store = dedupe or InMemoryDedupeStore()
        service = IntakeService(
            settings or make_settings(),
            secrets or StaticSecrets(make_secrets()),
            store,
            queue or SqsEventQueue(QUEUE_URL, sqs),
            clock=_now,
        )
        handler = Lazy.of(ingest.Ingest(service, (settings or make_settings()).retry_after_seconds))
        return Wired(service, store, sqs, handler)

    return make


@pytest.fixture
def wired(wire: Wire) -> Wired:
    return wire()


def _now() -> datetime:
    """Now, always with microseconds: received_at then serialises to the same length every time."""
    return datetime.now(UTC).replace(microsecond=123_456)


def _call(wired: Wired, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    try:
        response = ingest.handle(event, wired.handler)
    finally:
        metrics.flush_metrics()  # once per invocation, as the handler's log_metrics does
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def _zendesk(name: str = CREATED, body: Any = None) -> dict[str, Any]:
    return sign_zendesk(load_event(name) if body is None else event_with_body(name, body))


def _hubspot(body: Any = None) -> dict[str, Any]:
    return sign_hubspot(load_event(BATCH) if body is None else event_with_body(BATCH, body))


def _body(name: str) -> Any:
    return json.loads(load_event(name)["body"])


def _hs_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _body(BATCH)
    return items


def _statuses(result: IntakeResult) -> list[str]:
    return [o.status for o in result.outcomes]


def _metrics(out: str, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line and name in line]


def _in_memory_service(settings: IngestSettings | None = None) -> tuple[IntakeService, InMemoryDedupeStore, Any]:
    dedupe, queue = InMemoryDedupeStore(), InMemoryEventQueue()
    service = IntakeService(settings or make_settings(), StaticSecrets(make_secrets()), dedupe, queue)
    return service, dedupe, queue


def _request(event: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest.from_apigw_v2(event)


def _nested(depth: int) -> Any:
    """A JSON value nesting ``depth`` arrays."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value
