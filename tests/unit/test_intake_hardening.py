"""Intake hardening, through IntakeService and through handle_webhook_event.

1. Nothing accepted is lost, nothing bad gets a 500: every event's queue message is built and checked
   before its dedupe key is claimed, JSON depth and integer length are bounded, any failure after the
   claim gives the claims back, and an unexpected exception answers 503 + Retry-After.
2. Dedupe only on what the vendor signed: Zendesk trigger keys come from the signed body, never from the
   unsigned X-Zendesk-* headers.
3. Ticket, account and portal ids are digits at intake (they end up in vendor API URLs).
4. HubSpot v3: escapes decoded in the whole URI; without a configured URL, the URL checked is API
   Gateway's own (requestContext.domainName), never the Host / X-Forwarded-* headers.

The handler tests queue through the real SqsEventQueue over a stub SQS client that refuses what SQS
refuses, so what reaches "the queue" is exactly what SendMessageBatch would take.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest
from pydantic import ValidationError

from tests.factories import (
    HUBSPOT_SECRET,
    event_with_body,
    load_event,
    make_secrets,
    make_settings,
    sign_hubspot,
    sign_zendesk,
)
from triage_gate import wiring
from triage_gate.adapters import sqs_queue
from triage_gate.adapters.memory import InMemoryDedupeStore, InMemoryEventQueue, StaticSecrets
from triage_gate.adapters.sqs_queue import SqsEventQueue
from triage_gate.config import IngestSettings, VendorSecrets
from triage_gate.errors import InvalidPayload, InvalidSignature, MalformedJson
from triage_gate.intake import queueable, signatures
from triage_gate.intake.endpoint import handle_webhook_event
from triage_gate.intake.http import WebhookRequest
from triage_gate.intake.outcomes import IntakeResult
from triage_gate.intake.service import MAX_JSON_DEPTH, IntakeService
from triage_gate.messages import MAX_QUEUE_MESSAGE_BYTES, TicketEvent
from triage_gate.ports import EventQueue

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/triage"
CREATED = "ingest__zendesk_ticket_created.json"
COMMENT = "ingest__zendesk_comment_added.json"
USER = "ingest__zendesk_user_created.json"
TRIGGER_CREATED = "ingest__zendesk_trigger_ticket_created.json"
TRIGGER_UPDATED = "ingest__zendesk_trigger_ticket_updated.json"
BATCH = "ingest__hubspot_batch.json"
CREATED_KEY = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
HS_CREATION_KEY = "hubspot:48213377:2210481:4120087731:19800231:1795770840000"
HS_CHANGE_KEY = "hubspot:48213377:2210482:4120087995:19800231:1795770846000"
GATEWAY_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
# What SQS refuses in a message body (it takes #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
_SQS_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# ------------------------------------------------------------------------------------------- fakes
class StubSqs:
    """SendMessageBatch as SQS answers it: too large or unsendable entries fail as sender faults."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ok: list[dict[str, str]] = []
        failed: list[dict[str, Any]] = []
        for entry in Entries:
            body = entry["MessageBody"]
            attributes = sum(
                len(name) + len(value["DataType"]) + len(value["StringValue"])
                for name, value in entry["MessageAttributes"].items()
            )
            size = len(body.encode("utf-8", "surrogatepass")) + attributes
            if size > MAX_QUEUE_MESSAGE_BYTES or _SQS_REFUSED.search(body):
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidParameterValue"})
            else:
                self.bodies.append(body)
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def keys(self) -> list[str]:
        return [TicketEvent.model_validate_json(b).dedupe_key for b in self.bodies]


class ExplodingQueue(InMemoryEventQueue):
    """Raises something no adapter documents (a bug, a library surprise) while ``explode`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.explode = True

    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        if self.explode:
            raise RuntimeError("boom: unexpected failure inside the queue adapter")
        return super().send(events)


class ExplodingConfirmStore(InMemoryDedupeStore):
    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        raise RuntimeError("boom: unexpected failure while confirming")


class ExplodingSecrets:
    def get(self) -> VendorSecrets:
        raise RuntimeError("boom: unexpected failure reading secrets")


@dataclass
class Wired:
    service: IntakeService
    dedupe: InMemoryDedupeStore
    sqs: StubSqs


Wire = Callable[..., Wired]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    """Point handle_webhook_event at an IntakeService over SqsEventQueue(StubSqs) and an in-memory store."""
    monkeypatch.setenv("TRIAGE_QUEUE_URL", QUEUE_URL)
    monkeypatch.setenv("DEDUPE_TABLE_NAME", "dedupe")

    def make(
        settings: IngestSettings | None = None,
        *,
        dedupe: InMemoryDedupeStore | None = None,
        queue: EventQueue | None = None,
        secrets: Any = None,
    ) -> Wired:
        sqs = StubSqs()
        store = dedupe or InMemoryDedupeStore()
        service = IntakeService(
            settings or make_settings(),
            secrets or StaticSecrets(make_secrets()),
            store,
            queue or SqsEventQueue(QUEUE_URL, sqs),
            clock=_now,
        )
        monkeypatch.setattr(wiring, "intake_service", lru_cache(maxsize=1)(lambda: service))
        return Wired(service, store, sqs)

    return make


@pytest.fixture
def wired(wire: Wire) -> Wired:
    return wire()


def _now() -> datetime:
    """Now, always with microseconds: received_at then serialises to the same length every time."""
    return datetime.now(UTC).replace(microsecond=123_456)


def _call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = handle_webhook_event(event)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def _zendesk(name: str = CREATED, body: Any = None) -> dict[str, Any]:
    return sign_zendesk(load_event(name) if body is None else event_with_body(name, body))


def _hubspot(body: Any = None) -> dict[str, Any]:
    return sign_hubspot(load_event(BATCH) if body is None else event_with_body(BATCH, body))


def _body(name: str) -> Any:
    return json.loads(load_event(name)["body"])


def _hs_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _body(BATCH)
    return items


def _statuses(result: IntakeResult) -> list[str]:
    return [o.status for o in result.outcomes]


def _metrics(out: str, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line and name in line]


def _in_memory_service(settings: IngestSettings | None = None) -> tuple[IntakeService, InMemoryDedupeStore, Any]:
    dedupe, queue = InMemoryDedupeStore(), InMemoryEventQueue()
    service = IntakeService(settings or make_settings(), StaticSecrets(make_secrets()), dedupe, queue)
    return service, dedupe, queue


def _request(event: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest.from_apigw_v2(event)


def _nested(depth: int) -> Any:
    """A JSON value nesting ``depth`` arrays."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


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

    status, answer, _ = _call(_hubspot(body))

    assert status == 200
    assert (answer["accepted"], answer["rejected"], answer["duplicates"]) == (1, 1, 0)
    assert answer["events"][0] == {"index": 0, "status": "accepted", "dedupe_key": HS_CREATION_KEY}
    assert answer["events"][1]["status"] == "rejected"
    assert answer["events"][1]["detail"].startswith("[1].propertyValue: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]
    assert wired.dedupe.items[HS_CREATION_KEY]["state"] == "queued"
    assert HS_CHANGE_KEY not in wired.dedupe.items

    status, answer, _ = _call(_hubspot(body))  # HubSpot's retry of the same batch

    assert status == 200
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (0, 1, 1)
    assert wired.sqs.keys() == [HS_CREATION_KEY]


def test_lone_surrogate_in_a_zendesk_event_is_400_naming_the_field(wired: Wired) -> None:
    payload = _body(COMMENT)
    payload["event"]["comment"]["body"] = "Refund please \ud83d"

    status, answer, _ = _call(_zendesk(COMMENT, json.dumps(payload)))

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
    status, answer, _ = _call(_hubspot(json.dumps(_batch_with_bad_change("\uffff"))))

    assert status == 200
    assert [e["status"] for e in answer["events"]] == ["accepted", "rejected"]
    assert answer["events"][1]["detail"].startswith("[1].propertyValue: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]
    assert set(wired.dedupe.items) == {HS_CREATION_KEY}


def test_batch_whose_only_ticket_event_cannot_be_queued_is_400(wired: Wired) -> None:
    creation = {**_hs_items()[0], "changeSource": "\ud83d"}

    status, answer, _ = _call(_hubspot(json.dumps([creation])))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "[0].changeSource")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_zendesk_event_too_large_for_sqs_is_400_before_any_claim(wired: Wired) -> None:
    payload = _body(CREATED)
    payload["detail"]["subject"] = "x" * 300_000

    status, answer, _ = _call(_zendesk(CREATED, json.dumps(payload)))

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

    status, answer, _ = _call(_hubspot(json.dumps(at_limit)))

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]  # SQS (the stub) took the largest one too

    over[1]["eventId"] += 1  # another event (not a redelivery), its key as long as before
    status, answer, _ = _call(_hubspot(json.dumps(over)))

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

    status, answer, _ = _call(event)

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

    status, answer, _ = _call(event)

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

    status, answer, headers = _call(_zendesk())

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
    status, answer, _ = _call(_zendesk())  # Zendesk's retry

    assert (status, answer["accepted"]) == (200, 1)
    assert [m.dedupe_key for m in queue.messages] == [CREATED_KEY]


def test_unexpected_exception_before_the_claim_is_503_not_500(wire: Wire) -> None:
    wired = wire(secrets=ExplodingSecrets())

    status, answer, headers = _call(_hubspot())

    assert (status, answer["error"]) == (503, "internal_error")
    assert "Retry-After" in headers
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


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
        status, answer, _ = _call(event)
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

    answers = [_call(_zendesk(TRIGGER_UPDATED, json.dumps(b)))[1] for b in (first, second)]

    assert [a["accepted"] for a in answers] == [1, 1]
    assert len(set(wired.sqs.keys())) == 2


def test_envelope_keys_stay_account_and_event_id(wired: Wired) -> None:
    event = _zendesk()
    event["headers"]["x-zendesk-account-id"] = "11111111"

    _, answer, _ = _call(event)

    assert answer["events"][0]["dedupe_key"] == CREATED_KEY


# ================================================================ 3. ids are validated at intake ==

BAD_IDS = ["40198/../../users/900001", "abc", "\u0664\u0660\u0662\u0661\u0661", "40211\n", "1" * 21, -1, "", 1.5]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_zendesk_envelope_ticket_id_must_be_digits(wired: Wired, bad: Any) -> None:
    payload = _body(CREATED)
    payload["detail"]["id"] = bad

    status, answer, _ = _call(_zendesk(CREATED, json.dumps(payload)))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "detail.id")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


@pytest.mark.parametrize("good", [40211, "40211", "9" * 20])
def test_zendesk_envelope_ticket_id_as_integer_or_digit_string_is_taken(wired: Wired, good: Any) -> None:
    payload = _body(CREATED)
    payload["detail"]["id"] = good

    status, answer, _ = _call(_zendesk(CREATED, json.dumps(payload)))

    assert (status, answer["accepted"]) == (200, 1)
    assert TicketEvent.model_validate_json(wired.sqs.bodies[0]).ticket_id == str(good)


@pytest.mark.parametrize("bad", ["acme", "90817263/..", "1" * 21, True])
def test_zendesk_envelope_account_id_must_be_digits(wired: Wired, bad: Any) -> None:
    status, answer, _ = _call(_zendesk(CREATED, json.dumps({**_body(CREATED), "account_id": bad})))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "account_id")
    assert wired.sqs.bodies == []


@pytest.mark.parametrize("bad", ["40215/../../users/1", "1" * 21, "\u0664\u0660"])
def test_zendesk_trigger_ticket_id_must_be_1_to_20_digits(wired: Wired, bad: str) -> None:
    status, answer, _ = _call(_zendesk(TRIGGER_CREATED, json.dumps({**_body(TRIGGER_CREATED), "ticket_id": bad})))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "ticket_id")
    assert wired.sqs.bodies == []


@pytest.mark.parametrize("field", ["objectId", "portalId"])
@pytest.mark.parametrize("bad", ["19800231/../../contacts/1", "abc", "1" * 21, -3])
def test_hubspot_bad_id_rejects_that_event_alone(wired: Wired, field: str, bad: Any) -> None:
    creation, change = _hs_items()[:2]

    status, answer, _ = _call(_hubspot(json.dumps([creation, {**change, field: bad}])))

    assert status == 200
    assert [e["status"] for e in answer["events"]] == ["accepted", "rejected"]
    assert answer["events"][1]["detail"].startswith(f"[1].{field}: ")
    assert wired.sqs.keys() == [HS_CREATION_KEY]


def test_hubspot_batch_of_only_a_bad_object_id_is_400_naming_it(wired: Wired) -> None:
    bad = {**_hs_items()[0], "objectId": "19800231/../../contacts/1"}

    status, answer, _ = _call(_hubspot(json.dumps([bad])))

    assert (status, answer["error"], answer["field"]) == (400, "invalid_payload", "[0].objectId")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_ticket_event_ticket_id_must_be_digits() -> None:
    service, _, queue = _in_memory_service()
    service.handle_zendesk(_request(_zendesk()))
    message = json.loads(queue.messages[0].queue_body())

    assert TicketEvent.model_validate(message).ticket_id == "40211"
    for bad in ("40198/../../users/900001", "40211\n", "\u0664\u0660", "1" * 21, ""):
        with pytest.raises(ValidationError):
            TicketEvent.model_validate({**message, "ticket_id": bad})


# ================================================================ 4. HubSpot v3 request URI =========

TOKEN_URL = "https://x.test/webhooks/hubspot?token=abc%3Adef"


def _hubspot_signed_as_hubspot_does(event: dict[str, Any], decoded_uri: str) -> dict[str, Any]:
    """HubSpot's rule, written out: HMAC over method + the URI with its escapes decoded + body + ms."""
    ts = str(int(datetime.now(UTC).timestamp() * 1000))
    message = b"POST" + decoded_uri.encode() + event["body"].encode("utf-8") + ts.encode()
    signature = base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), message, hashlib.sha256).digest()).decode()
    event["headers"].update({"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": ts})
    return event


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        (TOKEN_URL, "https://x.test/webhooks/hubspot?token=abc:def"),
        ("https://x.test/webhooks/hubspot?token=abc%3adef", "https://x.test/webhooks/hubspot?token=abc:def"),
        (
            "https://x.test/a%2Fb%40c?q=%21%24%27%28%29%2a%2C%3B%3F%2f&keep=%25%20%3D",
            "https://x.test/a/b@c?q=!$'()*,;?/&keep=%25%20%3D",
        ),
        ("https://x.test/%253A", "https://x.test/%253A"),  # decoded once: %25 is not in HubSpot's list
    ],
)
def test_canonical_hubspot_uri_decodes_the_listed_escapes_in_the_whole_uri(uri: str, canonical: str) -> None:
    assert signatures.canonical_hubspot_uri(uri) == canonical


def test_service_verifies_a_batch_signed_for_a_target_url_with_an_escaped_query() -> None:
    service, dedupe, queue = _in_memory_service(make_settings(hubspot_webhook_url=TOKEN_URL))
    event = _hubspot_signed_as_hubspot_does(load_event(BATCH), "https://x.test/webhooks/hubspot?token=abc:def")

    result = service.handle_hubspot(_request(event))

    assert result.count("accepted") == 2
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY, HS_CHANGE_KEY]
    assert set(dedupe.items) == {HS_CREATION_KEY, HS_CHANGE_KEY}


def test_handler_verifies_a_batch_signed_for_a_target_url_with_an_escaped_query(wire: Wire) -> None:
    wired = wire(make_settings(hubspot_webhook_url=TOKEN_URL))
    event = _hubspot_signed_as_hubspot_does(load_event(BATCH), "https://x.test/webhooks/hubspot?token=abc:def")

    status, answer, _ = _call(event)

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]


def _spoofed_host_event(query: str = "a=1") -> dict[str, Any]:
    event = load_event(BATCH)
    event["rawQueryString"] = query
    event["headers"].update({"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"})
    assert event["requestContext"]["domainName"] == GATEWAY_DOMAIN
    return event


def test_without_a_configured_url_the_gateway_domain_url_is_checked_not_the_host_header(wire: Wire) -> None:
    wired = wire(make_settings(hubspot_webhook_url=None, public_base_url=None))
    gateway_url = f"https://{GATEWAY_DOMAIN}/webhooks/hubspot?a=1"

    status, answer, _ = _call(_hubspot_signed_as_hubspot_does(_spoofed_host_event(), gateway_url))

    assert (status, answer["accepted"]) == (200, 2)
    assert wired.sqs.keys() == [HS_CREATION_KEY, HS_CHANGE_KEY]


@pytest.mark.parametrize(
    "host_url", ["http://evil.example/webhooks/hubspot?a=1", "https://evil.example/webhooks/hubspot?a=1"]
)
def test_signature_for_the_host_header_url_is_refused(wire: Wire, host_url: str) -> None:
    wired = wire(make_settings(hubspot_webhook_url=None, public_base_url=None))

    status, answer, _ = _call(_hubspot_signed_as_hubspot_does(_spoofed_host_event(), host_url))

    assert (status, answer["error"]) == (401, "invalid_signature")
    assert (wired.sqs.bodies, wired.dedupe.items) == ([], {})


def test_service_checks_https_gateway_domain_url_even_when_forwarded_proto_says_http() -> None:
    service, _, _ = _in_memory_service(make_settings(hubspot_webhook_url=None, public_base_url=None))
    request = _request(_spoofed_host_event("a=1&b=%3A"))

    assert service.hubspot_uri(request) == f"https://{GATEWAY_DOMAIN}/webhooks/hubspot?a=1&b=%3A"
    with pytest.raises(InvalidSignature):
        service.handle_hubspot(
            _request(_hubspot_signed_as_hubspot_does(_spoofed_host_event(), "http://evil.example/webhooks/hubspot?a=1"))
        )


def test_without_a_configured_url_nor_a_gateway_domain_it_is_503_misconfigured(wire: Wire) -> None:
    wire(make_settings(hubspot_webhook_url=None, public_base_url=None))
    event = _hubspot()
    del event["requestContext"]["domainName"]

    status, answer, _ = _call(event)

    assert (status, answer["error"]) == (503, "misconfigured")
