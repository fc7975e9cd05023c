"""What a worker process has used so far: CPU time and peak resident memory, read from Linux's /proc.

Elsewhere (no /proc) nothing is known and ``process_usage`` answers None; callers say so instead of
reporting zeros.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessUsage:
    cpu_seconds: float  # user + system time
    peak_rss_kib: int  # VmHWM: the most resident memory the process has held

    def __add__(self, other: ProcessUsage) -> ProcessUsage:
        """CPU adds up; the peak is the larger one (two processes' peaks need not coincide)."""
        return ProcessUsage(self.cpu_seconds + other.cpu_seconds, max(self.peak_rss_kib, other.peak_rss_kib))


NOTHING = ProcessUsage(0.0, 0)


def process_usage(pid: int) -> ProcessUsage | None:
    """The process's CPU time and peak RSS, or None when /proc does not know it (gone, or not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    # The command name (field 2) is in parentheses and may contain spaces: count fields after its ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    user_ticks, system_ticks = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    peak = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    return ProcessUsage((user_ticks + system_ticks) / _CLOCK_TICKS, peak)
