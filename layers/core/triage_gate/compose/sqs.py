"""What the SQS-driven functions share: strict message parsing and partial batch failures.

Partial batch failures are done here rather than with Powertools' batch utility, which does the same for SQS
but imports its data classes and builds its parser's pydantic models (DynamoDB, Kinesis, Kafka...) on every
cold start: ~40 ms of CPU the SQS functions never use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.observability import count, logger
from triage_gate.records import ValidationError

T = TypeVar("T")


def parse_message(parse: Callable[[str], T], body: str, queue: str, expected: str) -> T:
    """A queue message, or — when it does not parse — counted, logged at error level and raised: it is
    retried, then lands in the queue's DLQ (which alarms). Never dropped."""
    try:
        return parse(body)
    except ValidationError:
        count("InvalidQueueMessages", Queue=queue)
        logger.error(f"{queue} message does not parse as a {expected}", queue=queue)
        raise


class SqsRecord(msgspec.Struct, frozen=True):
    """One record of a Lambda SQS event: what a record handler reads of it."""

    message_id: str
    body: str
    receipt_handle: str

    @classmethod
    def from_event(cls, record: Mapping[str, Any]) -> SqsRecord:
        return cls(record["messageId"], record["body"], record["receiptHandle"])


def sqs_batch(
    event: dict[str, Any],
    context: LambdaContext,
    handle_record: Callable[[SqsRecord], object],
    log: Logger = logger,
) -> dict[str, Any]:
    """Partial batch failures: a record that fails is reported and retried alone; the others are done.

    A record whose handler raises is logged at error level with its message id (so on-call finds its
    reason next to the metric) and listed in ``batchItemFailures``; the whole batch failing is reported
    the same way, never raised. An event without records is not an SQS batch: ValueError. (``context`` is
    the invocation's: record handlers that need the time left read it from their own closure.)"""
    records = event.get("Records")
    if not records or not isinstance(records, list):
        raise ValueError("not an SQS batch event: expected a non-empty 'Records' list")
    failures: list[dict[str, str]] = []
    for raw in records:
        message_id = raw.get("messageId") if isinstance(raw, Mapping) else None
        try:
            handle_record(SqsRecord.from_event(raw))
        except Exception as exc:
            log.error(
                "record failed; SQS retries it, then moves it to the DLQ",
                message_id=message_id,
                error=f"{type(exc).__name__}: {exc}",
                exc_info=exc,
            )
            failures.append({"itemIdentifier": str(message_id)})
    return {"batchItemFailures": failures}
