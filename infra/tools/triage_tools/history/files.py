"""What `triage history pull` writes into its output directory and `triage backtest` reads back.

DIR/tickets.csv — one row per kept ticket (each id once, in no particular order), UTF-8, header row:
    id, created_at, subject, text, <task>… , <task>_unmapped… , first_assigned_at, rerouted
  - ``created_at`` / ``first_assigned_at``: ISO 8601 in UTC (``2026-08-03T09:15:00+00:00``);
    ``first_assigned_at`` is empty when the vendor does not say.
  - ``subject`` / ``text``: PII-masked with the policy's guardrails before they are written (the raw export
    never touches the disk). ``text`` is the ticket's first comment (Zendesk description, HubSpot content).
  - one column per policy task (``category``, ``priority``…) holding the label a human finally gave, mapped
    back through the policy's write-back mapping; empty when the vendor value maps to no label, in which
    case ``<task>_unmapped`` holds the raw vendor value (e.g. ``group_id=36009999``).
  - ``rerouted``: ``1`` when a human changed the routing after first setting it, else ``0``.

DIR/baseline.json — the manual baseline measured on the same tickets (see ``Baseline``).
DIR/pull-state.json — the pull's resume point (cursor or search window); removed when the pull completes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict

TICKETS_FILE = "tickets.csv"
BASELINE_FILE = "baseline.json"
STATE_FILE = "pull-state.json"

FIXED_LEADING = ("id", "created_at", "subject", "text")
FIXED_TRAILING = ("first_assigned_at", "rerouted")


def ticket_columns(tasks: Sequence[str]) -> list[str]:
    """The header of tickets.csv for a workflow with these tasks (in policy order)."""
    return [*FIXED_LEADING, *tasks, *(f"{t}_unmapped" for t in tasks), *FIXED_TRAILING]


@dataclass(frozen=True)
class HistoryTicket:
    """One row of tickets.csv."""

    id: str
    created_at: datetime
    subject: str
    text: str
    labels: dict[str, str]  # task → label a human gave (only tasks that mapped)
    unmapped: dict[str, str]  # task → raw vendor value that mapped to no label
    first_assigned_at: datetime | None
    rerouted: bool

    def row(self, tasks: Sequence[str]) -> dict[str, str]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "subject": self.subject,
            "text": self.text,
            **{t: self.labels.get(t, "") for t in tasks},
            **{f"{t}_unmapped": self.unmapped.get(t, "") for t in tasks},
            "first_assigned_at": self.first_assigned_at.isoformat() if self.first_assigned_at else "",
            "rerouted": "1" if self.rerouted else "0",
        }


def read_tickets(directory: Path, tasks: Sequence[str]) -> Iterator[HistoryTicket]:
    """Stream tickets.csv back (never the whole file in memory). Raises ValueError naming a bad row."""
    path = directory / TICKETS_FILE
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ticket_columns(tasks) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing} (was it pulled for this workflow?)")
        for line, row in enumerate(reader, start=2):
            try:
                yield HistoryTicket(
                    id=row["id"],
                    created_at=datetime.fromisoformat(row["created_at"]),
                    subject=row["subject"],
                    text=row["text"],
                    labels={t: row[t] for t in tasks if row[t]},
                    unmapped={t: row[f"{t}_unmapped"] for t in tasks if row[f"{t}_unmapped"]},
                    first_assigned_at=datetime.fromisoformat(row["first_assigned_at"])
                    if row["first_assigned_at"]
                    else None,
                    rerouted=row["rerouted"] == "1",
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc


class Quantiles(TypedDict):
    n: int  # tickets with a first assignment
    p50: float | None  # minutes from creation to first assignment
    p90: float | None


class Rate(TypedDict):
    n: int  # tickets routed by a human
    rerouted: int
    rate: float | None


class WeekBaseline(TypedDict):
    week: str  # ISO week of created_at, e.g. "2026-W31"
    tickets: int
    turnaround_minutes: Quantiles
    rerouting: Rate


class Baseline(TypedDict):
    """DIR/baseline.json. ``roi_baseline`` holds the measured figures in the policy's own field names."""

    source: str  # zendesk | hubspot
    workflow: str
    since: str  # ISO date, inclusive
    until: str  # ISO date, exclusive
    pulled_at: str
    seen: int  # tickets the vendor returned
    kept: int  # rows in tickets.csv
    left_out: dict[str, int]  # reason → count: deleted, merged, no_routing, … (never silently dropped)
    unmapped: dict[str, dict[str, int]]  # task → raw vendor value → count
    turnaround_minutes: Quantiles
    rerouting: Rate
    weeks: list[WeekBaseline]
    roi_baseline: dict[str, Any]  # {"turnaround_minutes": p50, "error_rate": rerouting rate}
    notes: NotRequired[list[str]]
