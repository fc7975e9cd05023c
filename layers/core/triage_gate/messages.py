"""Internal messages: the bodies of our own queues. Versioned; old versions must keep parsing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Source = Literal["zendesk", "hubspot"]
FieldValue = str | int | float | bool | list[str] | None
# SQS refuses a message whose body plus attributes exceed 256 KiB (intake checks before claiming).
MAX_QUEUE_MESSAGE_BYTES = 256 * 1024


class TicketEvent(BaseModel):
    """One vendor event about one ticket, as IngestFunction puts it on TriageQueue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
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
    from datetime import UTC

    return datetime.fromtimestamp(millis / 1000, tz=UTC)
