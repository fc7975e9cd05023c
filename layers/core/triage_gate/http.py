"""API Gateway HTTP API (payload v2) requests and responses, and the one error → HTTP mapping.

Every HTTP function (the vendor webhooks, Slack interactions) answers errors through `error_response`:
a refused request is its 4xx, a temporary failure or a misconfiguration is 503 + Retry-After (vendors
redeliver), and an unexpected exception is 503 too — never a 500 (Zendesk does not retry those) and never
a 400 (a bug is not the sender's fault). Each is counted and logged with the function's source.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import msgspec

from triage_gate.errors import ConfigurationError, InvalidPayload, RequestRejected, TemporarilyUnavailable
from triage_gate.observability import count, logger


class WebhookRequest(msgspec.Struct, frozen=True):
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    # https://{requestContext.domainName}{rawPath}?{rawQueryString}: API Gateway's own name for the
    # request (v3 HubSpot signatures cover the URL). Never from Host or X-Forwarded-* headers, which the
    # caller chooses. None when the event carries no domainName (not from API Gateway).
    url: str | None
    request_id: str

    @classmethod
    def from_apigw_v2(cls, event: Mapping[str, Any]) -> WebhookRequest:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        context = event.get("requestContext") or {}
        http = context.get("http") or {}
        path = event.get("rawPath") or http.get("path") or "/"
        query = event.get("rawQueryString") or ""
        domain = context.get("domainName")
        url = f"https://{domain}{path}" + (f"?{query}" if query else "") if isinstance(domain, str) and domain else None
        return cls(
            method=(http.get("method") or "POST").upper(),
            path=path,
            query=query,
            headers=headers,
            body=raw_body(event),
            url=url,
            request_id=str(context.get("requestId", "")),
        )


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes the caller sent: decoded from base64 when API Gateway encoded them."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidPayload("body is flagged base64 but is not valid base64") from exc
    return body.encode("utf-8")


def json_response(status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(payload, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def rejection_response(error: RequestRejected) -> dict[str, Any]:
    payload: dict[str, Any] = {"error": error.reason, "message": error.message}
    if error.field:
        payload["field"] = error.field
    return json_response(error.status, payload)


def unavailable_response(error: TemporarilyUnavailable, retry_after_seconds: int) -> dict[str, Any]:
    payload = {"error": error.reason, "message": error.message, "retry_after_seconds": retry_after_seconds}
    return json_response(503, payload, {"Retry-After": str(retry_after_seconds)})


MISCONFIGURED = TemporarilyUnavailable(
    "the service is misconfigured; an operator has been alerted", reason="misconfigured"
)
INTERNAL = TemporarilyUnavailable("the request could not be taken now; retry later", reason="internal_error")


def error_response(exc: BaseException, *, source: str, retry_after_seconds: int) -> dict[str, Any]:
    """The response, the metric and the log line for any error an HTTP function could not handle itself."""
    if isinstance(exc, RequestRejected):
        count("WebhookRejected", Source=source, Reason=exc.reason)
        logger.info("webhook rejected", source=source, reason=exc.reason, field=exc.field, status=exc.status)
        return rejection_response(exc)
    if isinstance(exc, TemporarilyUnavailable):
        count("WebhookUnavailable", Source=source, Reason=exc.reason)
        logger.error(
            "webhook not taken; the sender must redeliver", source=source, reason=exc.reason, detail=exc.message
        )
        return unavailable_response(exc, retry_after_seconds)
    if isinstance(exc, ConfigurationError):
        count("WebhookUnavailable", Source=source, Reason="misconfigured")
        logger.error("misconfigured", source=source, detail=str(exc))
        return unavailable_response(MISCONFIGURED, retry_after_seconds)
    count("WebhookUnavailable", Source=source, Reason="internal_error")
    logger.error("webhook failed unexpectedly; the sender must redeliver", source=source, exc_info=exc)
    return unavailable_response(INTERNAL, retry_after_seconds)
