"""WritebackFunction: ActionsQueue → Zendesk / HubSpot updates, once, with the outcome on the decision.

A vendor 429 whose Retry-After does not fit in the time left puts the record back for exactly that
long (a visibility change) and reports it as a partial failure; nothing sleeps past the deadline.
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
from triage_gate.writeback.endpoint import process_action

processor = RecordBatchProcessor(logger)  # a failed record's reason reaches the log at error level


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        try:
            process_action(record.body, context.get_remaining_time_in_millis())
        except RateLimited as exc:
            return_later(os.environ["ACTIONS_QUEUE_URL"], record.receipt_handle, exc.retry_after)
            raise

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
