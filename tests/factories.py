"""Builders shared by the test suites: samples from events/, signed requests, services with fakes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage_gate.adapters.memory import InMemoryDedupeStore, InMemoryEventQueue, StaticSecrets
from triage_gate.config import IngestSettings, VendorSecrets
from triage_gate.intake import signatures
from triage_gate.intake.service import IntakeService

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
SHARED_DATA = ROOT.parent / "shared" / "data"

ZENDESK_SECRET = "zd-test-signing-secret"
HUBSPOT_SECRET = "hs-test-client-secret"
HUBSPOT_URL = "https://hooks.example.test/webhooks/hubspot"


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of an events/ sample (API Gateway v2 envelope)."""
    return copy.deepcopy(json.loads((EVENTS_DIR / name).read_text(encoding="utf-8")))


def event_with_body(name: str, body: Any) -> dict[str, Any]:
    event = load_event(name)
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def sign_zendesk(event: dict[str, Any], secret: str = ZENDESK_SECRET, now: datetime | None = None) -> dict[str, Any]:
    body = event.get("body", "").encode("utf-8")
    headers = signatures.signed_zendesk_headers(secret, body, now or datetime.now(UTC))
    event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event


def sign_hubspot(
    event: dict[str, Any], secret: str = HUBSPOT_SECRET, url: str = HUBSPOT_URL, now: datetime | None = None
) -> dict[str, Any]:
    body = event.get("body", "").encode("utf-8")
    headers = signatures.signed_hubspot_headers(secret, url, body, now or datetime.now(UTC))
    event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event


def make_settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "triage_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/triage",
        "dedupe_table_name": "dedupe",
        "hubspot_webhook_url": HUBSPOT_URL,
    }
    values.update(overrides)
    return IngestSettings(**values)


def make_secrets(**overrides: str) -> VendorSecrets:
    values = {"ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET, "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET}
    values.update(overrides)
    return VendorSecrets.model_validate(values)


def make_service(
    settings: IngestSettings | None = None, secrets: VendorSecrets | None = None, clock: Any = None
) -> tuple[IntakeService, InMemoryDedupeStore, InMemoryEventQueue]:
    dedupe, queue = InMemoryDedupeStore(), InMemoryEventQueue()
    kwargs = {"clock": clock} if clock else {}
    service = IntakeService(
        settings or make_settings(), StaticSecrets(secrets or make_secrets()), dedupe, queue, **kwargs
    )
    return service, dedupe, queue
