"""HubSpot webhook batches normalised to TicketEvents, Ignored and Invalid items."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import load_event
from triage_gate.config import DEFAULT_HUBSPOT_EVENT_TYPES
from triage_gate.errors import InvalidPayload
from triage_gate.intake.hubspot import parse_hubspot
from triage_gate.intake.outcomes import Ignored, Invalid, Parsed
from triage_gate.messages import TicketEvent

RECEIVED = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
BATCH = "ingest__hubspot_batch.json"


def _batch() -> list[dict[str, Any]]:
    return json.loads(load_event(BATCH)["body"])


def _creation() -> dict[str, Any]:
    return _batch()[0]


def _property_change() -> dict[str, Any]:
    return _batch()[1]


def _parse(body: Any, handled: frozenset[str] = DEFAULT_HUBSPOT_EVENT_TYPES) -> list[Parsed]:
    return parse_hubspot(body, received_at=RECEIVED, handled_types=handled)


def _only_event(item: dict[str, Any]) -> TicketEvent:
    [parsed] = _parse([item])
    assert isinstance(parsed, TicketEvent), parsed
    return parsed


def _invalid_field(body: Any) -> str | None:
    with pytest.raises(InvalidPayload) as caught:
        _parse(body)
    return caught.value.field


def test_sample_batch_yields_two_ticket_events_and_two_ignored() -> None:
    parsed = _parse(_batch())

    assert [type(p).__name__ for p in parsed] == ["TicketEvent", "TicketEvent", "Ignored", "Ignored"]


def test_ticket_deletion_is_ignored_as_not_handled() -> None:
    parsed = _parse(_batch())[2]

    assert parsed == Ignored("event_type_not_handled", "ticket.deletion", "hubspot:19800117")


def test_contact_creation_is_ignored_as_not_a_ticket_event() -> None:
    parsed = _parse(_batch())[3]

    assert parsed == Ignored("not_a_ticket_event", "contact.creation", "hubspot:77120045")


def test_creation_identifies_source_portal_and_ticket() -> None:
    event = _only_event(_creation())

    assert (event.source, event.account_id, event.ticket_id) == ("hubspot", "48213377", "19800231")
    assert event.event_id == "4120087731"


def test_creation_maps_to_ticket_created() -> None:
    event = _only_event(_creation())

    assert (event.event_type, event.vendor_event_type) == ("ticket.created", "ticket.creation")


def test_occurred_at_is_converted_from_milliseconds() -> None:
    event = _only_event(_creation())

    assert event.occurred_at == datetime(2026, 11, 27, 9, 14, tzinfo=UTC)


def test_creation_records_change_source_and_delivery() -> None:
    event = _only_event(_creation())

    assert event.fields == {"change_source": "CRM"}
    assert event.delivery == {"subscription_id": "2210481", "attempt": "0", "app_id": "3399120"}


def test_property_change_records_property_and_value() -> None:
    event = _only_event(_property_change())

    assert event.event_type == "ticket.property_changed"
    assert event.fields["hs_ticket_priority"] == "HIGH"
    assert event.changes == {"property": "hs_ticket_priority", "value": "HIGH"}


def test_dedupe_key_is_composite_of_portal_subscription_event_object_and_time() -> None:
    event = _only_event(_creation())

    assert event.dedupe_key == "hubspot:48213377:2210481:4120087731:19800231:1795770840000"


def test_same_event_id_on_another_object_is_a_distinct_event() -> None:
    # HubSpot: eventId alone "is not guaranteed to be unique".
    other = {**_creation(), "objectId": 19800999}

    first, second = _parse([_creation(), other])

    assert isinstance(first, TicketEvent)
    assert isinstance(second, TicketEvent)
    assert first.dedupe_key != second.dedupe_key


def test_event_type_is_accepted_instead_of_subscription_type() -> None:
    item = _creation()
    item["eventType"] = item.pop("subscriptionType")

    event = _only_event(item)

    assert event.event_type == "ticket.created"


def test_event_without_any_type_is_invalid() -> None:
    item = _creation()
    del item["subscriptionType"]

    assert _invalid_field([item]) == "[0]"


def test_event_type_outside_handled_set_is_ignored() -> None:
    [parsed] = _parse([_property_change()], handled=frozenset({"ticket.creation"}))

    assert isinstance(parsed, Ignored)
    assert parsed.reason == "event_type_not_handled"


def test_batch_of_exactly_100_is_accepted() -> None:
    assert len(_parse([_creation()] * 100)) == 100


def test_batch_over_100_is_invalid_payload() -> None:
    assert _invalid_field([_creation()] * 101) == "$"


def test_empty_batch_is_invalid_payload() -> None:
    assert _invalid_field([]) == "$"


@pytest.mark.parametrize("body", [{"eventId": 1}, None, "[]", 7], ids=["object", "null", "string", "number"])
def test_non_array_body_is_invalid_payload(body: Any) -> None:
    assert _invalid_field(body) == "$"


def test_one_invalid_event_among_valid_ones_is_reported_by_index() -> None:
    bad = _property_change()
    del bad["objectId"]

    parsed = _parse([_creation(), bad])

    assert isinstance(parsed[0], TicketEvent)
    assert isinstance(parsed[1], Invalid)
    assert (parsed[1].index, parsed[1].field) == (1, "[1].objectId")


def test_non_object_item_among_valid_ones_is_invalid_at_its_index() -> None:
    parsed = _parse([_creation(), "not an event"])

    assert parsed[1] == Invalid(1, "[1]", "[1]: expected a JSON object")


def test_boolean_id_is_invalid() -> None:
    bad = {**_creation(), "portalId": True}

    parsed = _parse([_creation(), bad])

    assert isinstance(parsed[1], Invalid)
    assert parsed[1].field == "[1].portalId"


def test_all_invalid_events_is_invalid_payload_naming_the_first() -> None:
    first, second = _creation(), _property_change()
    del first["objectId"]
    del second["eventId"]

    with pytest.raises(InvalidPayload) as caught:
        _parse([first, second])

    assert caught.value.field == "[0].objectId"


def test_negative_occurred_at_is_invalid() -> None:
    assert _invalid_field([{**_creation(), "occurredAt": -1}]) == "[0].occurredAt"


def test_far_future_occurred_at_is_invalid_payload() -> None:
    assert _invalid_field([{**_creation(), "occurredAt": 10**17}]) == "[0].occurredAt"
