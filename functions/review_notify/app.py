"""ReviewNotifyFunction: ExceptionQueue → Slack review messages, and reviewers' outcomes applied.

Slack failures follow the write-back discipline: a rate limit puts the record back for Retry-After,
anything else is retried, then the DLQ (which alarms). A case is never lost because Slack was down.
"""

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.adapters.sqs_queue import return_later
from triage_gate.batch import RecordBatchProcessor
from triage_gate.errors import RateLimited
from triage_gate.observability import logger, metrics
from triage_gate.review.endpoint import process_exception_message

processor = RecordBatchProcessor(logger)  # a failed record's reason reaches the log at error level


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        try:
            process_exception_message(record.body)
        except RateLimited as exc:
            return_later(os.environ["EXCEPTION_QUEUE_URL"], record.receipt_handle, exc.retry_after)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
