"""Settings and secrets: read once, validated by pydantic, never from ``os.environ`` elsewhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Self

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


class EnvSettings(BaseModel):
    """The base of every function's settings: each field is read from the upper-cased environment variable
    of its name, once, when the function builds its service; a bad value is a ConfigurationError naming it."""

    model_config = ConfigDict(
        frozen=True, alias_generator=str.upper, populate_by_name=True, extra="ignore", defer_build=True
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        names = {name.upper() for name in cls.model_fields}
        try:
            return cls.model_validate({k: v for k, v in env.items() if k in names})
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(exc, prefix="environment")) from exc


class SecretLocation(EnvSettings):
    """Where the vendor secret lives (every function)."""

    # Secrets Manager id of the vendor secret; unset means "read secrets from the environment" (local runs).
    triage_secret_id: OptionalText = None
    secrets_max_age_seconds: int = Field(default=300, ge=0, le=3600)


class PolicyLocation(EnvSettings):
    # Unset: the policy.yaml shipped in the layer (what was reviewed).
    policy_path: OptionalText = None


class VendorApis(EnvSettings):
    zendesk_base_url: OptionalText = None  # unset: no context fetch, no write-back
    hubspot_base_url: OptionalText = "https://api.hubapi.com"


class IngestSettings(SecretLocation):
    """Environment of IngestFunction."""

    triage_queue_url: str = Field(min_length=1)
    dedupe_table_name: str = Field(min_length=1)
    zendesk_signature_max_age_seconds: int = Field(default=300, ge=1, le=86_400)
    hubspot_signature_max_age_seconds: int = Field(default=300, ge=1, le=86_400)
    # The exact URL HubSpot is configured to call, query string included (v3 signatures cover it). Unset: the
    # public base URL (set by the local runner), else API Gateway's own requestContext.domainName — never the
    # request's Host or X-Forwarded-* headers.
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


def describe_validation_error(exc: ValidationError, *, prefix: str) -> str:
    """One line per problem, naming the field the way the user wrote it."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{prefix} {where}: {err['msg']}")
    return "; ".join(lines)


class FlagsLocation(EnvSettings):
    """Where the rollout flags live: a local JSON file, or AppConfig (application, environment, profile).
    Neither: every workflow runs in its policy file mode."""

    flags_file: OptionalText = None
    appconfig_application: OptionalText = None
    appconfig_environment: OptionalText = None
    appconfig_profile: OptionalText = None
    flags_max_age_seconds: int = Field(default=30, ge=1, le=3600)


class TriageSettings(SecretLocation, PolicyLocation, VendorApis, FlagsLocation):
    """Environment of TriageFunction."""

    decisions_table_name: str = Field(min_length=1)
    control_table_name: str = Field(min_length=1)
    actions_queue_url: str = Field(min_length=1)
    exception_queue_url: str = Field(min_length=1)
    anthropic_base_url: OptionalText = None
    # A record is not started with less time left than this (it goes back to the queue instead).
    min_remaining_ms: int = Field(default=20_000, ge=0, le=600_000)


class WritebackSettings(SecretLocation, PolicyLocation, VendorApis):
    """Environment of WritebackFunction."""

    decisions_table_name: str = Field(min_length=1)
    actions_queue_url: str = Field(min_length=1)  # a rate-limited action goes back here for Retry-After


class SlackActionsSettings(SecretLocation):
    """Environment of SlackActionsFunction (inside Slack's 3-second ack: a conditional write, an enqueue)."""

    decisions_table_name: str = Field(min_length=1)
    exception_queue_url: str = Field(min_length=1)
    slack_signature_max_age_seconds: int = Field(default=300, ge=30, le=3600)


class SlackApi(EnvSettings):
    slack_api_url: OptionalText = "https://slack.com/api/"


class ReviewNotifySettings(SecretLocation, PolicyLocation, VendorApis, SlackApi):
    """Environment of ReviewNotifyFunction."""

    decisions_table_name: str = Field(min_length=1)
    exception_queue_url: str = Field(min_length=1)  # a Slack rate limit puts the record back here
    actions_queue_url: str = Field(min_length=1)  # reviewers' outcomes are applied through write-back
    # Where reviewer corrections are kept as few-shot examples (unset: not kept).
    control_table_name: OptionalText = None


class ReviewBacklogSettings(SecretLocation, PolicyLocation, SlackApi):
    """Environment of ReviewBacklogFunction."""

    decisions_table_name: str = Field(min_length=1)
    zendesk_base_url: OptionalText = None  # for links to the ticket in re-posted cases


class RoiDigestSettings(SecretLocation, PolicyLocation, SlackApi, FlagsLocation):
    """Environment of RoiDigestFunction (the rollout flags: the digest shows each segment's mode and what next)."""

    decisions_table_name: str = Field(min_length=1)


class VendorSecrets(BaseModel):
    """The one vendor secret (Secrets Manager JSON, or env vars of the same names locally)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ZENDESK_WEBHOOK_SECRET: SecretStr | None = None
    # Accepted alongside the current one while a signing secret is being rotated.
    ZENDESK_WEBHOOK_SECRET_PREVIOUS: SecretStr | None = None
    HUBSPOT_CLIENT_SECRET: SecretStr | None = None
    HUBSPOT_CLIENT_SECRET_PREVIOUS: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_SIGNING_SECRET_PREVIOUS: SecretStr | None = None
    SLACK_BOT_TOKEN: SecretStr | None = None
    ZENDESK_EMAIL: SecretStr | None = None
    ZENDESK_API_TOKEN: SecretStr | None = None
    HUBSPOT_ACCESS_TOKEN: SecretStr | None = None
    ANTHROPIC_API_KEY: SecretStr | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return _empty_is_none(value)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VendorSecrets:
        """Local runs and tests: the secret's keys as environment variables of the same names."""
        env = os.environ if environ is None else environ
        return cls.model_validate({k: env[k] for k in cls.model_fields if k in env})

    def signing_keys(self, current: str, previous: str) -> list[str]:
        """The secrets a signature may verify against, current first. Raises if none is set."""
        keys = [s.get_secret_value() for s in (getattr(self, current), getattr(self, previous)) if s]
        if not keys:
            raise ConfigurationError(f"secret key {current} is not set")
        return keys


SECRET_KEYS = tuple(VendorSecrets.model_fields)
