"""What a vendor export gives the pull: tickets as plain values, a page at a time, with a resume point."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class PulledTicket:
    """One version of a ticket as the export returned it. Text is raw here: it is masked before it is written."""

    id: str
    created_at: datetime
    subject: str
    text: str
    fields: dict[str, str]  # routing fields a person set, vendor name → value (mapped back to labels later)
    first_assigned_at: datetime | None
    rerouted: bool
    left_out: str | None = None  # why it is not kept (deleted, merged, no_routing…), None when it is
    names: tuple[str, ...] = ()  # people the ticket names (requester): masked like the live path does
    organisations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    tickets: list[PulledTicket]
    position: dict[str, Any]  # where the next page starts (saved in the state file after this page)
    progress: float  # 0..1: how far through the time range the export has advanced
    last: bool = False


class HistorySource(Protocol):
    """A vendor's export: pages from a saved position (None: the start) until the last one. ``notes`` are
    what the baseline should say about this source (limits of what it can see)."""

    name: str
    left_out_reasons: tuple[str, ...]
    notes: list[str]

    def pages(self, position: dict[str, Any] | None) -> Iterator[Page]: ...

    def close(self) -> None: ...


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 vendor timestamp (``Z`` or an offset; naive means UTC) or epoch milliseconds, in UTC."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
