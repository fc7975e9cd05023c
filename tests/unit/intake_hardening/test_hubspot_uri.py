"""HubSpot v3: escapes decoded in the whole URI; without a configured URL, the URL checked is API
Gateway's own (requestContext.domainName), never the Host / X-Forwarded-* headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import HUBSPOT_SECRET, load_event, make_settings
from tests.unit.intake_hardening.conftest import (
    BATCH,
    GATEWAY_DOMAIN,
    HS_CHANGE_KEY,
    HS_CREATION_KEY,
    Wire,
    _call,
    _hubspot,
    _in_memory_service,
    _request,
)
from triage_gate.errors import InvalidSignature
from triage_gate.intake import signatures

# ================================================================ 4. HubSpot v3 request URI =========

TOKEN_URL = "https://x.test/webhooks/hubspot?token=abc%3Adef"


def _hubspot_signed_as_hubspot_does(event: dict[str, Any], decoded_uri: str) -> dict[str, Any]:
    """HubSpot's rule, written out: HMAC over method + the URI with its escapes decoded + body + ms."""
    ts = str(int(datetime.now(UTC).timestamp() * 1000))
    message = b"POST" + decoded_uri.encode() + event["body"].encode("utf-8") + ts.encode()
    signature = base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), message, hashlib.sha256).digest()).decode()
    event["headers"].update({"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": ts})
    return event


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        (TOKEN_URL, "https://x.test/webhooks/hubspot?token=abc:def"),
        ("https://x.test/webhooks/hubspot?token=abc%3adef", "https://x.test/webhooks/hubspot?token=abc:def"),
        (
            "https://x.test/a%2Fb%40c?q=%21%24%27%28%29%2a%2C%3B%3F%2f&keep=%25%20%3D",
            "https://x.test/a/b@c?q=!$'()*,;?/&keep=%25%20%3D",
        ),
        ("https://x.test/%253A", "https://x.test/%253A"),  # decoded once: %25 is not in HubSpot's list
    ],
)
def test_canonical_hubspot_uri_decodes_the_listed_escapes_in_the_whole_uri(uri: str, canonical: str) -> None:
    assert signatures.canonical_hubspot_uri(uri) == canonical


def test_service_verifies_a_batch_signed_for_a_target_url_with_an_escaped_query() -> None:
    service, dedupe, queue = _in_memory_service(make_settings(hubspot_webhook_url=TOKEN_URL))
    event = _hubspot_signed_as_hubspot_does(load_event(BATCH), "https://x.test/webhooks/hubspot?token=abc:def")

    result = service.handle_hubspot(_request(event))

    assert result.count("accepted") == 2
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY, HS_CHANGE_KEY]
    assert set(dedupe.items) == {HS_CREATION_KEY, HS_CHANGE_KEY}


def test_handler_verifies_a_batch_signed_for_a_target_url_with_an_escaped_query(wire: Wire) -> None:
    wired = wire(make_settings(hubspot_webhook_url=TOKEN_URL))
    event = _hubspot_signed_as_hubspot_does(load_event(BATCH), "https://x.test/webhooks/hubspot?token=abc:def")

    status, answer, _ = _call(wired, event)

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]


def _spoofed_host_event(query: str = "a=1") -> dict[str, Any]:
    event = load_event(BATCH)
    event["rawQueryString"] = query
    event["headers"].update({"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"})
    assert event["requestContext"]["domainName"] == GATEWAY_DOMAIN
    return event


def test_without_a_configured_url_the_gateway_domain_url_is_checked_not_the_host_header(wire: Wire) -> None:
    wired = wire(make_settings(hubspot_webhook_url=None, public_base_url=None))
    gateway_url = f"https://{GATEWAY_DOMAIN}/webhooks/hubspot?a=1"

    status, answer, _ = _call(wired, _hubspot_signed_as_hubspot_does(_spoofed_host_event(), gateway_url))

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]


@pytest.mark.parametrize(
    "host_url", ["http://evil.example/webhooks/hubspot?a=1", "https://evil.example/webhooks/hubspot?a=1"]
)
def test_signature_for_the_host_header_url_is_refused(wire: Wire, host_url: str) -> None:
    wired = wire(make_settings(hubspot_webhook_url=None, public_base_url=None))

    status, answer, _ = _call(wired, _hubspot_signed_as_hubspot_does(_spoofed_host_event(), host_url))

    assert (status, answer["error"]) == (401, "invalid_signature")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_service_checks_https_gateway_domain_url_even_when_forwarded_proto_says_http() -> None:
    service, _, _ = _in_memory_service(make_settings(hubspot_webhook_url=None, public_base_url=None))
    request = _request(_spoofed_host_event("a=1&b=%3A"))

    assert service.hubspot_uri(request) == f"https://{GATEWAY_DOMAIN}/webhooks/hubspot?a=1&b=%3A"
    with pytest.raises(InvalidSignature):
        service.handle_hubspot(
            _request(_hubspot_signed_as_hubspot_does(_spoofed_host_event(), "http://evil.example/webhooks/hubspot?a=1"))
        )


def test_without_a_configured_url_nor_a_gateway_domain_it_is_503_misconfigured(wire: Wire) -> None:
    wired = wire(make_settings(hubspot_webhook_url=None, public_base_url=None))
    event = _hubspot()
    del event["requestContext"]["domainName"]

    status, answer, _ = _call(wired, event)

    assert (status, answer["error"]) == (503, "misconfigured")
