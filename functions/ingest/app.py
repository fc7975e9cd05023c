"""IngestFunction: POST /webhooks/zendesk and POST /webhooks/hubspot behind the HTTP API.

Verify on raw bytes, validate, normalise, dedupe, enqueue, answer in milliseconds. Nothing slow
happens before the 2xx; TriageFunction does the rest from TriageQueue.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.intake.endpoint import handle_webhook_event
from triage_gate.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_webhook_event(event)
