"""The backtest's figures on hand-worked decisions: every number below is worked out in the comments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import HISTORY_START, policy
from triage_tools.backtest.measures import figures, modes, precision_of, ticket_right, turnaround, weeks
from triage_tools.backtest.replay import Decided
from triage_tools.history.files import HistoryTicket

MONDAY = HISTORY_START  # 2026-06-01 08:00 UTC, ISO week 2026-W23


def _decided(
    n: int,
    *,
    day: int,
    applied: bool,
    right: bool = True,
    assigned_after: float | None = 60.0,
    labels: dict[str, str] | None = None,
    rerouted: bool = False,
) -> Decided:
    created = MONDAY + timedelta(days=day)
    human = {"category": "billing", "priority": "high"} if labels is None else labels
    ticket = HistoryTicket(
        id=str(n), created_at=created, subject="", text="x", labels=human, unmapped={},
        first_assigned_at=None if assigned_after is None else created + timedelta(minutes=assigned_after),
        rerouted=rerouted,
    )  # fmt: skip
    predicted = {"category": "billing" if right else "bug", "priority": "high"}
    return Decided(ticket, applied, predicted, {"category": 0.9, "priority": 0.9}, (), 1.0, 0.0)


@pytest.mark.parametrize(
    ("correct", "n", "verdict"),
    [
        (73, 73, "proven"),  # Wilson low 0.950: the smallest perfect record that proves 95 %
        (96, 100, "within, not proven"),  # 96 % observed, low 0.901
        (93, 100, "below, not proven"),  # 93 % observed, high 0.966
        (88, 100, "fails"),  # high 0.930 < 0.95
        (0, 0, "none"),
    ],
)
def test_precision_verdicts_against_the_tolerance(correct, n, verdict):
    assert precision_of(correct, n, 0.95)["verdict"] == verdict


def test_a_ticket_is_right_when_every_labelled_task_matches():
    assert ticket_right(_decided(1, day=0, applied=True)) is True
    assert ticket_right(_decided(2, day=0, applied=True, right=False)) is False
    assert ticket_right(_decided(3, day=0, applied=True, labels={"priority": "high"}, right=False)) is True
    assert ticket_right(_decided(4, day=0, applied=True, labels={})) is None


def test_turnaround_projection_counts_only_confirmed_applications_at_the_sla():
    decided = [
        _decided(1, day=0, applied=True, assigned_after=120),  # applied, right: 120 → 2 (the SLA)
        _decided(2, day=0, applied=True, right=False, assigned_after=60),  # applied, wrong: keeps 60
        _decided(3, day=0, applied=False, assigned_after=10),  # reviewed: keeps 10
        _decided(4, day=0, applied=True, assigned_after=1),  # people were faster than the SLA: 1
        _decided(5, day=0, applied=True, assigned_after=None),  # no assignment time: left out, counted
    ]

    turn = turnaround(decided, sla_minutes=2.0)

    assert (turn["n"], turn["unknown"]) == (4, 1)
    assert turn["manual"] == {"p50": 10, "p90": 120}  # sorted 1, 10, 60, 120: nearest rank 2 and 4
    assert turn["auto"] == {"p50": 2.0, "p90": 60}  # sorted 1, 2, 10, 60


def test_modes_weeks_and_hours_on_a_hand_worked_window():
    decided = [
        _decided(1, day=0, applied=True),
        _decided(2, day=1, applied=True),
        _decided(3, day=2, applied=True, right=False, rerouted=True),
        _decided(4, day=3, applied=False),
        _decided(5, day=7, applied=True),  # the next ISO week
        _decided(6, day=14, applied=False),  # the week after: the window spans 14 days = 2 weeks
    ]
    turn = turnaround(decided, 2.0)

    by_mode = modes(decided, 0.95, manual_minutes=6.0, turn=turn)

    auto = by_mode["auto"]
    assert (auto["applied"], auto["reviews"], auto["coverage"]) == (4, 2, pytest.approx(4 / 6))
    assert (auto["precision"]["correct"], auto["precision"]["n"]) == (3, 4)
    assert auto["hours_recovered"] == pytest.approx(3 * 6 / 60)  # confirmed applications x 6 min
    assert auto["reviews_per_week"] == pytest.approx(2 / 2)
    assert auto["hours_recovered_per_week"] == pytest.approx(0.3 / 2)
    assist = by_mode["assist"]
    assert (assist["applied"], assist["suggestions"], assist["reviews"], assist["hours_recovered"]) == (0, 4, 2, 0.0)
    shadow = by_mode["shadow"]
    assert (shadow["applied"], shadow["reviews"]) == (0, 0)
    assert (shadow["agreement"]["correct"], shadow["agreement"]["n"]) == (5, 6)  # all decisions, not only confident
    assert [(w["week"], w["tickets"], w["confident"], w["reviews"]) for w in weeks(decided, 6.0)] == [
        ("2026-W23", 4, 3, 1),
        ("2026-W24", 1, 1, 0),
        ("2026-W25", 1, 0, 1),
    ]


def test_figures_compare_the_applied_error_rate_with_people_rerouting():
    workflow = policy().workflows["support"]
    decided = [_decided(i, day=i, applied=True, right=i != 0, rerouted=i < 2) for i in range(10)]

    result = figures(decided, workflow, measured_rate=0.12)

    versus = result["versus_people"]
    assert versus["applied_error_rate"] == pytest.approx(0.1)  # 1 wrong of 10 applied
    assert versus["people_rerouting_rate"] == pytest.approx(0.2)  # 2 of 10 re-routed by people
    assert versus["people_rerouting_rate_history"] == 0.12
    assert result["tasks"]["category"]["applied"]["correct"] == 9
    assert result["tasks"]["priority"]["applied"]["correct"] == 10
    assert result["manual_minutes_per_ticket"] == workflow.roi_baseline.manual_minutes_per_ticket
