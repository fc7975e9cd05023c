"""Read a `triage history pull` directory back for the backtest, with a clear error for anything that cannot be
backtested: missing files, an unfinished pull, a history pulled for another workflow, a bad row."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any, cast

from triage_gate.policy import Workflow
from triage_tools.history.files import (
    BASELINE_FILE,
    STATE_FILE,
    TICKETS_FILE,
    Baseline,
    HistoryTicket,
    read_tickets,
    ticket_columns,
)

_BASELINE_KEYS = ("source", "workflow", "since", "until", "kept", "turnaround_minutes", "rerouting", "roi_baseline")
_UNMAPPED = "_unmapped"


class BacktestInputError(Exception):
    """The history or the arguments cannot be backtested; the message says what to fix (exit code 2)."""


@dataclass(frozen=True)
class History:
    directory: Path
    tickets: list[HistoryTicket]  # oldest first (created_at, then id)
    baseline: Baseline
    left_out: dict[str, int] = field(default_factory=dict)  # reason → tickets left out here (never silently)
    # task → label → tickets whose human label is not in the policy's taxonomy (scored as unlabelled)
    unknown_labels: dict[str, dict[str, int]] = field(default_factory=dict)


def load_history(directory: Path, workflow_name: str, workflow: Workflow) -> History:
    """DIR/tickets.csv (sorted by time) and DIR/baseline.json, checked against the workflow."""
    if not directory.is_dir():
        raise BacktestInputError(f"{directory}: no such directory (pull one with `triage history pull --out DIR`)")
    if (directory / STATE_FILE).exists():
        raise BacktestInputError(
            f"{directory}: the pull into it has not finished ({STATE_FILE} is there); run the same "
            "`triage history pull` command again to resume it"
        )
    missing = [name for name in (TICKETS_FILE, BASELINE_FILE) if not (directory / name).is_file()]
    if missing:
        raise BacktestInputError(f"{directory}: missing {' and '.join(missing)} (written by `triage history pull`)")
    baseline = _read_baseline(directory / BASELINE_FILE, workflow_name)
    tasks = list(workflow.tasks)
    _check_header(directory / TICKETS_FILE, workflow_name, tasks)
    tickets: dict[str, HistoryTicket] = {}
    left_out: Counter[str] = Counter()
    unknown: dict[str, Counter[str]] = {task: Counter() for task in tasks}
    try:
        for ticket in read_tickets(directory, tasks):
            if ticket.id in tickets:
                left_out["duplicate_id"] += 1
                continue
            tickets[ticket.id] = _normalised(ticket, workflow, unknown)
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise BacktestInputError(str(exc)) from exc
    ordered = sorted(tickets.values(), key=lambda t: (t.created_at, t.id))
    return History(directory, ordered, baseline, dict(left_out), {task: dict(c) for task, c in unknown.items() if c})


def _normalised(ticket: HistoryTicket, workflow: Workflow, unknown: dict[str, Counter[str]]) -> HistoryTicket:
    """Times in UTC (a naive time is taken as UTC); a label outside the taxonomy counted and left unlabelled."""
    labels = {}
    for task, label in ticket.labels.items():
        if label in workflow.tasks[task].labels:
            labels[task] = label
        else:
            unknown[task][label] += 1
    created = ticket.created_at if ticket.created_at.tzinfo else ticket.created_at.replace(tzinfo=UTC)
    assigned = ticket.first_assigned_at
    if assigned is not None and assigned.tzinfo is None:
        assigned = assigned.replace(tzinfo=UTC)
    return replace(ticket, labels=labels, created_at=created.astimezone(UTC), first_assigned_at=assigned)


def _check_header(path: Path, workflow_name: str, tasks: list[str]) -> None:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BacktestInputError(f"{path}: cannot read as a UTF-8 CSV: {exc}") from exc
    expected = ticket_columns(tasks)
    missing = [c for c in expected if c not in header]
    other_tasks = [c.removesuffix(_UNMAPPED) for c in header if c.endswith(_UNMAPPED) and c not in expected]
    if missing or other_tasks:
        detail = "; ".join(
            part
            for part in (
                f"missing columns {missing}" if missing else "",
                f"tasks in the file that the workflow does not have: {other_tasks}" if other_tasks else "",
            )
            if part
        )
        raise BacktestInputError(
            f"{path} does not match workflow {workflow_name!r} (tasks {tasks}): {detail}. "
            "Was it pulled for another workflow or policy? Pull again with --workflow, or pass the matching --policy."
        )


def _read_baseline(path: Path, workflow_name: str) -> Baseline:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BacktestInputError(f"{path}: not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BacktestInputError(f"{path}: expected a JSON object")
    missing = [key for key in _BASELINE_KEYS if key not in data]
    if missing:
        raise BacktestInputError(f"{path}: missing {missing} (was it written by `triage history pull`?)")
    if data["workflow"] != workflow_name:
        raise BacktestInputError(
            f"{path}: this history was pulled for workflow {data['workflow']!r}, not {workflow_name!r}"
        )
    return cast(Baseline, data)
