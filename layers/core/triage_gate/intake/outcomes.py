"""What intake decided about each event of a request."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import field

from triage_gate.messages import TicketEvent

Status = Literal["accepted", "duplicate", "ignored", "rejected"]


class Ignored(msgspec.Struct, frozen=True):
    """A valid event we deliberately do not handle (answered 2xx so the vendor stops retrying)."""

    reason: str
    vendor_event_type: str
    correlation_id: str | None = None


class Invalid(msgspec.Struct, frozen=True):
    """One event of a batch that failed validation."""

    index: int
    field: str
    message: str


Parsed = TicketEvent | Ignored | Invalid


class EventOutcome(msgspec.Struct, frozen=True):
    index: int
    status: Status
    detail: str | None = None
    dedupe_key: str | None = None
    correlation_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.dedupe_key:
            out["dedupe_key"] = self.dedupe_key
        if self.detail:
            out["detail"] = self.detail
        return out


class IntakeResult(msgspec.Struct):
    source: str
    outcomes: list[EventOutcome] = field(default_factory=list)
    # True when the dedupe store was down and events were queued without a claim (at-least-once).
    dedupe_bypassed: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "received": len(self.outcomes),
            "accepted": self.count("accepted"),
            "duplicates": self.count("duplicate"),
            "ignored": self.count("ignored"),
            "rejected": self.count("rejected"),
            "events": [o.as_json() for o in self.outcomes],
        }
