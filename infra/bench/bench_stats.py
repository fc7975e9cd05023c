"""Pure helpers shared by the benchmarks: min/median/max of repeated samples, verdicts, tables, the machine.

No timing happens here, so every function is unit-tested (tests/unit/test_bench_stats.py).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """min / median / max of repeated samples; the median is the headline."""

    minimum: float
    median: float
    maximum: float
    count: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        if not samples:
            raise ValueError("no samples: a spread needs at least one")
        return cls(min(samples), statistics.median(samples), max(samples), len(samples))

    def scaled(self, factor: float) -> Spread:
        """The same spread in other units (or per item of a batch): every figure times ``factor``."""
        return Spread(self.minimum * factor, self.median * factor, self.maximum * factor, self.count)

    def format(self, unit: str, digits: int = 1) -> str:
        """``median unit (min-max)``, e.g. ``384.2 ms (371.0-402.9)``."""
        return f"{self.median:.{digits}f} {unit} ({self.minimum:.{digits}f}-{self.maximum:.{digits}f})"


def verdict(value: float, limit: float) -> str:
    """``met`` when ``value`` is at most ``limit``, else ``MISSED`` (capitals, so a miss stands out)."""
    return "met" if value <= limit else "MISSED"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart, trailing spaces stripped; every row as wide as the header."""
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row has {len(row)} cells, the header {len(header)}: {list(row)}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_line(repeats: str) -> str:
    """What the numbers were measured on: the interpreter, the machine, the cores and how many repeats."""
    return (
        f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}, "
        f"{os.cpu_count()} cores; {repeats}"
    )
