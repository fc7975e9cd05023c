"""Progress on stderr: tickets so far, rate, and an ETA from how far the export has moved through the range.

On a terminal the line is rewritten at most once per ``interval`` seconds; elsewhere (a log, CI) nothing
is printed until the final line, so logs are not flooded with carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def duration(seconds: float) -> str:
    """``45s``, ``12m05s``, ``3h20m``."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.tty = self.stream.isatty() if tty is None else tty
        self._started = clock()
        self._start_fetched = 0
        self._start_fraction = 0.0
        self._shown_at: float | None = None
        self._width = 0

    def begin(self, fetched: int, fraction: float) -> None:
        """Where this run starts (a resumed pull: what earlier runs already fetched)."""
        self._started = self.clock()
        self._start_fetched, self._start_fraction = fetched, fraction

    def update(self, fetched: int, fraction: float) -> None:
        now = self.clock()
        if not self.tty or (self._shown_at is not None and now - self._shown_at < self.interval):
            return
        self._shown_at = now
        line = self.line(fetched, fraction, now)
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def line(self, fetched: int, fraction: float, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self._started
        fetched_now = fetched - self._start_fetched
        rate = fetched_now / elapsed if elapsed > 0 else 0.0
        done = fraction - self._start_fraction
        parts = [f"{self.label}: {fetched:,} tickets", f"{rate:,.0f}/s", f"{fraction:.0%} of the range"]
        if done > 0 and fraction < 1:
            parts.append(f"ETA {duration(elapsed / done * (1 - fraction))}")
        return " · ".join(parts)

    def finish(self, fetched: int) -> None:
        elapsed = self.clock() - self._started
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
        rate = (fetched - self._start_fetched) / elapsed if elapsed > 0 else 0.0
        self.stream.write(f"{self.label}: {fetched:,} tickets fetched in {duration(elapsed)} ({rate:,.0f}/s)\n")
        self.stream.flush()
