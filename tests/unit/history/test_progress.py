"""Progress on stderr: rate and ETA at most once a second on a terminal, only a final line elsewhere."""

from __future__ import annotations

import io

from triage_tools.history.progress import Progress, duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_terminal_line_shows_tickets_rate_and_eta_at_most_once_a_second() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("zendesk history", stream=stream, clock=clock, tty=True)
    progress.begin(0, 0.0)

    clock.now = 10.0
    progress.update(2_000, 0.25)
    clock.now = 10.5
    progress.update(2_100, 0.26)  # within the second: not shown

    lines = stream.getvalue().split("\r")[1:]
    assert lines == ["zendesk history: 2,000 tickets · 200/s · 25% of the range · ETA 30s"]


def test_a_resumed_pull_rates_and_estimates_from_where_this_run_began() -> None:
    clock = Clock()
    progress = Progress("hubspot history", stream=io.StringIO(), clock=clock, tty=True)
    progress.begin(50_000, 0.5)
    clock.now = 100.0

    assert progress.line(60_000, 0.6) == "hubspot history: 60,000 tickets · 100/s · 60% of the range · ETA 6m40s"


def test_not_a_terminal_prints_only_the_final_line() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("zendesk history", stream=stream, clock=clock, tty=False)
    progress.begin(0, 0.0)
    for second in range(1, 5):
        clock.now = float(second)
        progress.update(second * 1_000, second / 5)

    progress.finish(5_000)

    assert stream.getvalue() == "zendesk history: 5,000 tickets fetched in 4s (1,250/s)\n"


def test_durations_read_like_a_person_would_write_them() -> None:
    assert [duration(s) for s in (0, 45, 725, 12_000)] == ["0s", "45s", "12m05s", "3h20m"]
