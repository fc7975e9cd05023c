"""The queue contracts: the body of every message on our own queues, in one place.

TriageQueue carries `TicketEvent`; ActionsQueue carries `DecisionMessage`; ExceptionQueue carries
`DecisionMessage` (a new review case) or `ReviewJob` (a reviewer's click), told apart by `kind` through a
discriminated union (`parse_exception_message`). Versioned: old bodies (before `kind` existed) keep parsing;
`events/` holds a sample of each and contract tests parse them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

Source = Literal["zendesk", "hubspot"]
FieldValue = str | int | float | bool | list[str] | None
# SQS refuses a message whose body plus attributes exceed 256 KiB (intake checks before claiming).
MAX_QUEUE_MESSAGE_BYTES = 256 * 1024


class TicketEvent(BaseModel):
    """One vendor event about one ticket, as IngestFunction puts it on TriageQueue."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    schema_version: Literal[1] = 1
    kind: Literal["ticket_event"] = "ticket_event"
    source: Source
    account_id: str = Field(min_length=1)
    # Vendor ticket ids are numeric and end up in vendor API URLs: ASCII digits only (intake checks too).
    ticket_id: str = Field(pattern=r"^[0-9]{1,20}$")
    # Normalised across vendors: ticket.created, ticket.comment_added, ticket.property_changed, ...
    event_type: str = Field(min_length=1)
    # Exactly what the vendor called it: zen:event-type:ticket.created, ticket.propertyChange, ...
    vendor_event_type: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    # Same key for every redelivery of this event; what intake and triage deduplicate on.
    dedupe_key: str = Field(min_length=1, max_length=1024)
    subject: str | None = None
    text: str | None = None
    text_truncated: bool = False
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    changes: dict[str, Any] = Field(default_factory=dict)
    delivery: dict[str, str] = Field(default_factory=dict)

    @property
    def correlation_id(self) -> str:
        return f"{self.source}:{self.ticket_id}"

    def queue_body(self) -> str:
        """The TriageQueue message body, exactly as SqsEventQueue sends it."""
        return self.model_dump_json()


def utc_from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


Mode = Literal["off", "shadow", "assist", "auto"]
Authority = Literal["model", "reviewer"]
Verdict = Literal["approve", "correct", "escalate"]


class TicketSnapshot(BaseModel):
    """The ticket as the decision read it: write-back is made conditional on it (never undo a human)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # Zendesk `updated_at` / HubSpot `hs_lastmodifieddate` as read; Zendesk's `updated_stamp` for safe_update.
    updated_at: str | None = None
    created_at: str | None = None


class DecisionSignals(BaseModel):
    """The signals answered beside the decision (write-back tags them and puts them in the note)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sentiment: Literal["negative", "neutral", "positive"] | None = None
    urgent: bool | None = None


class DecisionMessage(BaseModel):
    """ActionsQueue (apply) and ExceptionQueue (a new review case): one decision, by its id."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    schema_version: Literal[1] = 1
    kind: Literal["decision"] = "decision"
    decision_id: str
    correlation_id: str
    workflow: str
    source: str
    account_id: str
    ticket_id: str = Field(pattern=r"^[0-9]{1,20}$")
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
    corrected_tasks: list[str] = Field(default_factory=list)  # tasks whose label a reviewer set
    # The ticket's language (ISO 639-1 where one exists) and signals; absent from bodies sent before they existed.
    language: str | None = None
    signals: DecisionSignals | None = None


class ReviewJob(BaseModel):
    """ExceptionQueue: a reviewer's click, enqueued inside Slack's 3-second ack, done by ReviewNotifyFunction."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["review_outcome", "notice"]
    decision_id: str
    verdict: Verdict | None = None
    user_id: str
    user_name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)  # corrected labels (correct)
    reason: str | None = None
    force: bool = False  # "apply anyway" after the stale-ticket warning
    channel: str | None = None
    ts: str | None = None
    notice: str | None = None
    requested_at: datetime


def _exception_kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return "job" if kind in ("review_outcome", "notice") else "decision"  # no kind: a body from before `kind`


ExceptionQueueMessage = Annotated[
    Annotated[DecisionMessage, Tag("decision")] | Annotated[ReviewJob, Tag("job")],
    Discriminator(_exception_kind),
]
EXCEPTION_QUEUE_MESSAGES: TypeAdapter[DecisionMessage | ReviewJob] = TypeAdapter(
    ExceptionQueueMessage, config=ConfigDict(defer_build=True)
)
