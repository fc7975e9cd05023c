"""What the SQS-driven functions share: strict message parsing and partial batch failures.

Kept apart from `common` so the HTTP functions (ingest, Slack actions) never import Powertools' batch
utility on their cold start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from triage_gate.observability import count, logger

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


class RecordBatchProcessor(BatchProcessor):
    """Powertools' SQS BatchProcessor, given our logger: each failed record's reason is logged at error
    level with its message id (Powertools alone logs a warning), so on-call finds it next to the metric."""

    def __init__(self, log: Logger = logger) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._log = log

    def failure_handler(self, record: Any, exception: Any) -> Any:
        kind, error = exception[0], exception[1]
        self._log.error(
            "record failed; SQS retries it, then moves it to the DLQ",
            message_id=getattr(record, "message_id", None),
            error=f"{getattr(kind, '__name__', kind)}: {error}",
            exc_info=exception,
        )
        return super().failure_handler(record, exception)


def sqs_batch(
    event: dict[str, Any], context: LambdaContext, handle_record: Callable[[SQSRecord], object]
) -> dict[str, Any]:
    """Partial batch failures: a record that fails is reported and retried alone; the others are done."""
    processor = RecordBatchProcessor()
    response = process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    return dict(response)
