"""The sandboxes' generated history: realistic shares and delays, varied texts, timestamps relative to now."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from triage_local.sandboxes.history import (
    SETTLED,
    History,
    generate_history,
    in_business_hours,
    next_opening,
    read_seed,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def history() -> History:
    return generate_history("zendesk", count=3000, months=3, seed=7, now=NOW)


def test_same_seed_same_history_and_another_seed_another() -> None:
    first = generate_history("hubspot", count=50, seed=3, now=NOW)

    assert first == generate_history("hubspot", count=50, seed=3, now=NOW)
    assert first.tickets != generate_history("hubspot", count=50, seed=4, now=NOW).tickets


def test_everything_happens_within_the_months_before_now_and_settles_before_it(history: History) -> None:
    created = [t.created_at for t in history.tickets]

    assert created == sorted(created)  # numbered in creation order
    assert min(created) >= NOW - timedelta(days=90)
    assert max(t.updated_at for t in history.tickets) <= NOW - SETTLED
    assert all(t.first_assigned_at is None or t.first_assigned_at >= t.created_at for t in history.tickets)


def test_shares_of_rerouted_deleted_merged_and_unrouted_tickets(history: History) -> None:
    fates = Counter(t.fate for t in history.tickets)
    rerouted = sum(t.final_rerouted for t in history.tickets) / len(history.tickets)

    assert 0.08 <= rerouted <= 0.12
    assert 10 <= fates["deleted"] <= 60
    assert 20 <= fates["merged"] <= 80
    assert 30 <= fates["unrouted"] <= 100
    assert 40 <= sum(1 for t in history.tickets if t.later) <= 160  # updated again during an export


def test_texts_are_varied_not_verbatim_seed_rows(history: History) -> None:
    seeds = {example.text for example in read_seed("zendesk")}
    texts = [t.text for t in history.tickets]

    assert sum(text in seeds for text in texts) / len(texts) < 0.1
    assert len(set(texts)) / len(texts) > 0.9
    assert any("@" in text for text in texts)
    assert any("ACC-" in text for text in texts)


def test_assignment_follows_business_hours_with_a_long_tail(history: History) -> None:
    assigned = [(t.created_at, t.first_assigned_at) for t in history.tickets if t.first_assigned_at is not None]
    delays = [(first - created).total_seconds() / 60 for created, first in assigned]
    in_hours = [(first - created).total_seconds() / 60 for created, first in assigned if in_business_hours(created)]
    after_hours = [(created, first) for created, first in assigned if not in_business_hours(created)]

    assert 10 <= statistics.median(in_hours) <= 40  # picked up within minutes while the desk is staffed
    assert statistics.median(delays) < statistics.quantiles(delays, n=10)[-1] / 5  # p90 far above p50
    assert after_hours
    assert all(first >= next_opening(created) for created, first in after_hours)  # nobody there at night
    assert sum(in_business_hours(t.created_at) for t in history.tickets) > len(history.tickets) / 2


def test_next_opening_skips_nights_and_weekends() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)

    assert next_opening(friday_evening) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert next_opening(datetime(2026, 11, 25, 7, 0, tzinfo=UTC)) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert next_opening(datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
