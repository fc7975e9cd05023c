"""baseline.json: the manual baseline measured on the pulled tickets, read back from tickets.csv.

Computed from the file, never from the pull's memory, so a resumed pull gives the same numbers as one
that ran straight through. Turnaround = minutes from creation to the first assignment (the manual triage
turnaround); re-routing rate = tickets a person re-routed after first routing them / tickets kept (the
manual error and rework rate). Quantiles interpolate linearly between the two nearest ranks (numpy's
default, ``statistics.quantiles(method="inclusive")``).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from triage_tools.history.files import Baseline, HistoryTicket, Quantiles, Rate, WeekBaseline, read_tickets


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of already sorted values (linear between closest ranks); None when empty."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def quantiles(values: Iterable[float]) -> Quantiles:
    ordered = sorted(values)
    p50, p90 = quantile(ordered, 0.5), quantile(ordered, 0.9)
    return {"n": len(ordered), "p50": _round(p50, 1), "p90": _round(p90, 1)}


def rate(rerouted: int, routed: int) -> Rate:
    return {"n": routed, "rerouted": rerouted, "rate": round(rerouted / routed, 4) if routed else None}


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def turnaround_minutes(ticket: HistoryTicket) -> float | None:
    """Minutes from creation to the first assignment (0 when it was assigned as it was created)."""
    if ticket.first_assigned_at is None:
        return None
    return max((ticket.first_assigned_at - ticket.created_at).total_seconds() / 60, 0.0)


class _Tally:
    """What the baseline needs from the tickets, gathered in one streaming read (floats in arrays)."""

    def __init__(self, tasks: Sequence[str]) -> None:
        self.turnaround: array[float] = array("d")
        self.week_turnaround: dict[str, array[float]] = defaultdict(lambda: array("d"))
        self.week_tickets: Counter[str] = Counter()
        self.week_rerouted: Counter[str] = Counter()
        self.unmapped: dict[str, Counter[str]] = {task: Counter() for task in tasks}
        self.not_set: Counter[str] = Counter()
        self.kept = self.rerouted = 0

    def add(self, ticket: HistoryTicket, tasks: Sequence[str]) -> None:
        week = iso_week(ticket.created_at)
        self.kept += 1
        self.week_tickets[week] += 1
        if ticket.rerouted:
            self.rerouted += 1
            self.week_rerouted[week] += 1
        minutes = turnaround_minutes(ticket)
        if minutes is not None:
            self.turnaround.append(minutes)
            self.week_turnaround[week].append(minutes)
        for task in tasks:
            if task in ticket.unmapped:
                self.unmapped[task][ticket.unmapped[task]] += 1
            elif task not in ticket.labels:
                self.not_set[task] += 1


def measure(
    directory: Path,
    tasks: Sequence[str],
    *,
    identity: Mapping[str, str],
    seen: int,
    left_out: Mapping[str, int],
    notes: Sequence[str] = (),
) -> Baseline:
    """The baseline of DIR/tickets.csv. ``identity``: source, workflow, since, until, pulled_at."""
    tally = _Tally(tasks)
    for ticket in read_tickets(directory, tasks):
        tally.add(ticket, tasks)
    overall_turnaround = quantiles(tally.turnaround)
    overall_rate = rate(tally.rerouted, tally.kept)
    weeks: list[WeekBaseline] = [
        {
            "week": week,
            "tickets": tally.week_tickets[week],
            "turnaround_minutes": quantiles(tally.week_turnaround.get(week, ())),
            "rerouting": rate(tally.week_rerouted[week], tally.week_tickets[week]),
        }
        for week in sorted(tally.week_tickets)
    ]
    roi: dict[str, Any] = {}
    if overall_turnaround["p50"] is not None:
        roi["turnaround_minutes"] = overall_turnaround["p50"]
    if overall_rate["rate"] is not None:
        roi["error_rate"] = overall_rate["rate"]
    all_notes = [*notes, *_task_notes(tally, tasks)]
    baseline: Baseline = {
        "source": identity["source"],
        "workflow": identity["workflow"],
        "since": identity["since"],
        "until": identity["until"],
        "pulled_at": identity["pulled_at"],
        "seen": seen,
        "kept": tally.kept,
        "left_out": dict(left_out),
        "unmapped": {task: dict(counts.most_common()) for task, counts in tally.unmapped.items()},
        "turnaround_minutes": overall_turnaround,
        "rerouting": overall_rate,
        "weeks": weeks,
        "roi_baseline": roi,
        "notes": all_notes,
    }
    return baseline


def _task_notes(tally: _Tally, tasks: Sequence[str]) -> list[str]:
    notes = []
    for task in tasks:
        if tally.not_set[task]:
            notes.append(
                f"{task}: {tally.not_set[task]} kept tickets have none of the task's mapped fields set by a "
                "person (label and unmapped columns empty)"
            )
    if tally.kept and len(tally.turnaround) < tally.kept:
        notes.append(f"{tally.kept - len(tally.turnaround)} kept tickets have no first assignment (not in turnaround)")
    return notes


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
