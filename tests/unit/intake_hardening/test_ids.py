"""Ticket, account and portal ids are digits at intake (they end up in vendor API URLs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.intake_hardening.conftest import (
    CREATED,
    HS_CREATION_KEY,
    TRIGGER_CREATED,
    Wired,
    _body,
    _call,
    _hs_items,
    _hubspot,
    _in_memory_service,
    _request,
    _zendesk,
)
from triage_gate.messages import TicketEvent
from triage_gate.records import ValidationError

# ================================================================ 3. ids are validated at intake ==

BAD_IDS = ["40198/../../users/900001", "abc", "\u0664\u0660\u0662\u0661\u0661", "40211\n", "1" * 21, -1, "", 1.5]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_zendesk_envelope_ticket_id_must_be_digits(wired: Wired, bad: Any) -> None:
    payload = _body(CREATED)
    payload["detail"]["id"] = bad

    status, answer, _ = _call(wired, _zendesk(CREATED, json.dumps(payload)))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "detail.id")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


@pytest.mark.parametrize("good", [40211, "40211", "9" * 20])
def test_zendesk_envelope_ticket_id_as_integer_or_digit_string_is_taken(wired: Wired, good: Any) -> None:
    payload = _body(CREATED)
    payload["detail"]["id"] = good

    status, answer, _ = _call(wired, _zendesk(CREATED, json.dumps(payload)))

    assert (status, answer["accepted"]) == (200, 1)
    assert TicketEvent.from_json(wired.sqs.bodies[0]).ticket_id == str(good)


@pytest.mark.parametrize("bad", ["acme", "90817263/..", "1" * 21, True])
def test_zendesk_envelope_account_id_must_be_digits(wired: Wired, bad: Any) -> None:
    status, answer, _ = _call(wired, _zendesk(CREATED, json.dumps({**_body(CREATED), "account_id": bad})))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "account_id")
    assert wired.sqs.bodies == []


@pytest.mark.parametrize("bad", ["40215/../../users/1", "1" * 21, "\u0664\u0660"])
def test_zendesk_trigger_ticket_id_must_be_1_to_20_digits(wired: Wired, bad: str) -> None:
    body = json.dumps({**_body(TRIGGER_CREATED), "ticket_id": bad})
    status, answer, _ = _call(wired, _zendesk(TRIGGER_CREATED, body))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "ticket_id")
    assert wired.sqs.bodies == []


@pytest.mark.parametrize("field", ["objectId", "portalId"])
@pytest.mark.parametrize("bad", ["19800231/../../contacts/1", "abc", "1" * 21, -3])
def test_hubspot_bad_id_rejects_that_event_alone(wired: Wired, field: str, bad: Any) -> None:
    creation, change = _hs_items()[:2]

    status, answer, _ = _call(wired, _hubspot(json.dumps([creation, {**change, field: bad}])))

    assert status == 200
    assert [e["status"] for e in answer["events"]] == ["accepted", "rejected"]
    assert answer["events"][1]["detail"].startswith(f"[1].{field}: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]


def test_hubspot_batch_of_only_a_bad_object_id_is_400_naming_it(wired: Wired) -> None:
    bad = {**_hs_items()[0], "objectId": "19800231/../../contacts/1"}

    status, answer, _ = _call(wired, _hubspot(json.dumps([bad])))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "[0].objectId")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_ticket_event_ticket_id_must_be_digits() -> None:
    service, _, queue = _in_memory_service()
    service.handle_zendesk(_request(_zendesk()))
    message = json.loads(queue.messages[0].queue_body())

    assert TicketEvent.from_data(message).ticket_id == "40211"
    for bad in ("40198/../../users/900001", "40211\n", "\u0664\u0660", "1" * 21, ""):
        with pytest.raises(ValidationError):
            TicketEvent.from_data({**message, "ticket_id": bad})
