"""Zendesk bodies (event-subscription envelope and trigger body) normalised to TicketEvent."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import load_event
from triage_gate.config import DEFAULT_ZENDESK_EVENT_TYPES
from triage_gate.errors import InvalidPayload
from triage_gate.intake.outcomes import Ignored, Parsed
from triage_gate.intake.zendesk import parse_zendesk
from triage_gate.messages import TicketEvent

RECEIVED = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
CREATED = "ingest__zendesk_ticket_created.json"
COMMENT = "ingest__zendesk_comment_added.json"
PRIORITY = "ingest__zendesk_priority_changed.json"
STAFF = "ingest__zendesk_staff_comment.json"
USER = "ingest__zendesk_user_created.json"
TRIGGER_CREATED = "ingest__zendesk_trigger_ticket_created.json"
TRIGGER_UPDATED = "ingest__zendesk_trigger_ticket_updated.json"


def _body(name: str) -> dict[str, Any]:
    return json.loads(load_event(name)["body"])


def _headers(name: str, **overrides: str) -> dict[str, str]:
    return {**load_event(name)["headers"], **overrides}


def _parse(
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    handled: frozenset[str] = DEFAULT_ZENDESK_EVENT_TYPES,
    max_text_chars: int = 32_768,
    raw_body: bytes | None = None,
) -> Parsed:
    return parse_zendesk(
        body,
        headers=headers or {},
        received_at=RECEIVED,
        handled_types=handled,
        max_text_chars=max_text_chars,
        raw_body=raw_body,
    )


def _event(name: str, **kwargs: Any) -> TicketEvent:
    parsed = _parse(_body(name), _headers(name), **kwargs)
    assert isinstance(parsed, TicketEvent), parsed
    return parsed


def _invalid_field(body: Any, headers: dict[str, str] | None = None) -> str | None:
    with pytest.raises(InvalidPayload) as caught:
        _parse(body, headers)
    return caught.value.field


# --- event-subscription envelope -----------------------------------------------------------------


def test_ticket_created_identifies_source_account_and_ticket() -> None:
    event = _event(CREATED)

    assert (event.source, event.account_id, event.ticket_id) == ("zendesk", "90817263", "40211")


def test_ticket_created_keeps_normalised_and_vendor_event_types() -> None:
    event = _event(CREATED)

    assert event.event_type == "ticket.created"
    assert event.vendor_event_type == "zen:event-type:ticket.created"


def test_ticket_created_dedupes_on_account_and_event_id() -> None:
    event = _event(CREATED)

    assert event.event_id == "3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
    assert event.dedupe_key == "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"


def test_ticket_created_occurred_at_is_envelope_time() -> None:
    event = _event(CREATED)

    assert event.occurred_at == datetime(2026, 11, 27, 9, 14, 58, tzinfo=UTC)
    assert event.received_at == RECEIVED


def test_ticket_created_text_is_description() -> None:
    event = _event(CREATED)

    assert event.subject == "Charged twice for the November invoice"
    assert event.text is not None
    assert event.text.startswith("Hi, my card was charged twice")
    assert event.text_truncated is False


def test_comment_added_text_is_comment_body_not_description() -> None:
    event = _event(COMMENT)

    assert event.text == "Still happening after the update: the export file ends at row 10000 every time."


def test_comment_added_does_not_copy_comment_into_changes() -> None:
    assert _event(COMMENT).changes == {}


def test_ticket_fields_lower_case_status_priority_and_type() -> None:
    fields = _event(COMMENT).fields

    assert (fields["status"], fields["priority"], fields["type"]) == ("open", "high", "problem")


def test_ticket_fields_keep_ids_tags_and_lower_cased_channel() -> None:
    fields = _event(CREATED).fields

    assert fields["group_id"] == "36002117"
    assert fields["organization_id"] == "5512"
    assert fields["tags"] == ["web_form"]
    assert fields["via_channel"] == "web_form"


def test_ticket_fields_via_channel_is_lower_cased() -> None:
    body = _body(CREATED)
    body["detail"]["via"] = {"channel": "EMAIL"}

    event = _parse(body)

    assert isinstance(event, TicketEvent)
    assert event.fields["via_channel"] == "email"


def test_priority_changed_records_the_change_and_has_no_text() -> None:
    event = _event(PRIORITY)

    assert event.event_type == "ticket.priority_changed"
    assert event.changes == {"current": "HIGH", "previous": "NORMAL"}
    assert event.text is None


def test_delivery_records_webhook_and_invocation_ids() -> None:
    event = _event(CREATED)

    assert event.delivery == {"webhook_id": "01JD4R7N2Q8VX5K3M9T6W1B0CZ", "invocation_id": "8812093347"}


def test_user_created_is_ignored_as_not_a_ticket_event() -> None:
    parsed = _parse(_body(USER), _headers(USER))

    assert parsed == Ignored("not_a_ticket_event", "zen:event-type:user.created")


def test_staff_comment_is_ignored() -> None:
    parsed = _parse(_body(STAFF), _headers(STAFF))

    assert parsed == Ignored("staff_comment", "zen:event-type:ticket.comment_added", "zendesk:40198")


def test_comment_without_author_is_classified() -> None:
    body = _body(COMMENT)
    del body["event"]["comment"]["author"]

    assert isinstance(_parse(body), TicketEvent)


def test_event_type_outside_handled_set_is_ignored() -> None:
    parsed = _parse(_body(COMMENT), handled=frozenset({"ticket.created"}))

    assert isinstance(parsed, Ignored)
    assert parsed.reason == "event_type_not_handled"
    assert parsed.correlation_id == "zendesk:40198"


def test_text_longer_than_max_is_truncated_and_flagged() -> None:
    body = _body(CREATED)
    body["detail"]["description"] = "x" * 300

    event = _parse(body, max_text_chars=256)

    assert isinstance(event, TicketEvent)
    assert event.text == "x" * 256
    assert event.text_truncated is True


def test_text_exactly_max_is_not_truncated() -> None:
    body = _body(CREATED)
    body["detail"]["description"] = "x" * 256

    event = _parse(body, max_text_chars=256)

    assert isinstance(event, TicketEvent)
    assert event.text == "x" * 256
    assert event.text_truncated is False


def test_comment_body_longer_than_max_is_truncated() -> None:
    body = _body(COMMENT)
    body["event"]["comment"]["body"] = "y" * 1000

    event = _parse(body, max_text_chars=256)

    assert isinstance(event, TicketEvent)
    assert (len(event.text or ""), event.text_truncated) == (256, True)


# --- trigger body --------------------------------------------------------------------------------


def test_trigger_created_normalises_to_ticket_created() -> None:
    event = _event(TRIGGER_CREATED)

    assert (event.source, event.account_id, event.ticket_id) == ("zendesk", "90817263", "40215")
    assert event.event_type == "ticket.created"
    assert event.vendor_event_type == "zendesk-trigger:ticket_created"


def test_trigger_created_occurred_at_is_created_at() -> None:
    assert _event(TRIGGER_CREATED).occurred_at == datetime(2026, 11, 27, 9, 40, tzinfo=UTC)


def test_trigger_fields_carry_channel_and_brand() -> None:
    fields = _event(TRIGGER_CREATED).fields

    assert fields == {"via_channel": "email", "brand": "Acme Cloud"}


@pytest.mark.parametrize("invocation_id", ["8812093512", "9999999999"])
def test_trigger_created_dedupe_key_is_based_on_ticket_id(invocation_id: str) -> None:
    headers = _headers(TRIGGER_CREATED, **{"x-zendesk-webhook-invocation-id": invocation_id})

    event = _parse(_body(TRIGGER_CREATED), headers)

    assert isinstance(event, TicketEvent)
    assert event.dedupe_key == "zendesk:trigger:40215:created"


def test_trigger_updated_dedupe_key_is_ticket_id_and_body_hash() -> None:
    raw = load_event(TRIGGER_UPDATED)["body"].encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()[:24]

    event = _parse(_body(TRIGGER_UPDATED), _headers(TRIGGER_UPDATED), raw_body=raw)

    assert isinstance(event, TicketEvent)
    assert event.event_type == "ticket.updated"
    assert event.event_id == f"40215:updated:{digest}"
    assert event.dedupe_key == f"zendesk:trigger:40215:updated:{digest}"


def test_trigger_updated_distinct_invocations_of_one_body_are_one_event() -> None:
    headers = _headers(TRIGGER_UPDATED, **{"x-zendesk-webhook-invocation-id": "8812099999"})

    again = _parse(_body(TRIGGER_UPDATED), headers)

    assert isinstance(again, TicketEvent)
    assert again.dedupe_key == _event(TRIGGER_UPDATED).dedupe_key


def test_trigger_accepts_integer_ticket_id() -> None:
    body = {**_body(TRIGGER_CREATED), "ticket_id": 40215}

    event = _parse(body, _headers(TRIGGER_CREATED))

    assert isinstance(event, TicketEvent)
    assert event.ticket_id == "40215"


# --- invalid payloads ----------------------------------------------------------------------------


def test_envelope_without_detail_id_names_detail_id() -> None:
    body = _body(CREATED)
    del body["detail"]["id"]

    assert _invalid_field(body) == "detail.id"


def test_envelope_with_boolean_ticket_id_names_detail_id() -> None:
    body = _body(CREATED)
    body["detail"]["id"] = True

    assert _invalid_field(body) == "detail.id"


def test_envelope_with_naive_time_names_time() -> None:
    body = {**_body(CREATED), "time": "2026-11-27T09:14:58"}

    assert _invalid_field(body) == "time"


def test_envelope_with_non_object_detail_names_detail() -> None:
    body = {**_body(CREATED), "detail": ["40211"]}

    assert _invalid_field(body) == "detail"


@pytest.mark.parametrize("ticket_id", ["abc", "{{ticket.id}}", "", "40215 "])
def test_trigger_with_bad_ticket_id_names_ticket_id(ticket_id: str) -> None:
    body = {**_body(TRIGGER_CREATED), "ticket_id": ticket_id}

    assert _invalid_field(body) == "ticket_id"


def test_trigger_with_event_outside_enum_names_event() -> None:
    body = {**_body(TRIGGER_CREATED), "event": "ticket_deleted"}

    assert _invalid_field(body) == "event"


@pytest.mark.parametrize(
    "body",
    [{"hello": "world"}, {"type": "ticket.created"}, {"source": "zendesk"}, {"type": 7}],
    ids=["unrelated", "type-without-prefix", "other-source", "non-string-type"],
)
def test_body_in_neither_format_names_type(body: dict[str, Any]) -> None:
    assert _invalid_field(body) == "type"


@pytest.mark.parametrize("body", [[], None, "text", 42], ids=["array", "null", "string", "number"])
def test_non_object_body_is_invalid(body: Any) -> None:
    assert _invalid_field(body) == "$"


def test_invalid_payload_message_names_the_field() -> None:
    body = _body(CREATED)
    del body["detail"]["id"]

    with pytest.raises(InvalidPayload, match=r"detail\.id"):
        _parse(body)


# --- known bugs: bad input must be a 400, not an unhandled exception (500) -----------------------


def test_comment_with_non_string_body_is_invalid_payload() -> None:
    body = _body(COMMENT)
    body["event"]["comment"]["body"] = 12345

    with pytest.raises(InvalidPayload):
        _parse(body)


def test_comment_with_non_object_author_is_invalid_payload() -> None:
    body = _body(COMMENT)
    body["event"]["comment"]["author"] = "Tomas Reyes"

    with pytest.raises(InvalidPayload):
        _parse(body)


def test_trigger_with_oversized_invocation_id_keeps_the_event_and_drops_the_header() -> None:
    # The header is unsigned and no longer part of any key: it cannot refuse a validly signed body.
    headers = _headers(TRIGGER_UPDATED, **{"x-zendesk-webhook-invocation-id": "9" * 2000})

    event = _parse(_body(TRIGGER_UPDATED), headers)

    assert isinstance(event, TicketEvent)
    assert "invocation_id" not in event.delivery


def _trigger_event(**extra: Any) -> TicketEvent:
    body = {k: v for k, v in _body(TRIGGER_CREATED).items() if k != "tags"} | extra
    parsed = _parse(body, _headers(TRIGGER_CREATED))
    assert isinstance(parsed, TicketEvent), parsed
    return parsed


def test_trigger_tags_are_carried_so_segment_rules_work_without_the_api():
    tagged = _trigger_event(tags="No_AI vip")
    untagged = _trigger_event(tags="")
    older = _trigger_event()

    assert tagged.fields["tags"] == ["no_ai", "vip"]
    assert untagged.fields["tags"] == []  # known to carry no tags: not "unknown"
    assert "tags" not in older.fields  # a trigger body written before tags were added
