"""Nothing accepted is lost, nothing bad gets a 500: every event's queue message is built and checked
before its dedupe key is claimed, JSON depth and integer length are bounded, any failure after the
claim gives the claims back, and an unexpected exception answers 503 + Retry-After."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import make_secrets, make_settings
from tests.unit.intake_hardening.conftest import (
    COMMENT,
    CREATED,
    CREATED_KEY,
    HS_CHANGE_KEY,
    HS_CREATION_KEY,
    USER,
    ExplodingConfirmStore,
    ExplodingQueue,
    ExplodingSecrets,
    Wire,
    Wired,
    _body,
    _call,
    _hs_items,
    _hubspot,
    _in_memory_service,
    _metrics,
    _nested,
    _now,
    _request,
    _statuses,
    _zendesk,
)
from triage_gate.adapters import sqs_queue
from triage_gate.errors import InvalidPayload, MalformedJson
from triage_gate.intake import queueable
from triage_gate.intake.service import MAX_JSON_DEPTH, IntakeService
from triage_gate.messages import MAX_QUEUE_MESSAGE_BYTES, TicketEvent
from triage_tools.memory import InMemoryDedupeStore, InMemoryEventQueue, StaticSecrets

# ============================================ 1. nothing accepted is lost, nothing bad gets a 500 ==


def _batch_with_bad_change(value: str) -> list[dict[str, Any]]:
    creation, change = _hs_items()[:2]
    return [creation, {**change, "propertyValue": value}]


def test_service_rejects_alone_a_batch_event_holding_a_lone_surrogate() -> None:
    service, dedupe, queue = _in_memory_service()
    body = json.dumps(_batch_with_bad_change("\ud83d"))
    assert "\\ud83d" in body  # the JSON escape, as HubSpot would send it

    result = service.handle_hubspot(_request(_hubspot(body)))

    assert _statuses(result) == ["accepted", "rejected"]
    assert (result.outcomes[1].detail or "").startswith("[1].propertyValue: ")
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY]
    assert set(dedupe.items) == {HS_CREATION_KEY}  # the bad event's key was never claimed


def test_lone_surrogate_in_a_batch_is_200_and_the_retry_loses_nothing(wired: Wired) -> None:
    body = json.dumps(_batch_with_bad_change("\ud83d"))

    status, answer, _ = _call(wired, _hubspot(body))

    assert status == 200
    assert (answer["accepted"], answer["rejected"], answer["duplicates"]) == (1, 1, 0)
    assert answer["events"][0] == {"index": 0, "status": "accepted", "dedupe_key": HS_CREATION_KEY}
    assert answer["events"][1]["status"] == "rejected"
    assert answer["events"][1]["detail"].startswith("[1].propertyValue: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]
    assert wired.dedupe.items[HS_CREATION_KEY]["state"] == "queued"
    assert HS_CHANGE_KEY not in wired.dedupe.items

    status, answer, _ = _call(wired, _hubspot(body))  # HubSpot's retry of the same batch

    assert status == 200
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (0, 1, 1)
    assert wired.sqs.keys() == [HS_CREATION_KEY]


def test_lone_surrogate_in_a_zendesk_event_is_400_naming_the_field(wired: Wired) -> None:
    payload = _body(COMMENT)
    payload["event"]["comment"]["body"] = "Refund please \ud83d"

    status, answer, _ = _call(wired, _zendesk(COMMENT, json.dumps(payload)))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "event.comment.body")
    assert "surrogate" in answer["message"]
    assert wired.sqs.bodies == []
    assert wired.dedupe.items == {}


def test_service_names_the_field_of_a_lone_surrogate_in_a_zendesk_subject() -> None:
    service, dedupe, queue = _in_memory_service()
    payload = _body(CREATED)
    payload["detail"]["subject"] = "\udc00 charged twice"

    with pytest.raises(InvalidPayload) as caught:
        service.handle_zendesk(_request(_zendesk(CREATED, json.dumps(payload))))

    assert caught.value.field == "detail.subject"
    assert (queue.messages, dedupe.items) == ([], {})


def test_lone_surrogate_beyond_the_text_cut_is_not_carried_and_not_refused() -> None:
    service, _, queue = _in_memory_service(make_settings(max_text_chars=256))
    payload = _body(COMMENT)
    payload["event"]["comment"]["body"] = "x" * 300 + "\ud83d"

    result = service.handle_zendesk(_request(_zendesk(COMMENT, json.dumps(payload))))

    assert _statuses(result) == ["accepted"]
    assert queue.messages[0].text == "x" * 256


def test_noncharacter_sqs_refuses_is_rejected_alone_instead_of_a_503(wired: Wired) -> None:
    status, answer, _ = _call(wired, _hubspot(json.dumps(_batch_with_bad_change("\uffff"))))

    assert status == 200
    assert [e["status"] for e in answer["events"]] == ["accepted", "rejected"]
    assert answer["events"][1]["detail"].startswith("[1].propertyValue: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]
    assert set(wired.dedupe.items) == {HS_CREATION_KEY}


def test_batch_whose_only_ticket_event_cannot_be_queued_is_400(wired: Wired) -> None:
    creation = {**_hs_items()[0], "changeSource": "\ud83d"}

    status, answer, _ = _call(wired, _hubspot(json.dumps([creation])))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "[0].changeSource")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_zendesk_event_too_large_for_sqs_is_400_before_any_claim(wired: Wired) -> None:
    payload = _body(CREATED)
    payload["detail"]["subject"] = "x" * 300_000

    status, answer, _ = _call(wired, _zendesk(CREATED, json.dumps(payload)))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "$")
    assert str(MAX_QUEUE_MESSAGE_BYTES) in answer["message"]
    assert "subject" in answer["message"]
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def _change_of_queue_size(target: int) -> tuple[list[dict[str, Any]], int]:
    """A [creation, change] batch whose change event is ``target`` bytes as a queue message, or 1 less."""
    from triage_gate.intake.hubspot import parse_hubspot

    def size(n: int) -> int:
        batch = _batch_with_bad_change("v" * n)
        event = parse_hubspot(batch, received_at=_now(), handled_types=frozenset({"ticket.propertyChange"}))
        assert isinstance(event[1], TicketEvent)
        return queueable.queue_message_bytes(event[1])

    base = size(0)
    per_char = size(1) - base  # propertyValue is carried twice (fields and changes)
    n = (target - base) // per_char
    return _batch_with_bad_change("v" * n), size(n)


def test_batch_event_at_the_sqs_limit_is_queued_and_one_over_is_rejected_alone(wired: Wired) -> None:
    at_limit, size = _change_of_queue_size(MAX_QUEUE_MESSAGE_BYTES)
    assert MAX_QUEUE_MESSAGE_BYTES - 1 <= size <= MAX_QUEUE_MESSAGE_BYTES
    over, over_size = _change_of_queue_size(MAX_QUEUE_MESSAGE_BYTES + 2)
    assert over_size > MAX_QUEUE_MESSAGE_BYTES

    status, answer, _ = _call(wired, _hubspot(json.dumps(at_limit)))

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]  # SQS (the stub) took the largest one too

    over[1]["eventId"] += 1  # another event (not a redelivery), its key as long as before
    status, answer, _ = _call(wired, _hubspot(json.dumps(over)))

    assert status == 200
    assert [e["status"] for e in answer["events"]] == ["duplicate", "rejected"]
    assert answer["events"][1]["detail"].startswith("[1]: the event is ")
    assert len(wired.sqs.bodies) == 2


def test_queue_size_check_counts_what_the_sqs_adapter_sends() -> None:
    service, _, queue = _in_memory_service()
    service.handle_hubspot(_request(_hubspot()))
    service.handle_zendesk(_request(_zendesk(COMMENT)))

    for event in queue.messages:
        entry = sqs_queue._entry(0, event)
        assert entry["MessageBody"] == event.queue_body()
        assert sqs_queue._size(entry) == queueable.queue_message_bytes(event)


def test_json_nested_900_deep_is_refused_by_the_service_as_malformed_json() -> None:
    service, dedupe, queue = _in_memory_service()
    payload = {**_body(CREATED), "event": {"changes": _nested(900)}}

    with pytest.raises(MalformedJson, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        service.handle_zendesk(_request(_zendesk(CREATED, json.dumps(payload))))
    assert (queue.messages, dedupe.items) == ([], {})


@pytest.mark.parametrize("source", ["zendesk", "hubspot"])
def test_json_nested_900_deep_is_400_malformed_json_not_500(wired: Wired, source: str) -> None:
    if source == "zendesk":
        event = _zendesk(CREATED, json.dumps({**_body(CREATED), "event": {"changes": _nested(900)}}))
    else:
        event = _hubspot(json.dumps([{**_hs_items()[1], "extra": _nested(900)}]))

    status, answer, _ = _call(wired, event)

    assert (status, answer["error"]) == (400, "malformed_json")
    assert f"deeper than {MAX_JSON_DEPTH} levels" in answer["message"]
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_json_depth_limit_is_exact() -> None:
    service, _, _ = _in_memory_service()
    # The envelope is level 1 and "event" level 2, so the array takes the remaining levels.
    at_limit = {**_body(USER), "event": {"x": _nested(MAX_JSON_DEPTH - 2)}}
    over = {**_body(USER), "event": {"x": _nested(MAX_JSON_DEPTH - 1)}}

    assert _statuses(service.handle_zendesk(_request(_zendesk(USER, json.dumps(at_limit))))) == ["ignored"]
    with pytest.raises(MalformedJson):
        service.handle_zendesk(_request(_zendesk(USER, json.dumps(over))))


def test_integer_of_5000_digits_is_refused_by_the_service_as_malformed_json() -> None:
    service, _, _ = _in_memory_service()
    body = json.dumps(_body(CREATED)).replace('"account_id": 90817263', '"account_id": ' + "9" * 5000)

    with pytest.raises(MalformedJson, match="integer longer than"):
        service.handle_zendesk(_request(_zendesk(CREATED, body)))


@pytest.mark.parametrize("source", ["zendesk", "hubspot"])
def test_integer_of_5000_digits_is_400_malformed_json_not_500(wired: Wired, source: str) -> None:
    digits = "7" * 5000
    if source == "zendesk":
        event = _zendesk(CREATED, json.dumps(_body(CREATED)).replace("90817263", digits, 1))
    else:
        event = _hubspot(f'[{{"eventId": 1, "objectId": {digits}}}]')

    status, answer, _ = _call(wired, event)

    assert (status, answer["error"]) == (400, "malformed_json")
    assert "integer longer than" in answer["message"]
    assert wired.sqs.bodies == []


def test_any_exception_while_queueing_gives_the_claims_back() -> None:
    queue = ExplodingQueue()
    dedupe = InMemoryDedupeStore()
    service = IntakeService(make_settings(), StaticSecrets(make_secrets()), dedupe, queue)

    with pytest.raises(RuntimeError, match="boom"):
        service.handle_hubspot(_request(_hubspot()))
    assert dedupe.items == {}

    queue.explode = False
    result = service.handle_hubspot(_request(_hubspot()))  # HubSpot's retry

    assert _statuses(result) == ["accepted", "accepted", "ignored", "ignored"]
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY, HS_CHANGE_KEY]


def test_any_exception_while_confirming_gives_the_claims_back() -> None:
    dedupe = ExplodingConfirmStore()
    service = IntakeService(make_settings(), StaticSecrets(make_secrets()), dedupe, InMemoryEventQueue())

    with pytest.raises(RuntimeError, match="boom"):
        service.handle_zendesk(_request(_zendesk()))

    assert dedupe.items == {}


def test_unexpected_exception_after_the_claim_is_503_with_retry_after_and_the_retry_is_taken(
    wire: Wire, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    queue = ExplodingQueue()
    wired = wire(queue=queue)

    status, answer, headers = _call(wired, _zendesk())

    assert status == 503
    assert answer["error"] == "internal_error"
    assert "boom" not in json.dumps(answer)  # no internals in the answer
    assert 0 < int(headers["Retry-After"]) < 60
    assert wired.dedupe.items == {}
    [metric] = _metrics(capsys.readouterr().out, "WebhookUnavailable")
    assert (metric["Reason"], metric["Source"]) == ("internal_error", "zendesk")
    [logged] = [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
    assert logged.levelname == "ERROR"
    assert logged.exc_info is not None
    assert isinstance(logged.exc_info[1], RuntimeError)

    queue.explode = False
    status, answer, _ = _call(wired, _zendesk())  # Zendesk's retry

    assert (status, answer["accepted"]) == (200, 1)
    assert [m.dedupe_key for m in queue.messages] == [CREATED_KEY]


def test_unexpected_exception_before_the_claim_is_503_not_500(wire: Wire) -> None:
    wired = wire(secrets=ExplodingSecrets())

    status, answer, headers = _call(wired, _hubspot())

    assert (status, answer["error"]) == (503, "internal_error")
    assert "Retry-After" in headers
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})
