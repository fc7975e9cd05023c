"""Weeks and times for the ROI figures: ISO weeks in UTC, ``--since`` periods, nearest-rank percentiles.

Pure functions (no clock unless ``parse_since`` is given none), standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

__all__ = ["iso_week", "parse_since", "parse_time", "percentile", "utc", "week_start", "weeks_between"]


def utc(dt: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_week(dt: datetime) -> str:
    """The ISO 8601 week of ``dt`` in UTC, e.g. ``"2026-W48"`` (naive datetimes are taken as UTC).

    The ISO year can differ from the calendar year around New Year: 2026-12-31 is in ``"2026-W53"``,
    2027-01-01 too.
    """
    year, week, _ = utc(dt).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """The Monday of an ISO week string made by :func:`iso_week`."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if not match:
        raise ValueError(f"not an ISO week like 2026-W48: {week!r}")
    return date.fromisocalendar(int(match[1]), int(match[2]), 1)


def weeks_between(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive (empty when ``last`` is earlier)."""
    day, end = week_start(first), week_start(last)
    weeks = []
    while day <= end:
        year, week, _ = day.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        day += timedelta(days=7)
    return weeks


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from a later-stage dict (``Z`` accepted, naive = UTC); ``None`` if absent or bad."""
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


_RELATIVE = re.compile(r"\s*(\d+)\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """The start of a report period, in UTC.

    ``"7d"`` (days), ``"4w"`` (weeks) or ``"36h"`` (hours) before ``now`` (default: the current time), or an
    ISO date (``"2026-11-01"``: midnight UTC) or ISO datetime (naive = UTC). Anything else, or a relative
    amount of zero, raises ``ValueError`` saying what is accepted.
    """
    raw = text if isinstance(text, str) else ""
    match = _RELATIVE.fullmatch(raw)
    if match:
        amount = int(match[1])
        if amount <= 0:
            raise ValueError(f"--since must reach back at least 1 {match[2].lower()}, got {text!r}")
        reference = utc(now) if now is not None else datetime.now(UTC)
        return reference - amount * _UNITS[match[2].lower()]
    candidate = raw.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate):
        try:
            day = date.fromisoformat(candidate)
        except ValueError as exc:
            raise ValueError(f"--since {text!r} is not a valid date: {exc}") from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ].+", candidate):
        parsed = parse_time(candidate)
        if parsed is not None:
            return parsed
    raise ValueError(
        f"--since {text!r} is not understood: use a relative period such as 7d, 4w or 36h, "
        "or a date such as 2026-11-01 (UTC)"
    )


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the ``ceil(p/100 * n)``-th smallest value (at least the first); ``None``
    for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered) / 100 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]
