"""The demo replays the events/ samples as happening now: every timestamp moves by one offset, the spacing
between them and their written form are kept, and nothing else in the body changes."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

from tests.builders import EVENTS_DIR
from triage_local.webhooks import Sample

NOW = datetime(2027, 3, 1, 12, 30, 15, tzinfo=UTC)


def test_a_zendesk_event_moves_to_now_with_its_format_kept() -> None:
    original = Sample.load(EVENTS_DIR / "ingest__zendesk_ticket_created.json")

    moved = json.loads(original.as_of(NOW).body)

    assert moved["time"] == "2027-03-01T12:30:15Z"
    assert moved["detail"]["created_at"] == "2027-03-01T12:30:15Z"
    before = json.loads(original.body)
    assert {k: v for k, v in moved["detail"].items() if not k.endswith("_at")} == {
        k: v for k, v in before["detail"].items() if not k.endswith("_at")
    }


def test_hubspot_occurred_at_moves_and_the_spacing_between_events_is_kept() -> None:
    original = Sample.load(EVENTS_DIR / "ingest__hubspot_batch.json")

    before = [e["occurredAt"] for e in json.loads(original.body)]
    after = [e["occurredAt"] for e in json.loads(original.as_of(NOW).body)]

    assert max(after) == int(NOW.timestamp() * 1000)
    assert [b - a for a, b in itertools.pairwise(after)] == [b - a for a, b in itertools.pairwise(before)]


def test_a_trigger_body_without_seconds_stays_without_seconds() -> None:
    original = Sample.load(EVENTS_DIR / "ingest__zendesk_trigger_ticket_created.json")

    assert json.loads(original.as_of(NOW).body)["created_at"] == "2027-03-01T12:30Z"


def test_the_same_now_gives_the_same_bytes_so_a_redelivery_is_still_a_duplicate() -> None:
    original = Sample.load(EVENTS_DIR / "ingest__zendesk_trigger_ticket_created.json")

    assert original.as_of(NOW).body == original.as_of(NOW).body
