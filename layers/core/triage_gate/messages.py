"""The queue contracts: the body of every message on our own queues, in one place.

TriageQueue carries `TicketEvent`; ActionsQueue carries `DecisionMessage`; ExceptionQueue carries
`DecisionMessage` (a new review case) or `ReviewJob` (a reviewer's click), told apart by `kind` through a
its `kind` (`parse_exception_message`). Versioned: old bodies (before `kind` existed) keep parsing;
`events/` holds a sample of each and contract tests parse them.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from triage_gate.records import FrozenRecord, decode_json

Source = Literal["zendesk", "hubspot"]
FieldValue = str | int | float | bool | list[str] | None
# SQS refuses a message whose body plus attributes exceed 256 KiB (intake checks before claiming).
MAX_QUEUE_MESSAGE_BYTES = 256 * 1024
AwareDatetime = Annotated[datetime, Meta(tz=True)]
TicketId = Annotated[str, Meta(pattern=r"^[0-9]{1,20}\Z")]
NonEmpty = Annotated[str, Meta(min_length=1)]


class TicketEvent(FrozenRecord, frozen=True, kw_only=True):
    """One vendor event about one ticket, as IngestFunction puts it on TriageQueue."""

    schema_version: Literal[1] = 1
    kind: Literal["ticket_event"] = "ticket_event"
    source: Source
    account_id: NonEmpty
    # Vendor ticket ids are numeric and end up in vendor API URLs: ASCII digits only (intake checks too).
    ticket_id: TicketId
    # Normalised across vendors: ticket.created, ticket.comment_added, ticket.property_changed, ...
    event_type: NonEmpty
    # Exactly what the vendor called it: zen:event-type:ticket.created, ticket.propertyChange, ...
    vendor_event_type: NonEmpty
    event_id: NonEmpty
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    # Same key for every redelivery of this event; what intake and triage deduplicate on.
    dedupe_key: Annotated[str, Meta(min_length=1, max_length=1024)]
    subject: str | None = None
    text: str | None = None
    text_truncated: bool = False
    fields: dict[str, FieldValue] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    delivery: dict[str, str] = field(default_factory=dict)

    @property
    def correlation_id(self) -> str:
        return f"{self.source}:{self.ticket_id}"

    def queue_body(self) -> str:
        """The TriageQueue message body, exactly as SqsEventQueue sends it."""
        return self.to_json()


def utc_from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


Mode = Literal["off", "shadow", "assist", "auto"]
Authority = Literal["model", "reviewer"]
Verdict = Literal["approve", "correct", "escalate"]


class TicketSnapshot(FrozenRecord, frozen=True, kw_only=True):
    """The ticket as the decision read it: write-back is made conditional on it (never undo a human)."""

    # Zendesk `updated_at` / HubSpot `hs_lastmodifieddate` as read; Zendesk's `updated_stamp` for safe_update.
    updated_at: str | None = None
    created_at: str | None = None


class DecisionSignals(FrozenRecord, frozen=True, kw_only=True):
    """The signals answered beside the decision (write-back tags them and puts them in the note)."""

    sentiment: Literal["negative", "neutral", "positive"] | None = None
    urgent: bool | None = None


class DecisionMessage(FrozenRecord, frozen=True, kw_only=True):
    """ActionsQueue (apply) and ExceptionQueue (a new review case): one decision, by its id."""

    schema_version: Literal[1] = 1
    kind: Literal["decision"] = "decision"
    decision_id: str
    correlation_id: str
    workflow: str
    source: str
    account_id: str
    ticket_id: TicketId
    action: Literal["apply", "review"]
    mode: Mode
    labels: dict[str, str | None]
    confidence: dict[str, float | None]
    reason_codes: list[str]
    policy_version: str
    decided_at: datetime
    # The ticket as read when the decision (or the reviewer's click) was made: the write is conditional on it.
    snapshot: TicketSnapshot | None = None
    # "reviewer": a person told us to write these labels (the stale-ticket check happened at the click).
    authority: Authority = "model"
    corrected_tasks: list[str] = field(default_factory=list)  # tasks whose label a reviewer set
    # The ticket's language (ISO 639-1 where one exists) and signals; absent from bodies sent before they existed.
    language: str | None = None
    signals: DecisionSignals | None = None


class ReviewJob(FrozenRecord, frozen=True, kw_only=True):
    """ExceptionQueue: a reviewer's click, enqueued inside Slack's 3-second ack, done by ReviewNotifyFunction."""

    kind: Literal["review_outcome", "notice"]
    decision_id: str
    verdict: Verdict | None = None
    user_id: str
    user_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # corrected labels (correct)
    reason: str | None = None
    force: bool = False  # "apply anyway" after the stale-ticket warning
    channel: str | None = None
    ts: str | None = None
    notice: str | None = None
    requested_at: datetime


class _Kind(msgspec.Struct):
    kind: str | None = None  # only this is read; every other field is left for the full parse


_KIND = msgspec.json.Decoder(_Kind)


def parse_exception_message(raw: str | bytes) -> DecisionMessage | ReviewJob:
    """An ExceptionQueue body: a ReviewJob when its kind says so, else a DecisionMessage (bodies from before
    `kind` existed are decisions). ValidationError when it is neither."""
    kind = decode_json(_KIND, raw).kind
    if kind in ("review_outcome", "notice"):
        return ReviewJob.from_json(raw)
    return DecisionMessage.from_json(raw)
