"""IngestSettings from the environment, and VendorSecrets."""

from __future__ import annotations

import pytest

from triage_gate.config import (
    DEFAULT_HUBSPOT_EVENT_TYPES,
    DEFAULT_ZENDESK_EVENT_TYPES,
    IngestSettings,
    VendorSecrets,
)
from triage_gate.errors import ConfigurationError

REQUIRED = {"TRIAGE_QUEUE_URL": "https://sqs.example/queue", "DEDUPE_TABLE_NAME": "dedupe"}


def _from_env(**env: str) -> IngestSettings:
    return IngestSettings.from_env({**REQUIRED, **env})


def _error_for(**env: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        _from_env(**env)
    return str(caught.value)


# --- IngestSettings ------------------------------------------------------------------------------


def test_from_env_reads_required_values() -> None:
    settings = _from_env()

    assert settings.triage_queue_url == "https://sqs.example/queue"
    assert settings.dedupe_table_name == "dedupe"


def test_from_env_defaults() -> None:
    settings = _from_env()

    assert settings.retry_after_seconds == 30
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_text_chars == 32_768
    assert settings.zendesk_signature_max_age_seconds == 300
    assert settings.hubspot_signature_max_age_seconds == 300
    assert (settings.dedupe_ttl_seconds, settings.dedupe_lease_seconds) == (172_800, 20)
    assert (settings.triage_secret_id, settings.hubspot_webhook_url, settings.public_base_url) == (None,) * 3


def test_from_env_default_event_types() -> None:
    settings = _from_env()

    assert settings.zendesk_event_types == DEFAULT_ZENDESK_EVENT_TYPES
    assert settings.hubspot_event_types == DEFAULT_HUBSPOT_EVENT_TYPES


def test_from_env_reads_upper_case_names_and_converts_numbers() -> None:
    settings = _from_env(MAX_TEXT_CHARS="1000", RETRY_AFTER_SECONDS="15")

    assert (settings.max_text_chars, settings.retry_after_seconds) == (1000, 15)


def test_from_env_ignores_unrelated_and_lower_case_variables() -> None:
    settings = _from_env(retry_after_seconds="90", PATH="/usr/bin")

    assert settings.retry_after_seconds == 30


def test_comma_separated_event_types_are_split_and_trimmed() -> None:
    settings = _from_env(
        ZENDESK_EVENT_TYPES=" ticket.created, ticket.comment_added ,,", HUBSPOT_EVENT_TYPES="ticket.creation"
    )

    assert settings.zendesk_event_types == {"ticket.created", "ticket.comment_added"}
    assert settings.hubspot_event_types == {"ticket.creation"}


def test_zendesk_event_type_prefix_is_stripped() -> None:
    settings = _from_env(ZENDESK_EVENT_TYPES="zen:event-type:ticket.created,ticket.status_changed")

    assert settings.zendesk_event_types == {"ticket.created", "ticket.status_changed"}


def test_non_ticket_zendesk_event_type_is_rejected_naming_the_variable() -> None:
    message = _error_for(ZENDESK_EVENT_TYPES="ticket.created,zen:event-type:user.created")

    assert "ZENDESK_EVENT_TYPES" in message
    assert "user.created" in message


def test_non_ticket_hubspot_event_type_is_rejected_naming_the_variable() -> None:
    message = _error_for(HUBSPOT_EVENT_TYPES="ticket.creation,contact.creation")

    assert "HUBSPOT_EVENT_TYPES" in message
    assert "contact.creation" in message


@pytest.mark.parametrize("seconds", ["60", "90"])
def test_retry_after_of_60_seconds_or_more_is_rejected(seconds: str) -> None:
    # Zendesk only retries a 503 whose Retry-After is under 60 s.
    assert "RETRY_AFTER_SECONDS" in _error_for(RETRY_AFTER_SECONDS=seconds)


def test_retry_after_of_59_seconds_is_accepted() -> None:
    assert _from_env(RETRY_AFTER_SECONDS="59").retry_after_seconds == 59


def test_max_body_bytes_too_small_is_rejected() -> None:
    assert "MAX_BODY_BYTES" in _error_for(MAX_BODY_BYTES="100")


def test_non_numeric_value_is_rejected_naming_the_variable() -> None:
    assert "MAX_BODY_BYTES" in _error_for(MAX_BODY_BYTES="1MB")


def test_missing_required_variables_are_all_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        IngestSettings.from_env({})

    assert "TRIAGE_QUEUE_URL" in str(caught.value)
    assert "DEDUPE_TABLE_NAME" in str(caught.value)


def test_empty_required_variable_is_rejected() -> None:
    assert "TRIAGE_QUEUE_URL" in _error_for(TRIAGE_QUEUE_URL="")


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_optional_values_are_unset(blank: str) -> None:
    settings = _from_env(HUBSPOT_WEBHOOK_URL=blank, TRIAGE_SECRET_ID=blank, PUBLIC_BASE_URL=blank)

    assert (settings.hubspot_webhook_url, settings.triage_secret_id, settings.public_base_url) == (None,) * 3


def test_ingest_settings_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_QUEUE_URL", "https://sqs.example/from-env")
    monkeypatch.setenv("DEDUPE_TABLE_NAME", "dedupe")

    assert IngestSettings.from_env().triage_queue_url == "https://sqs.example/from-env"


# --- VendorSecrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_secret_is_unset(blank: str) -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": blank})

    assert secrets.ZENDESK_WEBHOOK_SECRET is None


def test_signing_keys_lists_current_then_previous() -> None:
    secrets = VendorSecrets.from_mapping(
        {"HUBSPOT_CLIENT_SECRET": "current", "HUBSPOT_CLIENT_SECRET_PREVIOUS": "previous"}
    )

    assert secrets.signing_keys("HUBSPOT_CLIENT_SECRET", "HUBSPOT_CLIENT_SECRET_PREVIOUS") == [
        "current",
        "previous",
    ]


def test_signing_keys_without_previous_is_current_only() -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": "current"})

    assert secrets.signing_keys("ZENDESK_WEBHOOK_SECRET", "ZENDESK_WEBHOOK_SECRET_PREVIOUS") == ["current"]


def test_signing_keys_with_blank_current_skips_it() -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": "", "ZENDESK_WEBHOOK_SECRET_PREVIOUS": "previous"})

    assert secrets.signing_keys("ZENDESK_WEBHOOK_SECRET", "ZENDESK_WEBHOOK_SECRET_PREVIOUS") == ["previous"]


def test_signing_keys_with_nothing_set_raises_naming_the_key() -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": "zd-only"})

    with pytest.raises(ConfigurationError, match="HUBSPOT_CLIENT_SECRET"):
        secrets.signing_keys("HUBSPOT_CLIENT_SECRET", "HUBSPOT_CLIENT_SECRET_PREVIOUS")


def test_secret_values_are_hidden_from_repr() -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": "super-secret-value"})

    assert "super-secret-value" not in repr(secrets)
    assert "super-secret-value" not in str(secrets)


def test_unknown_secret_keys_are_ignored() -> None:
    secrets = VendorSecrets.from_mapping({"ZENDESK_WEBHOOK_SECRET": "s", "SOMETHING_ELSE": "x"})

    assert secrets.signing_keys("ZENDESK_WEBHOOK_SECRET", "ZENDESK_WEBHOOK_SECRET_PREVIOUS") == ["s"]


# --- one settings model per function ---------------------------------------------------------------


def test_every_function_reads_its_own_settings_and_names_the_missing_variable() -> None:
    from triage_gate import config

    models = [config.TriageSettings, config.WritebackSettings, config.SlackActionsSettings,
              config.ReviewNotifySettings, config.ReviewBacklogSettings, config.RoiDigestSettings]  # fmt: skip
    for model in models:
        with pytest.raises(ConfigurationError, match=r"DECISIONS_TABLE_NAME|decisions_table_name"):
            model.from_env({})


def test_vendor_secrets_from_the_environment_take_only_the_secrets_keys() -> None:
    secrets = VendorSecrets.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_SIGNING_SECRET_PREVIOUS": "p", "PATH": "/"})

    assert secrets.signing_keys("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_PREVIOUS") == ["s", "p"]


# --- vendor API bases ------------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["SLACK_API_URL", "ZENDESK_BASE_URL", "HUBSPOT_BASE_URL"])
@pytest.mark.parametrize("value", ["slack.com/api/", "ftp://slack.com/api/", "https://", "https://slack.com/a b"])
def test_a_vendor_url_that_is_not_http_is_refused_naming_the_variable(variable: str, value: str) -> None:
    """urllib3 would take a URL without a scheme as plain http: the token would travel in the clear."""
    from triage_gate.config import ReviewNotifySettings

    required = dict.fromkeys(ReviewNotifySettings.required_variables(), "x")
    with pytest.raises(ConfigurationError) as caught:
        ReviewNotifySettings.from_env({**required, variable: value})

    assert str(caught.value) == f"environment {variable}: expected an http:// or https:// URL with a host and no spaces"


def test_vendor_urls_over_http_or_https_are_taken_and_blank_is_unset() -> None:
    from triage_gate.config import ReviewNotifySettings

    required = dict.fromkeys(ReviewNotifySettings.required_variables(), "x")
    settings = ReviewNotifySettings.from_env(
        {**required, "SLACK_API_URL": "http://127.0.0.1:9/api/", "ZENDESK_BASE_URL": "https://acme.zendesk.com",
         "HUBSPOT_BASE_URL": " "}
    )  # fmt: skip

    assert (settings.slack_api_url, settings.zendesk_base_url) == (
        "http://127.0.0.1:9/api/",
        "https://acme.zendesk.com",
    )
    assert settings.hubspot_base_url is None


def test_the_anthropic_base_url_is_checked_too() -> None:
    from triage_gate.config import TriageSettings

    required = dict.fromkeys(TriageSettings.required_variables(), "x")
    with pytest.raises(ConfigurationError, match=r"^environment ANTHROPIC_BASE_URL: expected an http"):
        TriageSettings.from_env({**required, "ANTHROPIC_BASE_URL": "api.anthropic.com"})
