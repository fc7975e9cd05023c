"""IngestFunction: POST /webhooks/zendesk and /webhooks/hubspot → IntakeService, answered in milliseconds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.dedupe_table import DynamoDedupeStore
from triage_gate.adapters.sqs_queue import SqsEventQueue
from triage_gate.compose.common import Lazy, vendor_secrets
from triage_gate.config import IngestSettings
from triage_gate.http import WebhookRequest, error_response, json_response
from triage_gate.intake.outcomes import IntakeResult
from triage_gate.intake.service import IntakeService
from triage_gate.observability import count, logger, metrics

SOURCES = ("zendesk", "hubspot")
# Calls made before the 2xx must fit the vendors' ack windows (HubSpot: 5 s).
FAST = {"connect_timeout": 1.0, "read_timeout": 2.0}
# Used when the settings themselves are broken and cannot say what the retry delay is.
FALLBACK_RETRY_AFTER = 30


class Ingest(msgspec.Struct, frozen=True):
    service: IntakeService
    retry_after_seconds: int


def build(settings: IngestSettings | None = None, aws: AwsClients | None = None) -> Ingest:
    settings = settings or IngestSettings.from_env()
    aws = aws or AwsClients()
    dedupe = DynamoDedupeStore(
        settings.dedupe_table_name,
        aws.client("dynamodb", **FAST),
        ttl_seconds=settings.dedupe_ttl_seconds,
        lease_seconds=settings.dedupe_lease_seconds,
    )
    queue = SqsEventQueue(settings.triage_queue_url, aws.client("sqs", **FAST))
    return Ingest(
        IntakeService(settings, vendor_secrets(settings, aws=aws), dedupe, queue), settings.retry_after_seconds
    )


def handle(event: Mapping[str, Any], ingest: Lazy[Ingest]) -> dict[str, Any]:
    metrics.add_metric(name="WebhookRequests", unit="Count", value=1)
    path = event.get("rawPath") or ""
    source = path.rstrip("/").rsplit("/", 1)[-1]
    if not path.startswith("/webhooks/") or source not in SOURCES:
        return json_response(404, {"error": "not_found", "message": f"no webhook at {path}"})
    retry_after = FALLBACK_RETRY_AFTER
    try:
        built = ingest.get()
        retry_after = built.retry_after_seconds
        request = WebhookRequest.from_apigw_v2(event)
        service = built.service
        result = service.handle_zendesk(request) if source == "zendesk" else service.handle_hubspot(request)
    except Exception as exc:  # every error has its answer in one place (the claims were given back)
        return error_response(exc, source=source, retry_after_seconds=retry_after)
    _record(result)
    return json_response(200, result.as_json())


def _record(result: IntakeResult) -> None:
    source = result.source
    count("EventsReceived", len(result.outcomes), Source=source)
    count("EventsAccepted", result.count("accepted"), Source=source)
    count("EventsDuplicate", result.count("duplicate"), Source=source)
    count("EventsIgnored", result.count("ignored"), Source=source)
    count("WebhookRejected", result.count("rejected"), Source=source, Reason="invalid_event")
    if result.dedupe_bypassed:
        count("DedupeBypassed", Source=source)
    for outcome in result.outcomes:
        logger.info(
            "webhook event",
            source=source,
            status=outcome.status,
            detail=outcome.detail,
            correlation_id=outcome.correlation_id,
            dedupe_key=outcome.dedupe_key,
        )
