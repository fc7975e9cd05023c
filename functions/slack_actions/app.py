"""SlackActionsFunction: POST /slack/interactions — verify, claim the case, enqueue, ack within 3 s."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.observability import logger, metrics
from triage_gate.review.endpoint import handle_interaction_event


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="SlackInteractions", unit="Count", value=1)
    return handle_interaction_event(event)
