"""Dedupe only on what the vendor signed: Zendesk trigger keys come from the signed body, never from the
unsigned X-Zendesk-* headers."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.builders import load_event
from tests.unit.intake_hardening.conftest import (
    CREATED_KEY,
    TRIGGER_CREATED,
    TRIGGER_UPDATED,
    Wired,
    _body,
    _call,
    _in_memory_service,
    _request,
    _zendesk,
)

# ======================================================== 2. dedupe only on what the vendor signed ==

UNSIGNED_HEADER_SETS = [
    {},
    {"x-zendesk-account-id": "11111111", "x-zendesk-webhook-invocation-id": "1", "x-zendesk-webhook-id": "A"},
    {"x-zendesk-account-id": "evil", "x-zendesk-webhook-invocation-id": "x" * 500, "x-zendesk-webhook-id": "B"},
]


def _body_hash(name: str) -> str:
    return hashlib.sha256(load_event(name)["body"].encode("utf-8")).hexdigest()[:24]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (TRIGGER_UPDATED, f"zendesk:trigger:40215:updated:{_body_hash(TRIGGER_UPDATED)}"),
        (TRIGGER_CREATED, "zendesk:trigger:40215:created"),
    ],
    ids=["ticket_updated", "ticket_created"],
)
def test_replayed_signed_trigger_body_is_duplicate_whatever_the_unsigned_headers(
    wired: Wired, name: str, key: str
) -> None:
    signed = _zendesk(name)  # one body, one signature
    answers = []
    for extra in UNSIGNED_HEADER_SETS:
        event = json.loads(json.dumps(signed))
        event["headers"].update(extra)
        status, answer, _ = _call(wired, event)
        assert status == 200
        answers.append(answer["events"][0])

    assert [a["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert {a["dedupe_key"] for a in answers} == {key}
    assert wired.sqs.keys() == [key]
    assert set(wired.dedupe.items) == {key}


def test_trigger_event_id_and_key_do_not_carry_the_account_header() -> None:
    service, _, queue = _in_memory_service()
    event = _zendesk(TRIGGER_UPDATED)
    event["headers"]["x-zendesk-account-id"] = "55555555"

    service.handle_zendesk(_request(event))

    [queued] = queue.messages
    assert queued.account_id == "55555555"  # informational
    assert queued.event_id == f"40215:updated:{_body_hash(TRIGGER_UPDATED)}"
    assert "55555555" not in queued.dedupe_key
    assert queued.delivery == {"webhook_id": "01JD4R7N2Q8VX5K3M9T6W1B0CZ", "invocation_id": "8812093577"}


@pytest.mark.parametrize(
    ("header", "account"),
    [("90817263", "90817263"), ("acme", "unknown"), ("9" * 21, "unknown"), ("", "unknown"), (None, "unknown")],
)
def test_trigger_account_id_is_the_header_only_when_it_is_digits(header: str | None, account: str) -> None:
    service, _, queue = _in_memory_service()
    event = _zendesk(TRIGGER_CREATED)
    if header is None:
        del event["headers"]["x-zendesk-account-id"]
    else:
        event["headers"]["x-zendesk-account-id"] = header

    service.handle_zendesk(_request(event))

    assert queue.messages[0].account_id == account
    assert queue.messages[0].dedupe_key == "zendesk:trigger:40215:created"


def test_two_different_signed_update_bodies_for_one_ticket_are_two_events(wired: Wired) -> None:
    first = {**_body(TRIGGER_UPDATED), "updated_at": "2026-11-27T10:00:00Z"}
    second = {**first, "updated_at": "2026-11-27T10:05:00Z"}

    answers = [_call(wired, _zendesk(TRIGGER_UPDATED, json.dumps(b)))[1] for b in (first, second)]

    assert [a["accepted"] for a in answers] == [1, 1]
    assert len(set(wired.sqs.keys())) == 2


def test_envelope_keys_stay_account_and_event_id(wired: Wired) -> None:
    event = _zendesk()
    event["headers"]["x-zendesk-account-id"] = "11111111"

    _, answer, _ = _call(wired, event)

    assert answer["events"][0]["dedupe_key"] == CREATED_KEY
