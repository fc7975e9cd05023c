"""Credentials for a pull: the environment, or the stack's Secrets Manager secret (moto)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from triage_tools.history.access import AccessError, SecretReadError, read_secret, resolve_access

SECRET_ID = "triage-gate/dev/vendor"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


def test_zendesk_basic_auth_is_email_slash_token() -> None:
    env = {"ZENDESK_BASE_URL": "https://acme.zendesk.com/", "ZENDESK_EMAIL": "ops@acme.test", "ZENDESK_API_TOKEN": "t"}

    access = resolve_access("zendesk", env)

    assert access.base_url == "https://acme.zendesk.com"
    assert access.headers["Authorization"] == "Basic " + base64.b64encode(b"ops@acme.test/token:t").decode()


def test_hubspot_defaults_its_base_url_and_uses_a_bearer_token() -> None:
    access = resolve_access("hubspot", {"HUBSPOT_ACCESS_TOKEN": "pat-1"})

    assert (access.base_url, access.headers) == ("https://api.hubapi.com", {"Authorization": "Bearer pat-1"})


def test_the_secrets_values_win_and_the_base_url_may_come_from_the_environment(secrets: None) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(Name=SECRET_ID, SecretString=json.dumps({"HUBSPOT_ACCESS_TOKEN": "from-secret"}))
    env = {"HUBSPOT_ACCESS_TOKEN": "from-env", "HUBSPOT_BASE_URL": "http://127.0.0.1:9"}

    access = resolve_access("hubspot", env, read_secret(SECRET_ID, env))

    assert (access.base_url, access.headers["Authorization"]) == ("http://127.0.0.1:9", "Bearer from-secret")


def test_a_secret_without_the_keys_names_what_is_missing(secrets: None) -> None:
    boto3.client("secretsmanager").create_secret(Name=SECRET_ID, SecretString=json.dumps({"SLACK_BOT_TOKEN": "x"}))

    with pytest.raises(
        AccessError, match="missing from the secret or the environment: ZENDESK_BASE_URL, ZENDESK_EMAIL"
    ):
        resolve_access("zendesk", {}, read_secret(SECRET_ID, {}))


def test_unreadable_secrets_are_runtime_errors(secrets: None) -> None:
    boto3.client("secretsmanager").create_secret(Name="not-json", SecretString="hello")

    with pytest.raises(SecretReadError, match="cannot read secret nope"):
        read_secret("nope", {})
    with pytest.raises(SecretReadError, match="is not JSON"):
        read_secret("not-json", {})
