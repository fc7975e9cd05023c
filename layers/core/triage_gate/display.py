"""Plain-text formatting shared by the weekly ROI digest (RoiDigestFunction) and the operator reports in
``triage_tools.reports``: a missing value shows as "-"."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

MISSING = "-"


def number(value: object) -> float | None:
    """A finite float, or None for anything else (None, bools, strings, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def shown(value: object, spec: str, *, scale: float = 1.0, prefix: str = "", suffix: str = "") -> str:
    """``value * scale`` formatted with ``spec`` (e.g. ".1f"), or MISSING."""
    found = number(value)
    return MISSING if found is None else f"{prefix}{found * scale:{spec}}{suffix}"


def integer(value: object) -> str:
    """``12``."""
    return shown(value, ".0f")


def percent(value: object, digits: int = 1) -> str:
    """A share as ``12.5%``."""
    return shown(value, f".{digits}f", scale=100, suffix="%")


def usd(value: object, digits: int) -> str:
    """``$0.0012`` with ``digits`` decimals."""
    return shown(value, f".{digits}f", prefix="$")


def hours(value: object) -> str:
    """``1.5 h``."""
    return shown(value, ".1f", suffix=" h")


def duration(minutes: object) -> str:
    """Minutes as ``45m``, ``3.5h`` or ``2.1d``."""
    found = number(minutes)
    if found is None:
        return MISSING
    if found < 90:
        return f"{found:.0f}m"
    if found < 48 * 60:
        return f"{found / 60:.1f}h"
    return f"{found / 1440:.1f}d"


def versus(value: str, baseline: str) -> str:
    """``value vs baseline``, or ``value`` alone when there is no baseline."""
    return value if baseline == MISSING else f"{value} vs {baseline}"


def ranked_counts(mapping: object) -> list[tuple[str, int]]:
    """A mapping of name -> count as pairs, highest count first, then by name (non-numbers left out)."""
    if not isinstance(mapping, Mapping):
        return []
    pairs = [(str(key), int(value)) for key, value in mapping.items() if number(value) is not None]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    """Fixed-width columns, two spaces apart: the first ``right_from`` columns left-aligned, the rest right."""
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i >= right_from else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(row) for row in rows)]
