"""baseline.json maths on a hand-computed fixture: turnaround quantiles, re-routing rates, weeks, unmapped."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from triage_tools.history.baseline import measure, quantile
from triage_tools.history.files import TICKETS_FILE, HistoryTicket, ticket_columns

TASKS = ("category", "priority")
MONDAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # ISO week 2026-W23
IDENTITY = {"source": "zendesk", "workflow": "support", "since": "2026-06-01", "until": "2026-06-15",
            "pulled_at": "2026-06-15T00:00:00+00:00"}  # fmt: skip


def ticket(
    number: int, created: datetime, minutes: float | None, *, rerouted: bool = False,
    labels: dict[str, str] | None = None, unmapped: dict[str, str] | None = None,
) -> HistoryTicket:  # fmt: skip
    return HistoryTicket(
        id=str(number), created_at=created, subject=f"s{number}", text=f"t{number}",
        labels={"category": "billing", "priority": "low"} if labels is None else labels,
        unmapped=unmapped or {},
        first_assigned_at=None if minutes is None else created + timedelta(minutes=minutes), rerouted=rerouted,
    )  # fmt: skip


def write(directory: Path, tickets: list[HistoryTicket]) -> Path:
    with (directory / TICKETS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ticket_columns(TASKS))
        writer.writeheader()
        writer.writerows(t.row(TASKS) for t in tickets)
    return directory


@pytest.fixture
def fixture_dir(tmp_path: Path) -> Path:
    ambiguous = {"category": "group_id=1 (ambiguous: a|b)"}
    week_two = MONDAY + timedelta(days=7)
    return write(tmp_path, [
        ticket(1, MONDAY, 10, unmapped={"priority": "priority=x"}, labels={"category": "billing"}),
        ticket(2, MONDAY + timedelta(hours=1), 20, unmapped=ambiguous, labels={"priority": "low"}),
        ticket(3, MONDAY + timedelta(days=2), 40, rerouted=True),
        ticket(4, MONDAY + timedelta(days=6, hours=14), None, unmapped=ambiguous, labels={"priority": "low"}),
        ticket(5, week_two, 100, rerouted=True, unmapped={"category": "group_id=9"}, labels={"priority": "low"}),
        ticket(6, week_two + timedelta(hours=3), -5, labels={"priority": "low"}),  # assigned before created: 0
    ])  # fmt: skip


def test_quantile_interpolates_between_the_two_nearest_ranks() -> None:
    values = [0.0, 10.0, 20.0, 40.0, 100.0]

    assert quantile(values, 0.5) == 20.0
    assert quantile(values, 0.9) == pytest.approx(76.0)  # position 3.6: 40 + 0.6 * (100 - 40)
    assert quantile([7.0], 0.9) == 7.0
    assert quantile([], 0.5) is None


def test_overall_turnaround_and_rerouting(fixture_dir: Path) -> None:
    baseline = measure(fixture_dir, TASKS, identity=IDENTITY, seen=9, left_out={"deleted": 2, "no_routing": 1})

    assert baseline["turnaround_minutes"] == {"n": 5, "p50": 20.0, "p90": 76.0}
    assert baseline["rerouting"] == {"n": 6, "rerouted": 2, "rate": 0.3333}
    assert baseline["roi_baseline"] == {"turnaround_minutes": 20.0, "error_rate": 0.3333}
    assert (baseline["seen"], baseline["kept"], baseline["left_out"]) == (9, 6, {"deleted": 2, "no_routing": 1})


def test_weeks_are_iso_weeks_of_creation_with_their_own_figures(fixture_dir: Path) -> None:
    weeks = measure(fixture_dir, TASKS, identity=IDENTITY, seen=6, left_out={})["weeks"]

    assert weeks == [
        {"week": "2026-W23", "tickets": 4, "turnaround_minutes": {"n": 3, "p50": 20.0, "p90": 36.0},
         "rerouting": {"n": 4, "rerouted": 1, "rate": 0.25}},
        {"week": "2026-W24", "tickets": 2, "turnaround_minutes": {"n": 2, "p50": 50.0, "p90": 90.0},
         "rerouting": {"n": 2, "rerouted": 1, "rate": 0.5}},
    ]  # fmt: skip


def test_unmapped_values_are_counted_per_raw_value_and_unset_tasks_noted(fixture_dir: Path) -> None:
    baseline = measure(fixture_dir, TASKS, identity=IDENTITY, seen=6, left_out={})

    assert baseline["unmapped"] == {
        "category": {"group_id=1 (ambiguous: a|b)": 2, "group_id=9": 1},
        "priority": {"priority=x": 1},
    }
    notes = baseline.get("notes", [])
    assert any(n.startswith("category: 1 kept tickets have none") for n in notes)  # ticket 6
    assert "1 kept tickets have no first assignment (not in turnaround)" in notes


def test_no_tickets_gives_no_figures_rather_than_zeros(tmp_path: Path) -> None:
    baseline = measure(write(tmp_path, []), TASKS, identity=IDENTITY, seen=3, left_out={"deleted": 3})

    assert baseline["turnaround_minutes"] == {"n": 0, "p50": None, "p90": None}
    assert baseline["rerouting"] == {"n": 0, "rerouted": 0, "rate": None}
    assert baseline["roi_baseline"] == {}
    assert baseline["weeks"] == []
