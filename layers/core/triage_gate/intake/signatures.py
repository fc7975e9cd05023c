"""Webhook signature schemes, computed over the raw request bytes (never re-serialised JSON).

Both directions live here: verification for the intake, signing for the demo, the CLI and tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from triage_gate.errors import InvalidSignature, MissingSignature, StaleTimestamp

ZENDESK_SIGNATURE_HEADER = "x-zendesk-webhook-signature"
ZENDESK_TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
HUBSPOT_SIGNATURE_HEADER = "x-hubspot-signature-v3"
HUBSPOT_TIMESTAMP_HEADER = "x-hubspot-request-timestamp"

# HubSpot's v3 docs: these percent-escapes are decoded in the whole request URI (query string
# included) before signing, whatever the case of their hex digits.
_HUBSPOT_URI_DECODES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
    "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_HUBSPOT_URI_ESCAPE = re.compile("|".join(_HUBSPOT_URI_DECODES), re.IGNORECASE)


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret as a literal string, timestamp + body))."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def hubspot_v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp_ms: str) -> str:
    """base64(HMAC-SHA256(client secret, method + uri + body + millisecond timestamp))."""
    message = method.upper().encode() + canonical_hubspot_uri(uri).encode() + body + timestamp_ms.encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def canonical_hubspot_uri(uri: str) -> str:
    """The URI as HubSpot signs it: the listed escapes decoded, in one pass, everywhere in it."""
    return _HUBSPOT_URI_ESCAPE.sub(lambda m: _HUBSPOT_URI_DECODES[m.group().upper()], uri)


def verify_zendesk(
    headers: dict[str, str], body: bytes, secrets: Sequence[str], *, now: datetime, max_age_seconds: int
) -> None:
    signature = headers.get(ZENDESK_SIGNATURE_HEADER, "")
    timestamp = headers.get(ZENDESK_TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise MissingSignature(f"missing {ZENDESK_SIGNATURE_HEADER} or {ZENDESK_TIMESTAMP_HEADER} header")
    given = signature.encode("utf-8")  # bytes: compare_digest refuses non-ASCII str
    if not any(hmac.compare_digest(zendesk_signature(s, timestamp, body).encode(), given) for s in secrets):
        raise InvalidSignature("Zendesk webhook signature does not match the body and timestamp")
    try:
        signed_at = datetime.fromisoformat(timestamp)
    except ValueError as exc:
        raise StaleTimestamp(f"{ZENDESK_TIMESTAMP_HEADER} is not an ISO-8601 timestamp") from exc
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    _check_age((now - signed_at).total_seconds(), max_age_seconds)


def verify_hubspot_v3(
    headers: dict[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    method: str,
    uri: str,
    now: datetime,
    max_age_seconds: int,
) -> None:
    signature = headers.get(HUBSPOT_SIGNATURE_HEADER, "")
    timestamp = headers.get(HUBSPOT_TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise MissingSignature(f"missing {HUBSPOT_SIGNATURE_HEADER} or {HUBSPOT_TIMESTAMP_HEADER} header")
    expected = (hubspot_v3_signature(s, method, uri, body, timestamp) for s in secrets)
    given = signature.encode("utf-8")
    if not any(hmac.compare_digest(e.encode(), given) for e in expected):
        raise InvalidSignature(f"HubSpot v3 signature does not match {method} {uri}, the body and timestamp")
    if not timestamp.isdigit():
        raise StaleTimestamp(f"{HUBSPOT_TIMESTAMP_HEADER} is not a millisecond epoch timestamp")
    _check_age(now.timestamp() - int(timestamp) / 1000, max_age_seconds)


def _check_age(age_seconds: float, max_age_seconds: int) -> None:
    if abs(age_seconds) > max_age_seconds:
        direction = "old" if age_seconds > 0 else "in the future"
        raise StaleTimestamp(
            f"signature timestamp is {abs(age_seconds):.0f}s {direction}; the window is {max_age_seconds}s"
        )


def zendesk_timestamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_zendesk_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    ts = zendesk_timestamp(now)
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, ts, body),
        "X-Zendesk-Webhook-Signature-Timestamp": ts,
    }


def signed_hubspot_headers(secret: str, uri: str, body: bytes, now: datetime) -> dict[str, str]:
    ts = str(int(now.timestamp() * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": hubspot_v3_signature(secret, "POST", uri, body, ts),
        "X-HubSpot-Request-Timestamp": ts,
    }
