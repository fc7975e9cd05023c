"""Settings and secrets: read once, validated by pydantic, never from ``os.environ`` elsewhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from triage_gate.errors import ConfigurationError

ZENDESK_EVENT_PREFIX = "zen:event-type:"
_S = TypeVar("_S", bound=BaseModel)

# Ticket events worth classifying (new text) or watching (a human changed a field the system sets).
DEFAULT_ZENDESK_EVENT_TYPES = frozenset(
    {
        "ticket.created",
        "ticket.comment_added",
        "ticket.status_changed",
        "ticket.priority_changed",
        "ticket.tags_changed",
        "ticket.group_assignment_changed",
        "ticket.agent_assignment_changed",
        "ticket.custom_field_changed",
        "ticket.subject_changed",
        "ticket.description_changed",
        "ticket.form_changed",
        "ticket.type_changed",
        "ticket.brand_changed",
        # The two kinds the README's trigger bodies send.
        "ticket.updated",
    }
)
DEFAULT_HUBSPOT_EVENT_TYPES = frozenset({"ticket.creation", "ticket.propertyChange"})


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    return value


def _empty_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


EventTypes = Annotated[frozenset[str], BeforeValidator(_split_csv)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_is_none)]


class IngestSettings(BaseModel):
    """Environment of IngestFunction. Each field is read from the upper-cased env var of its name."""

    model_config = ConfigDict(frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore")

    triage_queue_url: str = Field(min_length=1)
    dedupe_table_name: str = Field(min_length=1)
    # Secrets Manager id of the vendor secret; unset means "read secrets from the environment".
    triage_secret_id: OptionalText = None
    secrets_max_age_seconds: int = Field(default=300, ge=0, le=3600)
    zendesk_signature_max_age_seconds: int = Field(default=300, ge=1, le=86_400)
    hubspot_signature_max_age_seconds: int = Field(default=300, ge=1, le=86_400)
    # The exact URL HubSpot is configured to call (v3 signatures cover it). Unset: the public base URL
    # (set by the local runner) + path + query, else https://{requestContext.domainName}{rawPath}?{query}
    # (API Gateway's own name for the request; never the Host / X-Forwarded-* headers).
    hubspot_webhook_url: OptionalText = None
    public_base_url: OptionalText = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=10_485_760)
    dedupe_ttl_seconds: int = Field(default=172_800, ge=3600, le=2_592_000)
    dedupe_lease_seconds: int = Field(default=20, ge=1, le=300)
    # Zendesk retries a 503 only when Retry-After is under 60 s.
    retry_after_seconds: int = Field(default=30, ge=1, le=59)
    max_text_chars: int = Field(default=32_768, ge=256, le=200_000)
    zendesk_event_types: EventTypes = DEFAULT_ZENDESK_EVENT_TYPES
    hubspot_event_types: EventTypes = DEFAULT_HUBSPOT_EVENT_TYPES

    @field_validator("zendesk_event_types")
    @classmethod
    def _zendesk_types_are_ticket_events(cls, value: frozenset[str]) -> frozenset[str]:
        value = frozenset(t.removeprefix(ZENDESK_EVENT_PREFIX) for t in value)
        bad = sorted(t for t in value if not t.startswith("ticket."))
        if bad:
            raise ValueError(f"only ticket.* event types can be handled, got {bad}")
        return value

    @field_validator("hubspot_event_types")
    @classmethod
    def _hubspot_types_are_ticket_events(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(t for t in value if not t.startswith("ticket."))
        if bad:
            raise ValueError(f"only ticket.* subscription types can be handled, got {bad}")
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IngestSettings:
        return _from_env(cls, environ)


def describe_validation_error(exc: ValidationError, *, prefix: str) -> str:
    """One line per problem, naming the field the way the user wrote it."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{prefix} {where}: {err['msg']}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    return IngestSettings.from_env()


class SecretSettings(BaseModel):
    """Where the vendor secret lives; shared by every function."""

    model_config = ConfigDict(frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore")

    triage_secret_id: OptionalText = None
    secrets_max_age_seconds: int = Field(default=300, ge=0, le=3600)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecretSettings:
        return _from_env(cls, environ)


class TriageSettings(BaseModel):
    """Environment of TriageFunction."""

    model_config = ConfigDict(frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore")

    decisions_table_name: str = Field(min_length=1)
    control_table_name: str = Field(min_length=1)
    actions_queue_url: str = Field(min_length=1)
    exception_queue_url: str = Field(min_length=1)
    # Unset: the policy.yaml shipped in the layer.
    policy_path: OptionalText = None
    zendesk_base_url: OptionalText = None
    hubspot_base_url: OptionalText = "https://api.hubapi.com"
    anthropic_base_url: OptionalText = None
    # A record is not started with less time left than this (it goes back to the queue instead).
    min_remaining_ms: int = Field(default=20_000, ge=0, le=600_000)
    # Rollout flags: a local JSON file, or AppConfig (application, environment, profile). Neither: policy modes.
    flags_file: OptionalText = None
    appconfig_application: OptionalText = None
    appconfig_environment: OptionalText = None
    appconfig_profile: OptionalText = None
    flags_max_age_seconds: int = Field(default=30, ge=1, le=3600)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TriageSettings:
        return _from_env(cls, environ)


@lru_cache(maxsize=1)
def triage_settings() -> TriageSettings:
    return TriageSettings.from_env()


class WritebackSettings(BaseModel):
    """Environment of WritebackFunction."""

    model_config = ConfigDict(frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore")

    decisions_table_name: str = Field(min_length=1)
    actions_queue_url: str = Field(min_length=1)
    policy_path: OptionalText = None
    zendesk_base_url: OptionalText = None
    hubspot_base_url: OptionalText = "https://api.hubapi.com"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WritebackSettings:
        return _from_env(cls, environ)


@lru_cache(maxsize=1)
def writeback_settings() -> WritebackSettings:
    return WritebackSettings.from_env()


class ReviewSettings(BaseModel):
    """Environment of SlackActionsFunction, ReviewNotifyFunction and ReviewBacklogFunction."""

    model_config = ConfigDict(frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore")

    decisions_table_name: str = Field(min_length=1)
    exception_queue_url: str = Field(min_length=1)
    actions_queue_url: OptionalText = None
    # Where reviewer corrections are kept as few-shot examples (unset: not kept).
    control_table_name: OptionalText = None
    slack_api_url: OptionalText = "https://slack.com/api/"
    slack_signature_max_age_seconds: int = Field(default=300, ge=30, le=3600)
    policy_path: OptionalText = None
    zendesk_base_url: OptionalText = None
    hubspot_base_url: OptionalText = "https://api.hubapi.com"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReviewSettings:
        return _from_env(cls, environ)


@lru_cache(maxsize=1)
def review_settings() -> ReviewSettings:
    return ReviewSettings.from_env()


def _from_env(model: type[_S], environ: Mapping[str, str] | None) -> _S:
    env = os.environ if environ is None else environ
    names = {name.upper() for name in model.model_fields}
    try:
        return model.model_validate({k: v for k, v in env.items() if k in names})
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc, prefix="environment")) from exc


class VendorSecrets(BaseModel):
    """The one vendor secret (Secrets Manager JSON, or env vars of the same names locally)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ZENDESK_WEBHOOK_SECRET: SecretStr | None = None
    # Accepted alongside the current one while a signing secret is being rotated.
    ZENDESK_WEBHOOK_SECRET_PREVIOUS: SecretStr | None = None
    HUBSPOT_CLIENT_SECRET: SecretStr | None = None
    HUBSPOT_CLIENT_SECRET_PREVIOUS: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_BOT_TOKEN: SecretStr | None = None
    ZENDESK_EMAIL: SecretStr | None = None
    ZENDESK_API_TOKEN: SecretStr | None = None
    HUBSPOT_ACCESS_TOKEN: SecretStr | None = None
    ANTHROPIC_API_KEY: SecretStr | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return _empty_is_none(value)

    def signing_keys(self, current: str, previous: str) -> list[str]:
        """The secrets a signature may verify against, current first. Raises if none is set."""
        keys = [s.get_secret_value() for s in (getattr(self, current), getattr(self, previous)) if s]
        if not keys:
            raise ConfigurationError(f"secret key {current} is not set")
        return keys


SECRET_KEYS = tuple(VendorSecrets.model_fields)
