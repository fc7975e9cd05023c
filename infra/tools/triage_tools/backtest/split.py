"""The backtest's time split: the oldest ``train_share`` of the history by ``created_at`` is the training window
(its older part trains the model, its newest ``calibration_share`` calibrates it), the rest is the test window,
the only tickets decided. Nothing is ever decided on a ticket older than a ticket the model or the calibration
saw: :func:`check_time_order` enforces it on every split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from triage_tools.backtest.history import BacktestInputError
from triage_tools.history.files import HistoryTicket

DEFAULT_TRAIN_SHARE = 0.8
DEFAULT_CALIBRATION_SHARE = 0.2
MIN_FIT = 20
MIN_CALIBRATION = 10
MIN_TEST = 10
_MAX_SEARCH = 10_000_000


class TimeSplitError(AssertionError):
    """A split that would decide on a ticket older than a training or calibration ticket (a leak)."""


@dataclass(frozen=True)
class TimeSplit:
    fit: list[HistoryTicket]  # trains the local model: the oldest part of the training window
    calibration: list[HistoryTicket]  # calibrates it: the newest part of the training window
    test: list[HistoryTicket]  # decided: every ticket after the training window
    train_share: float
    calibration_share: float

    @property
    def training(self) -> list[HistoryTicket]:
        return [*self.fit, *self.calibration]


def _sizes(n: int, train_share: float, calibration_share: float) -> tuple[int, int, int]:
    """(fit, calibration, test) ticket counts for n tickets."""
    n_train = int(n * train_share)
    n_calibration = int(n_train * calibration_share)
    return n_train - n_calibration, n_calibration, n - n_train


def _big_enough(n: int, train_share: float, calibration_share: float) -> bool:
    fit, calibration, test = _sizes(n, train_share, calibration_share)
    return fit >= MIN_FIT and calibration >= MIN_CALIBRATION and test >= MIN_TEST


def tickets_needed(train_share: float, calibration_share: float) -> int:
    """The fewest tickets whose split has ≥ MIN_FIT to train, ≥ MIN_CALIBRATION to calibrate, ≥ MIN_TEST to decide."""
    n = MIN_FIT + MIN_CALIBRATION + MIN_TEST
    while not _big_enough(n, train_share, calibration_share):
        n += 1
        if n > _MAX_SEARCH:  # only for shares so extreme that no history is big enough
            raise BacktestInputError(f"no history is big enough for --train-share {train_share}")
    return n


def split_by_time(
    tickets: Sequence[HistoryTicket],
    train_share: float = DEFAULT_TRAIN_SHARE,
    calibration_share: float = DEFAULT_CALIBRATION_SHARE,
) -> TimeSplit:
    """Cut ``tickets`` (any order) by ``created_at``; raise BacktestInputError when there are too few."""
    for name, share in (("--train-share", train_share), ("--calibration-share", calibration_share)):
        if not 0.0 < share < 1.0:
            raise BacktestInputError(f"{name} must be between 0 and 1 (exclusive), got {share}")
    if not _big_enough(len(tickets), train_share, calibration_share):
        needed = tickets_needed(train_share, calibration_share)
        raise BacktestInputError(
            f"{len(tickets)} tickets are too few for a time split with --train-share {train_share} and "
            f"--calibration-share {calibration_share}: it needs at least {needed} (≥ {MIN_FIT} to train the model, "
            f"≥ {MIN_CALIBRATION} to calibrate it, ≥ {MIN_TEST} newer ones to decide on). Pull a longer history."
        )
    ordered = sorted(tickets, key=lambda t: (t.created_at, t.id))
    n_fit, n_calibration, _ = _sizes(len(ordered), train_share, calibration_share)
    split = TimeSplit(
        fit=ordered[:n_fit],
        calibration=ordered[n_fit : n_fit + n_calibration],
        test=ordered[n_fit + n_calibration :],
        train_share=train_share,
        calibration_share=calibration_share,
    )
    check_time_order(split)
    return split


def _newest(tickets: Sequence[HistoryTicket]) -> datetime:
    return max(t.created_at for t in tickets)


def _oldest(tickets: Sequence[HistoryTicket]) -> datetime:
    return min(t.created_at for t in tickets)


def check_time_order(split: TimeSplit) -> None:
    """Raise TimeSplitError unless fit ≤ calibration ≤ test in time: no decided ticket is older than any ticket
    the model was trained or calibrated on, and no calibration ticket is older than a training one."""
    if split.fit and split.calibration and _newest(split.fit) > _oldest(split.calibration):
        raise TimeSplitError(
            f"a calibration ticket ({_oldest(split.calibration).isoformat()}) is older than a training ticket "
            f"({_newest(split.fit).isoformat()})"
        )
    if split.training and split.test and _newest(split.training) > _oldest(split.test):
        raise TimeSplitError(
            f"a decided ticket ({_oldest(split.test).isoformat()}) is older than a training ticket "
            f"({_newest(split.training).isoformat()}): the backtest would see the future"
        )
    ids = {t.id for t in split.training}
    leaked = [t.id for t in split.test if t.id in ids]
    if leaked:
        raise TimeSplitError(f"tickets both trained on and decided: {leaked[:5]}")
