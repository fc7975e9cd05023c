"""Number formatting shared by the terminal and HTML reports (eval, ROI): a missing value shows as "-"."""

from __future__ import annotations

import math

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
