"""The vendor calls' TLS: one verified context per process, and none loaded for plain-HTTP sandboxes."""

from __future__ import annotations

import ssl

from triage_gate.adapters.tls import needs_tls, verified_context


def test_one_verified_context_per_process() -> None:
    context = verified_context()

    assert context is verified_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_only_https_urls_need_tls() -> None:
    assert needs_tls("https://slack.com/api/")
    assert needs_tls("HTTPS://example.zendesk.com")
    assert not needs_tls("http://127.0.0.1:8080/api/")
