"""The vendor calls' TLS: one verified context per process, and none loaded for plain-HTTP sandboxes."""

from __future__ import annotations

import ssl

from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.adapters.tls import context_for, verified_context
from triage_gate.config import VendorSecrets


def test_https_urls_share_one_verified_context() -> None:
    context = context_for("https://slack.com/api/")

    assert context is verified_context() is context_for("HTTPS://example.zendesk.com")
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_a_plain_http_url_gets_a_context_that_trusts_nothing() -> None:
    context = context_for("http://127.0.0.1:8080/api/")

    assert context is not verified_context()
    assert context.verify_mode == ssl.CERT_REQUIRED  # were it ever used for TLS, every certificate is refused
    assert context.get_ca_certs() == []


def test_the_slack_client_hands_slack_sdk_the_context_for_its_url() -> None:
    secrets = EnvironmentSecrets(VendorSecrets.from_mapping({"SLACK_BOT_TOKEN": "xoxb-test"}))

    deployed = SlackWebClient(secrets, api_url="https://slack.com/api/")._web_client()
    local = SlackWebClient(secrets, api_url="http://127.0.0.1:9/api/")._web_client()

    assert deployed.ssl is verified_context()
    assert local.ssl is not None
    assert local.ssl.get_ca_certs() == []
