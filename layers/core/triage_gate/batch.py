"""SQS batches for the queue-fed functions: partial failures, each failed record's reason at error level."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from triage_gate.observability import logger


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
