"""The backtest's time split: ordered by created_at whatever the file's order, too-small histories refused with
the number needed, and no leakage: nothing is decided on a ticket older than one the model or calibration saw."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders import seed_history
from triage_gate.adapters.local_models import LocalModelCache
from triage_gate.policy import load_policy
from triage_tools.backtest.history import BacktestInputError
from triage_tools.backtest.replay import ReplaySetup, replay
from triage_tools.backtest.split import TimeSplit, TimeSplitError, check_time_order, split_by_time, tickets_needed
from triage_tools.evaluation.runner import with_route


def test_the_split_follows_created_at_not_the_file_order():
    tickets = seed_history(200)
    shuffled = tickets[:]
    random.Random(3).shuffle(shuffled)

    split = split_by_time(shuffled, 0.8, 0.2)

    assert (len(split.fit), len(split.calibration), len(split.test)) == (128, 32, 40)
    assert [t.id for t in split.fit + split.calibration + split.test] == [t.id for t in tickets]
    assert max(t.created_at for t in split.training) <= min(t.created_at for t in split.test)
    assert max(t.created_at for t in split.fit) <= min(t.created_at for t in split.calibration)


def test_too_few_tickets_say_how_many_are_needed():
    needed = tickets_needed(0.8, 0.2)
    assert needed == 63  # int(0.8 * 63) = 50 train: 40 to fit, 10 to calibrate; 13 to decide
    split_by_time(seed_history(needed), 0.8, 0.2)
    with pytest.raises(BacktestInputError, match=f"62 tickets are too few .* needs at least {needed}"):
        split_by_time(seed_history(needed - 1), 0.8, 0.2)


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_shares_outside_zero_one_are_refused(share):
    with pytest.raises(BacktestInputError, match="between 0 and 1"):
        split_by_time(seed_history(100), share, 0.2)


def test_a_split_that_would_see_the_future_is_refused():
    tickets = seed_history(100)
    good = split_by_time(tickets, 0.8, 0.2)
    older = replace(good.test[0], created_at=good.fit[0].created_at - timedelta(days=1))
    leaking = TimeSplit(good.fit, good.calibration, [older, *good.test[1:]], 0.8, 0.2)
    with pytest.raises(TimeSplitError, match="older than a training ticket"):
        check_time_order(leaking)
    early_calibration = TimeSplit(
        good.fit, [replace(good.calibration[0], created_at=older.created_at)], good.test, 0.8, 0.2
    )
    with pytest.raises(TimeSplitError, match="calibration ticket"):
        check_time_order(early_calibration)
    twice = TimeSplit(good.fit, good.calibration, [*good.test, good.fit[-1]], 0.8, 0.2)
    with pytest.raises(TimeSplitError):
        check_time_order(twice)


def _vocabulary(path: str) -> set[str]:
    return set(json.loads(Path(path).read_text())["vocabulary"])


def test_the_model_never_sees_a_calibration_or_decided_ticket(tmp_path):
    tickets = seed_history(300)
    split = split_by_time(tickets, 0.8, 0.2)
    marked = {t.id: "fitmarker" for t in split.fit[:10]}
    marked |= {t.id: "calibrationmarker" for t in split.calibration[:10]}
    marked |= {t.id: "decidedmarker" for t in split.test[:10]}
    tickets = [replace(t, text=f"{t.text} {marked[t.id]}") if t.id in marked else t for t in tickets]
    split = split_by_time(tickets, 0.8, 0.2)
    policy = with_route(load_policy(), "zendesk-support", "local")
    setup = ReplaySetup(policy, "zendesk-support", None, LocalModelCache(), tmp_path / "models", progress=False)

    result = replay(setup, split)

    for training in result.training.values():
        assert training.trained
        vocabulary = _vocabulary(str(training.model_path))
        assert "fitmarker" in vocabulary  # the marker is a learnable word when trained on
        assert "calibrationmarker" not in vocabulary
        assert "decidedmarker" not in vocabulary
    assert [d.ticket.id for d in result.decided] == [t.id for t in split.test]  # decided: the test window only
    assert result.calibration_rows == {"category": len(split.calibration), "priority": len(split.calibration)}
