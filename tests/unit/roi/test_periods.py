"""Weeks and time: ISO weeks, nearest-rank percentiles, --since parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage_gate.roi.periods import iso_week, parse_since, percentile, week_start

# --------------------------------------------------------------------------------------------- weeks and time


def test_iso_week_and_week_start() -> None:
    assert iso_week(datetime(2026, 11, 27, 12, tzinfo=UTC)) == "2026-W48"
    assert iso_week(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"  # ISO year, not calendar year
    assert iso_week(datetime(2026, 11, 23)) == "2026-W48"  # naive = UTC
    # Sunday 23:30 in New York is already Monday in UTC.
    new_york = datetime(2026, 11, 22, 23, 30, tzinfo=UTC).astimezone(UTC) + timedelta(hours=5)
    assert iso_week(new_york) == "2026-W48"
    assert week_start("2026-W48").isoformat() == "2026-11-23"
    with pytest.raises(ValueError, match="ISO week"):
        week_start("2026-48")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([40, 10, 30, 20, 100], 50) == 30  # ceil(2.5) = 3rd
    assert percentile([40, 10, 30, 20, 100], 90) == 100  # ceil(4.5) = 5th
    assert percentile([1, 2, 3, 4], 50) == 2  # ceil(2.0) = 2nd, no float creep


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("4w", NOW - timedelta(weeks=4)),
        ("36h", NOW - timedelta(hours=36)),
        (" 7D ", NOW - timedelta(days=7)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T06:30:00+02:00", datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
        ("2026-11-01T06:30:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    parsed = parse_since(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "7", "d7", "7x", "7 days", "yesterday", "2026-13-01", "2026/11/01", "-7d"])
def test_parse_since_rejects_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"7d.*2026-11-01|not a valid date"):
        parse_since(text, now=NOW)


def test_parse_since_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        parse_since("0d", now=NOW)
