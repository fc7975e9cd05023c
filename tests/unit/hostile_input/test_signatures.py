"""Signature checks never accept a changed body, timestamp, URI or secret, and refuse stale timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import HUBSPOT_URL
from tests.unit.hostile_input.strategies import PROPERTY
from triage_gate.errors import InvalidSignature, StaleTimestamp
from triage_gate.intake import signatures

# --------------------------------------------------------------------- signatures: any one change
ZENDESK_WINDOW = 300
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
secrets_text = st.text(min_size=1, max_size=40)
uris = st.builds(
    lambda path, query: f"https://hooks.example.test/{quote(path)}" + (f"?{urlencode({'q': query})}" if query else ""),
    st.text(max_size=20),
    st.text(max_size=10),
)


def _zendesk_headers(secret: str, body: bytes, ts: str) -> dict[str, str]:
    return {
        signatures.ZENDESK_SIGNATURE_HEADER: signatures.zendesk_signature(secret, ts, body),
        signatures.ZENDESK_TIMESTAMP_HEADER: ts,
    }


@PROPERTY
@given(
    body=st.binary(max_size=300),
    now=timestamps,
    secret=secrets_text,
    other=st.binary(max_size=300) | secrets_text | st.integers(-(10**6), 10**6),
    which=st.sampled_from(["body", "timestamp", "secret"]),
)
def test_zendesk_signature_never_accepts_a_changed_part(
    body: bytes, now: datetime, secret: str, other: Any, which: str
) -> None:
    ts = signatures.zendesk_timestamp(now)
    headers = _zendesk_headers(secret, body, ts)
    signatures.verify_zendesk(headers, body, [secret], now=now, max_age_seconds=ZENDESK_WINDOW)  # sanity
    verify_body, verify_secret = body, secret
    if which == "body":
        verify_body = other if isinstance(other, bytes) else body + b" "
    elif which == "secret":
        verify_secret = other if isinstance(other, str) else secret + "x"
    else:
        seconds = other if isinstance(other, int) else 1
        headers[signatures.ZENDESK_TIMESTAMP_HEADER] = signatures.zendesk_timestamp(
            now + timedelta(seconds=seconds or 1)
        )
    if (verify_body, verify_secret) == (body, secret) and which != "timestamp":
        return  # hypothesis drew the identical value: not a change
    with pytest.raises((InvalidSignature, StaleTimestamp)) as raised:
        signatures.verify_zendesk(headers, verify_body, [verify_secret], now=now, max_age_seconds=ZENDESK_WINDOW)
    assert raised.type is InvalidSignature  # a re-dated signature fails the MAC before the age is looked at


@PROPERTY
@given(
    body=st.binary(max_size=300),
    now=timestamps,
    secret=secrets_text,
    uri=uris,
    other=st.binary(max_size=300) | secrets_text | uris | st.integers(-(10**7), 10**7),
    which=st.sampled_from(["body", "timestamp", "secret", "uri"]),
)
def test_hubspot_signature_never_accepts_a_changed_part(
    body: bytes, now: datetime, secret: str, uri: str, other: Any, which: str
) -> None:
    headers = {k.lower(): v for k, v in signatures.signed_hubspot_headers(secret, uri, body, now).items()}
    kwargs = {"method": "POST", "now": now, "max_age_seconds": 300}
    signatures.verify_hubspot_v3(headers, body, [secret], uri=uri, **kwargs)  # sanity
    verify_body, verify_secret, verify_uri = body, secret, uri
    if which == "body":
        verify_body = other if isinstance(other, bytes) else body + b" "
    elif which == "secret":
        verify_secret = other if isinstance(other, str) and not other.startswith("https://") else secret + "x"
    elif which == "uri":
        verify_uri = other if isinstance(other, str) and other.startswith("https://") else uri + "x"
        if signatures.canonical_hubspot_uri(verify_uri) == signatures.canonical_hubspot_uri(uri):
            return  # the same URI as HubSpot signs it (percent-escapes HubSpot decodes): not a change
    else:
        delta = other if isinstance(other, int) and other else 1
        ts = int(headers[signatures.HUBSPOT_TIMESTAMP_HEADER]) + delta
        headers[signatures.HUBSPOT_TIMESTAMP_HEADER] = str(ts)
    if (verify_body, verify_secret, verify_uri) == (body, secret, uri) and which != "timestamp":
        return
    with pytest.raises(InvalidSignature):
        signatures.verify_hubspot_v3(headers, verify_body, [verify_secret], uri=verify_uri, **kwargs)


@PROPERTY
@given(now=timestamps, age=st.integers(ZENDESK_WINDOW + 1, 10**8), sign=st.sampled_from([1, -1]))
def test_validly_signed_timestamp_outside_the_window_is_stale(now: datetime, age: int, sign: int) -> None:
    signed_at = now - timedelta(seconds=age * sign)
    headers = _zendesk_headers("s", b"{}", signatures.zendesk_timestamp(signed_at))
    with pytest.raises(StaleTimestamp):
        signatures.verify_zendesk(headers, b"{}", ["s"], now=now, max_age_seconds=ZENDESK_WINDOW)
    hs = {k.lower(): v for k, v in signatures.signed_hubspot_headers("s", HUBSPOT_URL, b"{}", signed_at).items()}
    with pytest.raises(StaleTimestamp):
        signatures.verify_hubspot_v3(
            hs, b"{}", ["s"], method="POST", uri=HUBSPOT_URL, now=now, max_age_seconds=ZENDESK_WINDOW
        )
