"""Settings and secrets: read once, validated, never from ``os.environ`` elsewhere."""

import os
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Self

import msgspec
from msgspec import Meta

from triage_gate.errors import ConfigurationError
from triage_gate.records import error_location

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


def _split_csv(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


EventTypes = frozenset[str]  # from the environment: comma-separated
OptionalText = str | None  # from the environment: blank is unset


class EnvSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The base of every function's settings: each field is read from the upper-cased environment variable
    of its name, once, when the function builds its service; a bad value is a ConfigurationError naming it.

    Frozen msgspec Structs (types and ``Meta`` constraints; numbers and booleans parsed from their text). A
    blank variable is unset; a ``frozenset`` field is a comma-separated list. Structs inherit in a line, so
    the groups below form a tree (each function's settings add to one branch); a group two branches need
    (the vendor APIs, Slack's) repeats its one or two fields there."""

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Environment variable name → the field it sets."""
        return {name.upper(): name for name in cls.__struct_fields__}

    @classmethod
    def required_variables(cls) -> frozenset[str]:
        return frozenset(f.name.upper() for f in msgspec.structs.fields(cls) if f.required)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        lists = _list_fields(cls)
        data: dict[str, Any] = {}
        for variable, name in cls.variables().items():
            if variable not in env:
                continue
            raw = env[variable]
            data[name] = None if not raw.strip() else _split_csv(raw) if name in lists else raw
        unset = sorted(cls.required_variables() - {name.upper() for name in data})
        if unset:
            raise ConfigurationError("; ".join(f"environment {variable}: required, and not set" for variable in unset))
        try:
            settings: Self = msgspec.convert(data, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigurationError(_env_error(exc, data, cls)) from exc
        return settings


def _env_error(exc: msgspec.ValidationError, data: dict[str, Any], cls: type) -> str:
    where, message = error_location(exc, data, cls)
    for pattern, meaning in _PATTERN_MEANINGS.items():
        message = message.replace(f"Expected `str` matching regex {pattern!r}", f"expected {meaning}")
    return f"environment {where.upper()}: {message}" if where else f"environment {message}"


def _list_fields(cls: type[EnvSettings]) -> frozenset[str]:
    """The fields read as comma-separated lists (their type is a frozenset)."""
    return frozenset(f.name for f in msgspec.structs.fields(cls) if typing.get_origin(f.type) is frozenset)


def _ticket_types(variable: str, value: frozenset[str], what: str) -> None:
    bad = sorted(t for t in value if not t.startswith("ticket."))
    if bad:
        raise ValueError(f"{variable}: only ticket.* {what} can be handled, got {bad}")


HUBSPOT_API_URL = "https://api.hubapi.com"
SLACK_API_URL = "https://slack.com/api/"
# A vendor API base: http(s) only (urllib3 would take a URL without a scheme as plain http and send the
# credentials in the clear); no blanks. Blank is unset, like every other setting.
VENDOR_URL_PATTERN = r"^https?://[^\s/?#]+[^\s]*\Z"
VendorUrl = Annotated[str, Meta(pattern=VENDOR_URL_PATTERN)] | None
_PATTERN_MEANINGS = {VENDOR_URL_PATTERN: "an http:// or https:// URL with a host and no spaces"}
ZendeskApi = VendorUrl  # unset: no context fetch, no write-back, no ticket links
HubSpotApi = VendorUrl
SlackApiUrl = VendorUrl


class SecretLocation(EnvSettings, frozen=True, kw_only=True):
    """Where the vendor secret lives (every function)."""

    # Secrets Manager id of the vendor secret; unset means "read secrets from the environment" (local runs).
    triage_secret_id: OptionalText = None
    secrets_max_age_seconds: Annotated[int, Meta(ge=0, le=3600)] = 300


class IngestSettings(SecretLocation, frozen=True, kw_only=True):
    """Environment of IngestFunction."""

    triage_queue_url: Annotated[str, Meta(min_length=1)]
    dedupe_table_name: Annotated[str, Meta(min_length=1)]
    zendesk_signature_max_age_seconds: Annotated[int, Meta(ge=1, le=86_400)] = 300
    hubspot_signature_max_age_seconds: Annotated[int, Meta(ge=1, le=86_400)] = 300
    # The exact URL HubSpot is configured to call, query string included (v3 signatures cover it). Unset: the
    # public base URL (set by the local runner), else API Gateway's own requestContext.domainName — never the
    # request's Host or X-Forwarded-* headers.
    hubspot_webhook_url: OptionalText = None
    public_base_url: OptionalText = None
    max_body_bytes: Annotated[int, Meta(ge=1024, le=10_485_760)] = 1_048_576
    dedupe_ttl_seconds: Annotated[int, Meta(ge=3600, le=2_592_000)] = 172_800
    dedupe_lease_seconds: Annotated[int, Meta(ge=1, le=300)] = 20
    # Zendesk retries a 503 only when Retry-After is under 60 s.
    retry_after_seconds: Annotated[int, Meta(ge=1, le=59)] = 30
    max_text_chars: Annotated[int, Meta(ge=256, le=200_000)] = 32_768
    zendesk_event_types: EventTypes = DEFAULT_ZENDESK_EVENT_TYPES
    hubspot_event_types: EventTypes = DEFAULT_HUBSPOT_EVENT_TYPES

    def __post_init__(self) -> None:
        # Zendesk names them zen:event-type:ticket.created; ticket.created is accepted too.
        zendesk = frozenset(t.removeprefix(ZENDESK_EVENT_PREFIX) for t in self.zendesk_event_types)
        msgspec.structs.force_setattr(self, "zendesk_event_types", zendesk)
        _ticket_types("ZENDESK_EVENT_TYPES", zendesk, "event types")
        _ticket_types("HUBSPOT_EVENT_TYPES", self.hubspot_event_types, "subscription types")


class SlackActionsSettings(SecretLocation, frozen=True, kw_only=True):
    """Environment of SlackActionsFunction (inside Slack's 3-second ack: a conditional write, an enqueue)."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    exception_queue_url: Annotated[str, Meta(min_length=1)]
    slack_signature_max_age_seconds: Annotated[int, Meta(ge=30, le=3600)] = 300


class PolicyLocation(SecretLocation, frozen=True, kw_only=True):
    # Unset: the policy.yaml shipped in the layer (what was reviewed).
    policy_path: OptionalText = None


class FlagsLocation(PolicyLocation, frozen=True, kw_only=True):
    """Where the rollout flags live: a local JSON file, or AppConfig (application, environment, profile).
    Neither: every workflow runs in its policy file mode."""

    flags_file: OptionalText = None
    appconfig_application: OptionalText = None
    appconfig_environment: OptionalText = None
    appconfig_profile: OptionalText = None
    flags_max_age_seconds: Annotated[int, Meta(ge=1, le=3600)] = 30


class TriageSettings(FlagsLocation, frozen=True, kw_only=True):
    """Environment of TriageFunction."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    control_table_name: Annotated[str, Meta(min_length=1)]
    actions_queue_url: Annotated[str, Meta(min_length=1)]
    exception_queue_url: Annotated[str, Meta(min_length=1)]
    zendesk_base_url: ZendeskApi = None
    hubspot_base_url: HubSpotApi = HUBSPOT_API_URL
    anthropic_base_url: VendorUrl = None
    # A record is not started with less time left than this (it goes back to the queue instead).
    min_remaining_ms: Annotated[int, Meta(ge=0, le=600_000)] = 20_000


class RoiDigestSettings(FlagsLocation, frozen=True, kw_only=True):
    """Environment of RoiDigestFunction (the rollout flags: the digest shows each segment's mode and what next)."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    slack_api_url: SlackApiUrl = SLACK_API_URL


class VendorApis(PolicyLocation, frozen=True, kw_only=True):
    zendesk_base_url: ZendeskApi = None
    hubspot_base_url: HubSpotApi = HUBSPOT_API_URL


class WritebackSettings(VendorApis, frozen=True, kw_only=True):
    """Environment of WritebackFunction."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    actions_queue_url: Annotated[str, Meta(min_length=1)]  # a rate-limited action goes back here for Retry-After


class ReviewNotifySettings(VendorApis, frozen=True, kw_only=True):
    """Environment of ReviewNotifyFunction."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    exception_queue_url: Annotated[str, Meta(min_length=1)]  # a Slack rate limit puts the record back here
    actions_queue_url: Annotated[str, Meta(min_length=1)]  # reviewers' outcomes are applied through write-back
    # Where reviewer corrections are kept as few-shot examples (unset: not kept).
    control_table_name: OptionalText = None
    slack_api_url: SlackApiUrl = SLACK_API_URL


class ReviewBacklogSettings(PolicyLocation, frozen=True, kw_only=True):
    """Environment of ReviewBacklogFunction."""

    decisions_table_name: Annotated[str, Meta(min_length=1)]
    zendesk_base_url: ZendeskApi = None  # for links to the ticket in re-posted cases
    slack_api_url: SlackApiUrl = SLACK_API_URL


class Secret:
    """A secret value: never shown by repr, str, a log line or an error message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class VendorSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """The one vendor secret (Secrets Manager JSON, or env vars of the same names locally). Each value is a
    ``Secret``; a blank one is unset; keys it does not know are ignored."""

    ZENDESK_WEBHOOK_SECRET: Secret | None = None
    # Accepted alongside the current one while a signing secret is being rotated.
    ZENDESK_WEBHOOK_SECRET_PREVIOUS: Secret | None = None
    HUBSPOT_CLIENT_SECRET: Secret | None = None
    HUBSPOT_CLIENT_SECRET_PREVIOUS: Secret | None = None
    SLACK_SIGNING_SECRET: Secret | None = None
    SLACK_SIGNING_SECRET_PREVIOUS: Secret | None = None
    SLACK_BOT_TOKEN: Secret | None = None
    ZENDESK_EMAIL: Secret | None = None
    ZENDESK_API_TOKEN: Secret | None = None
    HUBSPOT_ACCESS_TOKEN: Secret | None = None
    ANTHROPIC_API_KEY: Secret | None = None

    def __post_init__(self) -> None:
        for key in SECRET_KEYS:
            value = getattr(self, key)
            if isinstance(value, str):
                msgspec.structs.force_setattr(self, key, Secret(value) if value.strip() else None)
            elif value is not None and not isinstance(value, Secret):
                # The message names the key, never the value.
                raise ValueError(f"{key} must be a string, not {type(value).__name__}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """The secret's JSON object (or the environment): ValueError naming a key whose value is not text."""
        return cls(**{key: values[key] for key in SECRET_KEYS if key in values})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Local runs and tests: the secret's keys as environment variables of the same names."""
        return cls.from_mapping(os.environ if environ is None else environ)

    def signing_keys(self, current: str, previous: str) -> list[str]:
        """The secrets a signature may verify against, current first. Raises if none is set."""
        keys = [s.get_secret_value() for s in (getattr(self, current), getattr(self, previous)) if s]
        if not keys:
            raise ConfigurationError(f"secret key {current} is not set")
        return keys


SECRET_KEYS: tuple[str, ...] = VendorSecrets.__struct_fields__
