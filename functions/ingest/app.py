"""IngestFunction: POST /webhooks/zendesk and POST /webhooks/hubspot behind the HTTP API.

Verify on raw bytes, validate, normalise, dedupe, enqueue, answer in milliseconds. Nothing slow
happens before the 2xx; TriageFunction does the rest from TriageQueue.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import ingest
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(ingest.build)  # built at the first request, kept while the instance is warm


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return ingest.handle(event, SERVICE)
