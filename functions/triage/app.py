"""TriageFunction: TicketEvents from TriageQueue → guarded decisions → ActionsQueue / ExceptionQueue.

Partial batch failures: a record that fails is reported and retried alone (then the DLQ); the others
are not redone. Each record is idempotent on its dedupe key.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.batch import RecordBatchProcessor
from triage_gate.observability import logger, metrics
from triage_gate.triage.endpoint import process_record

processor = RecordBatchProcessor(logger)  # a failed record's reason reaches the log at error level


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        process_record(record.body, context.get_remaining_time_in_millis())

    metrics.add_metric(name="TriageBatches", unit="Count", value=1)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
