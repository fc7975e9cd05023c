"""Webhook signatures, checked against vectors computed here from the documented formulas.

vendor-protocols.md §1.2 (Zendesk): base64(HMAC-SHA256(secret as a literal string, timestamp + body)).
vendor-protocols.md §3.2 (HubSpot v3): base64(HMAC-SHA256(client secret, method + uri + body + ms)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from triage_gate.errors import InvalidSignature, MissingSignature, StaleTimestamp
from triage_gate.intake.signatures import (
    HUBSPOT_SIGNATURE_HEADER,
    HUBSPOT_TIMESTAMP_HEADER,
    ZENDESK_SIGNATURE_HEADER,
    ZENDESK_TIMESTAMP_HEADER,
    verify_hubspot_v3,
    verify_zendesk,
)

NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
NOW_TS = "2026-11-27T09:15:00Z"
NOW_MS = "1795770900000"
BODY = b'{"type":"zen:event-type:ticket.created","id":"3f6c1a52","detail":{"id":"40211"}}'
# Looks like base64 on purpose: Zendesk uses the secret as the literal string, never decoded.
ZD_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
HS_SECRET = "hs-client-secret-1234"
HS_URL = "https://hooks.example.test/webhooks/hubspot"
HS_BODY = b'[{"eventId":1,"subscriptionType":"ticket.creation","objectId":7}]'


def _hmac_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def _zendesk_vector(secret: str, timestamp: str, body: bytes) -> str:
    return _hmac_b64(secret.encode("utf-8"), timestamp.encode("utf-8") + body)


def _hubspot_vector(secret: str, method: str, uri: str, body: bytes, timestamp_ms: str) -> str:
    return _hmac_b64(secret.encode("utf-8"), method.encode() + uri.encode() + body + timestamp_ms.encode())


def _zd_headers(signature: str, timestamp: str = NOW_TS) -> dict[str, str]:
    return {ZENDESK_SIGNATURE_HEADER: signature, ZENDESK_TIMESTAMP_HEADER: timestamp}


def _hs_headers(signature: str, timestamp_ms: str = NOW_MS) -> dict[str, str]:
    return {HUBSPOT_SIGNATURE_HEADER: signature, HUBSPOT_TIMESTAMP_HEADER: timestamp_ms}


def _verify_zd(headers: dict[str, str], body: bytes = BODY, secrets: tuple[str, ...] = (ZD_SECRET,)) -> None:
    verify_zendesk(headers, body, list(secrets), now=NOW, max_age_seconds=300)


def _verify_hs(
    headers: dict[str, str],
    body: bytes = HS_BODY,
    uri: str = HS_URL,
    secrets: tuple[str, ...] = (HS_SECRET,),
    method: str = "POST",
) -> None:
    verify_hubspot_v3(headers, body, list(secrets), method=method, uri=uri, now=NOW, max_age_seconds=300)


def _zd_signed_at(timestamp: str) -> dict[str, str]:
    return _zd_headers(_zendesk_vector(ZD_SECRET, timestamp, BODY), timestamp)


def _hs_signed_at(timestamp_ms: str) -> dict[str, str]:
    return _hs_headers(_hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, timestamp_ms), timestamp_ms)


# --- Zendesk -------------------------------------------------------------------------------------


def test_verify_zendesk_accepts_documented_vector() -> None:
    _verify_zd(_zd_headers(_zendesk_vector(ZD_SECRET, NOW_TS, BODY)))


def test_verify_zendesk_rejects_secret_used_base64_decoded() -> None:
    decoded_key = base64.b64decode(ZD_SECRET)
    signature = _hmac_b64(decoded_key, NOW_TS.encode() + BODY)

    with pytest.raises(InvalidSignature):
        _verify_zd(_zd_headers(signature))


def test_verify_zendesk_rejects_body_then_timestamp_order() -> None:
    # The old docs page's order (body + timestamp) must not verify.
    signature = _hmac_b64(ZD_SECRET.encode(), BODY + NOW_TS.encode())

    with pytest.raises(InvalidSignature):
        _verify_zd(_zd_headers(signature))


def test_verify_zendesk_rejects_tampered_body() -> None:
    headers = _zd_headers(_zendesk_vector(ZD_SECRET, NOW_TS, BODY))

    with pytest.raises(InvalidSignature):
        _verify_zd(headers, body=BODY.replace(b"40211", b"40212"))


def test_verify_zendesk_rejects_tampered_timestamp() -> None:
    signature = _zendesk_vector(ZD_SECRET, NOW_TS, BODY)

    with pytest.raises(InvalidSignature):
        _verify_zd(_zd_headers(signature, timestamp="2026-11-27T09:15:01Z"))


def test_verify_zendesk_rejects_wrong_secret() -> None:
    headers = _zd_headers(_zendesk_vector("some-other-secret", NOW_TS, BODY))

    with pytest.raises(InvalidSignature):
        _verify_zd(headers)


@pytest.mark.parametrize(
    "headers",
    [
        {ZENDESK_TIMESTAMP_HEADER: NOW_TS},
        {ZENDESK_SIGNATURE_HEADER: "c2ln"},
        {ZENDESK_SIGNATURE_HEADER: "", ZENDESK_TIMESTAMP_HEADER: NOW_TS},
        {},
    ],
    ids=["no-signature", "no-timestamp", "empty-signature", "no-headers"],
)
def test_verify_zendesk_missing_header_is_missing_signature(headers: dict[str, str]) -> None:
    with pytest.raises(MissingSignature):
        _verify_zd(headers)


def test_verify_zendesk_rejects_timestamp_older_than_max_age() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_zd(_zd_signed_at("2026-11-27T09:09:59Z"))  # 301 s old


def test_verify_zendesk_accepts_timestamp_at_max_age() -> None:
    _verify_zd(_zd_signed_at("2026-11-27T09:10:00Z"))  # exactly 300 s old


def test_verify_zendesk_rejects_timestamp_too_far_in_future() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_zd(_zd_signed_at("2026-11-27T09:20:01Z"))


def test_verify_zendesk_reads_timestamp_offset() -> None:
    # 11:15 at +02:00 is 09:15 UTC: fresh.
    _verify_zd(_zd_signed_at("2026-11-27T11:15:00+02:00"))


def test_verify_zendesk_rejects_non_iso_timestamp_even_when_signed() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_zd(_zd_signed_at("1795770900"))


def test_verify_zendesk_accepts_previous_secret_during_rotation() -> None:
    headers = _zd_headers(_zendesk_vector("previous-secret", NOW_TS, BODY))

    _verify_zd(headers, secrets=(ZD_SECRET, "previous-secret"))


def test_verify_zendesk_rejects_previous_secret_once_rotation_is_over() -> None:
    headers = _zd_headers(_zendesk_vector("previous-secret", NOW_TS, BODY))

    with pytest.raises(InvalidSignature):
        _verify_zd(headers, secrets=(ZD_SECRET,))


def test_verify_zendesk_non_ascii_signature_is_invalid_signature() -> None:
    with pytest.raises(InvalidSignature):
        _verify_zd(_zd_headers("signé"))


# --- HubSpot v3 ----------------------------------------------------------------------------------


def test_verify_hubspot_accepts_documented_vector() -> None:
    _verify_hs(_hs_headers(_hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, NOW_MS)))


def test_verify_hubspot_rejects_tampered_uri() -> None:
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, NOW_MS))

    with pytest.raises(InvalidSignature):
        _verify_hs(headers, uri="https://hooks.example.test/webhooks/hubspot-other")


def test_verify_hubspot_rejects_tampered_body() -> None:
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, NOW_MS))

    with pytest.raises(InvalidSignature):
        _verify_hs(headers, body=HS_BODY.replace(b'"objectId":7', b'"objectId":8'))


def test_verify_hubspot_rejects_tampered_timestamp() -> None:
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, NOW_MS)

    with pytest.raises(InvalidSignature):
        _verify_hs(_hs_headers(signature, timestamp_ms=str(int(NOW_MS) + 1)))


def test_verify_hubspot_rejects_wrong_secret() -> None:
    headers = _hs_headers(_hubspot_vector("not-the-secret", "POST", HS_URL, HS_BODY, NOW_MS))

    with pytest.raises(InvalidSignature):
        _verify_hs(headers)


def test_verify_hubspot_accepts_previous_secret_during_rotation() -> None:
    headers = _hs_headers(_hubspot_vector("previous-secret", "POST", HS_URL, HS_BODY, NOW_MS))

    _verify_hs(headers, secrets=(HS_SECRET, "previous-secret"))


@pytest.mark.parametrize(
    "headers",
    [{HUBSPOT_TIMESTAMP_HEADER: NOW_MS}, {HUBSPOT_SIGNATURE_HEADER: "c2ln"}, {}],
    ids=["no-signature", "no-timestamp", "no-headers"],
)
def test_verify_hubspot_missing_header_is_missing_signature(headers: dict[str, str]) -> None:
    with pytest.raises(MissingSignature):
        _verify_hs(headers)


def test_verify_hubspot_rejects_timestamp_older_than_300_seconds() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_hs(_hs_signed_at(str(int(NOW_MS) - 301_000)))


def test_verify_hubspot_accepts_timestamp_just_inside_300_seconds() -> None:
    _verify_hs(_hs_signed_at(str(int(NOW_MS) - 299_000)))


def test_verify_hubspot_rejects_timestamp_too_far_in_future() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_hs(_hs_signed_at(str(int(NOW_MS) + 301_000)))


def test_verify_hubspot_rejects_non_digit_timestamp_even_when_signed() -> None:
    with pytest.raises(StaleTimestamp):
        _verify_hs(_hs_signed_at("2026-11-27T09:15:00Z"))


@pytest.mark.parametrize("escape", ["%3A", "%3a"])
def test_verify_hubspot_decodes_escapes_in_uri_path(escape: str) -> None:
    signed_uri = "https://hooks.example.test/webhooks/hubspot:app@v1"
    requested = f"https://hooks.example.test/webhooks/hubspot{escape}app%40v1"
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "POST", signed_uri, HS_BODY, NOW_MS))

    _verify_hs(headers, uri=requested)


def test_verify_hubspot_decodes_escapes_in_query_string_too() -> None:
    # HubSpot decodes the listed escapes in the whole URI, query string included, before signing.
    requested = f"{HS_URL}?portal=a%3Ab&x=%2F"
    decoded = f"{HS_URL}?portal=a:b&x=/"
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "POST", decoded, HS_BODY, NOW_MS))

    _verify_hs(headers, uri=requested)


def test_verify_hubspot_rejects_signature_over_undecoded_query_string() -> None:
    requested = f"{HS_URL}?portal=a%3Ab"
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "POST", requested, HS_BODY, NOW_MS))

    with pytest.raises(InvalidSignature):
        _verify_hs(headers, uri=requested)


def test_verify_hubspot_signature_covers_method() -> None:
    headers = _hs_headers(_hubspot_vector(HS_SECRET, "GET", HS_URL, HS_BODY, NOW_MS))

    with pytest.raises(InvalidSignature):
        _verify_hs(headers, method="POST")
