"""IngestFunction's request handling: route, run the intake, map errors, count outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage_gate.config import ingest_settings
from triage_gate.errors import ConfigurationError, RequestRejected, TemporarilyUnavailable
from triage_gate.intake.http import WebhookRequest, json_response, rejection_response, unavailable_response
from triage_gate.intake.outcomes import IntakeResult
from triage_gate.observability import count, logger, metrics

SOURCES = ("zendesk", "hubspot")
# Used when settings themselves are broken and cannot say what the retry delay is.
FALLBACK_RETRY_AFTER = 30


def handle_webhook_event(event: Mapping[str, Any]) -> dict[str, Any]:
    metrics.add_metric(name="WebhookRequests", unit="Count", value=1)
    path = event.get("rawPath") or ""
    source = path.rstrip("/").rsplit("/", 1)[-1]
    if not path.startswith("/webhooks/") or source not in SOURCES:
        return json_response(404, {"error": "not_found", "message": f"no webhook at {path}"})
    try:
        return _handle(source, event)
    except RequestRejected as exc:
        count("WebhookRejected", Source=source, Reason=exc.reason)
        logger.info("webhook rejected", source=source, reason=exc.reason, field=exc.field, status=exc.status)
        return rejection_response(exc)
    except TemporarilyUnavailable as exc:
        count("WebhookUnavailable", Source=source, Reason=exc.reason)
        logger.error("webhook not taken; vendor must redeliver", source=source, reason=exc.reason, detail=exc.message)
        return unavailable_response(exc, _retry_after())
    except ConfigurationError as exc:
        count("WebhookUnavailable", Source=source, Reason="misconfigured")
        logger.error("intake is misconfigured", source=source, detail=str(exc))
        error = TemporarilyUnavailable(
            "the service is misconfigured; an operator has been alerted", reason="misconfigured"
        )
        return unavailable_response(error, _retry_after())
    except Exception:
        # A bug, not the caller's fault: never a 400 (the vendor would drop the event) and never a 500
        # (Zendesk does not retry those). 503 + Retry-After makes both vendors redeliver; the claims the
        # request took were given back by the intake before the exception got here.
        count("WebhookUnavailable", Source=source, Reason="internal_error")
        logger.exception("webhook failed unexpectedly; vendor must redeliver", source=source)
        error = TemporarilyUnavailable("the request could not be taken now; retry later", reason="internal_error")
        return unavailable_response(error, _retry_after())


def _handle(source: str, event: Mapping[str, Any]) -> dict[str, Any]:
    from triage_gate.wiring import intake_service

    service = intake_service()
    request = WebhookRequest.from_apigw_v2(event)
    result = service.handle_zendesk(request) if source == "zendesk" else service.handle_hubspot(request)
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


def _retry_after() -> int:
    try:
        return ingest_settings().retry_after_seconds
    except ConfigurationError:
        return FALLBACK_RETRY_AFTER
