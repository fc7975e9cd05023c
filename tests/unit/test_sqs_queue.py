"""SqsEventQueue over a recording fake SQS client: chunking, retries, what counts as lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from triage_gate.adapters import sqs_queue
from triage_gate.adapters.sqs_queue import SqsEventQueue
from triage_gate.messages import TicketEvent

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/triage"
T0 = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
Response = dict[str, Any] | Exception | Callable[[list[dict[str, Any]]], dict[str, Any]]


class FakeSqs:
    """Records every SendMessageBatch call; answers with scripted responses, then success."""

    def __init__(self, *responses: Response) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.queue_urls: list[str] = []
        self._responses = list(responses)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.queue_urls.append(QueueUrl)
        self.calls.append(Entries)
        response = self._responses.pop(0) if self._responses else None
        if isinstance(response, Exception):
            raise response
        if callable(response):
            return response(Entries)
        if response is not None:
            return response
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _fail(*ids: str, sender_fault: bool = False) -> dict[str, Any]:
    failed = [{"Id": i, "Code": "InternalError", "SenderFault": sender_fault} for i in ids]
    return {"Successful": [], "Failed": failed}


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendMessageBatch")


def _event(n: int, text: str | None = None) -> TicketEvent:
    return TicketEvent(
        source="zendesk",
        account_id="90817263",
        ticket_id=str(40000 + n),
        event_type="ticket.created",
        vendor_event_type="zen:event-type:ticket.created",
        event_id=f"evt-{n}",
        occurred_at=T0,
        received_at=T0,
        dedupe_key=f"zendesk:90817263:evt-{n}",
        text=text,
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(sqs_queue, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


def test_send_uses_the_configured_queue_url(sleeps: list[float]) -> None:
    sqs = FakeSqs()

    SqsEventQueue(QUEUE_URL, sqs).send([_event(1)])

    assert sqs.queue_urls == [QUEUE_URL]


def test_entry_body_is_the_ticket_event_json() -> None:
    sqs = FakeSqs()
    event = _event(1)

    SqsEventQueue(QUEUE_URL, sqs).send([event])

    [[entry]] = sqs.calls
    assert TicketEvent.from_json(entry["MessageBody"]) == event


def test_entry_carries_dedupe_correlation_and_schema_attributes() -> None:
    sqs = FakeSqs()

    SqsEventQueue(QUEUE_URL, sqs).send([_event(1)])

    attributes = sqs.calls[0][0]["MessageAttributes"]
    assert attributes["dedupe_key"]["StringValue"] == "zendesk:90817263:evt-1"
    assert attributes["correlation_id"]["StringValue"] == "zendesk:40001"
    assert attributes["schema_version"] == {"DataType": "Number", "StringValue": "1"}


def test_entries_sent_to_sqs_have_only_sqs_fields() -> None:
    sqs = FakeSqs()

    SqsEventQueue(QUEUE_URL, sqs).send([_event(1)])

    assert set(sqs.calls[0][0]) == {"Id", "MessageBody", "MessageAttributes"}


def test_send_chunks_into_batches_of_at_most_ten() -> None:
    sqs = FakeSqs()

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(n) for n in range(25)])

    assert [len(call) for call in sqs.calls] == [10, 10, 5]
    assert failed == []


def test_entry_ids_are_unique_within_each_batch() -> None:
    sqs = FakeSqs()

    SqsEventQueue(QUEUE_URL, sqs).send([_event(n) for n in range(25)])

    assert all(len({e["Id"] for e in call}) == len(call) for call in sqs.calls)


def test_send_chunks_so_each_batch_stays_under_256_kib() -> None:
    sqs = FakeSqs()
    events = [_event(n, text="x" * 100_000) for n in range(3)]

    SqsEventQueue(QUEUE_URL, sqs).send(events)

    assert [len(call) for call in sqs.calls] == [2, 1]
    for call in sqs.calls:
        assert sum(len(e["MessageBody"].encode()) for e in call) <= 256 * 1024


def test_send_with_no_events_makes_no_call() -> None:
    sqs = FakeSqs()

    assert SqsEventQueue(QUEUE_URL, sqs).send([]) == []
    assert sqs.calls == []


def test_failed_entry_is_retried_alone(sleeps: list[float]) -> None:
    sqs = FakeSqs(_fail("1"))

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1), _event(2)])

    assert failed == []
    assert [[e["Id"] for e in call] for call in sqs.calls] == [["0", "1", "2"], ["1"]]


def test_entry_failing_every_attempt_is_returned_after_three_tries(sleeps: list[float]) -> None:
    sqs = FakeSqs(_fail("1"), _fail("1"), _fail("1"))

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1)])

    assert failed == ["zendesk:90817263:evt-1"]
    assert len(sqs.calls) == 3


def test_retries_back_off_between_attempts(sleeps: list[float]) -> None:
    sqs = FakeSqs(_fail("0"), _fail("0"), _fail("0"))

    SqsEventQueue(QUEUE_URL, sqs).send([_event(0)])

    assert sleeps == [0.05, 0.2]


def test_sender_fault_entry_is_not_retried(sleeps: list[float]) -> None:
    sqs = FakeSqs(_fail("0", sender_fault=True))

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1)])

    assert failed == ["zendesk:90817263:evt-0"]
    assert len(sqs.calls) == 1


def test_sender_fault_and_retryable_failures_in_one_batch(sleeps: list[float]) -> None:
    mixed = {"Failed": [*_fail("0", sender_fault=True)["Failed"], *_fail("1")["Failed"]]}
    sqs = FakeSqs(mixed)

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1)])

    assert failed == ["zendesk:90817263:evt-0"]
    assert [e["Id"] for e in sqs.calls[1]] == ["1"]


def test_client_error_on_whole_call_is_retried(sleeps: list[float]) -> None:
    sqs = FakeSqs(_throttled())

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1)])

    assert failed == []
    assert [len(call) for call in sqs.calls] == [2, 2]


def test_connection_error_every_attempt_returns_all_keys(sleeps: list[float]) -> None:
    down = EndpointConnectionError(endpoint_url=QUEUE_URL)
    sqs = FakeSqs(down, down, down)

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(0), _event(1)])

    assert failed == ["zendesk:90817263:evt-0", "zendesk:90817263:evt-1"]
    assert len(sqs.calls) == 3


def test_failure_in_one_chunk_does_not_fail_the_others(sleeps: list[float]) -> None:
    sqs = FakeSqs(_throttled(), _throttled(), _throttled())

    failed = SqsEventQueue(QUEUE_URL, sqs).send([_event(n) for n in range(12)])

    assert failed == [f"zendesk:90817263:evt-{n}" for n in range(10)]
    assert [len(call) for call in sqs.calls] == [10, 10, 10, 2]


def test_message_body_is_valid_json_for_the_triage_worker() -> None:
    sqs = FakeSqs()

    SqsEventQueue(QUEUE_URL, sqs).send([_event(7, text="naïve café ✓")])

    assert json.loads(sqs.calls[0][0]["MessageBody"])["text"] == "naïve café ✓"
