"""TriageQueue over SQS SendMessageBatch: chunks of ≤10 entries and ≤256 KiB, partial failures retried."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from triage_gate.errors import QueueUnavailable
from triage_gate.messages import TicketEvent
from triage_gate.observability import logger

MAX_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
ATTEMPTS = 3
BACKOFF_SECONDS = (0.05, 0.2)


class SqsEventQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        failed: list[str] = []
        for chunk in _chunks([_entry(i, e) for i, e in enumerate(events)]):
            failed.extend(self._send_chunk(chunk))
        return failed

    def _send_chunk(self, entries: list[dict[str, Any]]) -> list[str]:
        """Send one chunk; return the dedupe keys still unsent after ATTEMPTS tries."""
        pending: list[dict[str, Any]] = entries
        lost: list[str] = []
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[{k: v for k, v in e.items() if k != "_key"} for e in pending],
                )
            except (ClientError, BotoCoreError) as exc:
                logger.warning("SendMessageBatch failed", attempt=attempt + 1, error=type(exc).__name__)
                continue
            by_id = {e["Id"]: e for e in pending}
            failures = response.get("Failed", [])
            for failure in failures:
                logger.warning(
                    "SendMessageBatch entry failed",
                    code=failure.get("Code"),
                    sender_fault=failure.get("SenderFault"),
                )
            # A sender fault (e.g. a malformed entry) fails the same way every time: do not retry it.
            lost.extend(by_id[f["Id"]]["_key"] for f in failures if f.get("SenderFault"))
            pending = [by_id[f["Id"]] for f in failures if not f.get("SenderFault")]
            if not pending:
                return lost
        return lost + [e["_key"] for e in pending]


def _entry(index: int, event: TicketEvent) -> dict[str, Any]:
    return {
        "Id": str(index),
        "MessageBody": event.to_json(),
        "MessageAttributes": {
            "correlation_id": {"DataType": "String", "StringValue": event.correlation_id},
            "dedupe_key": {"DataType": "String", "StringValue": event.dedupe_key},
            "schema_version": {"DataType": "Number", "StringValue": str(event.schema_version)},
        },
        "_key": event.dedupe_key,
    }


def _size(entry: dict[str, Any]) -> int:
    attrs = entry["MessageAttributes"]
    attr_bytes = sum(len(k) + len(v["DataType"]) + len(v["StringValue"]) for k, v in attrs.items())
    return len(entry["MessageBody"].encode("utf-8")) + attr_bytes


def _chunks(entries: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = _size(entry)
        if chunk and (len(chunk) == MAX_ENTRIES or size + entry_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += entry_size
    if chunk:
        yield chunk


class SqsMessageQueue:
    """One message at a time (ActionsQueue, ExceptionQueue), with the same bounded retries."""

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def send(self, body: str, *, dedupe_key: str, correlation_id: str) -> None:
        attributes = {
            "correlation_id": {"DataType": "String", "StringValue": correlation_id},
            "dedupe_key": {"DataType": "String", "StringValue": dedupe_key},
        }
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])
            try:
                self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body, MessageAttributes=attributes)
                return
            except (ClientError, BotoCoreError) as exc:
                logger.warning("SendMessage failed", attempt=attempt + 1, error=type(exc).__name__)
        raise QueueUnavailable(f"could not send to {self._queue_url.rsplit('/', 1)[-1]}")


class SqsRequeue:
    """Put a received message back for ``seconds`` (a vendor's Retry-After) instead of the full visibility
    timeout: the one way every queue consumer waits out a rate limit."""

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def later(self, receipt_handle: str, seconds: float) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=min(43_200, max(1, int(seconds) + 1)),
        )
