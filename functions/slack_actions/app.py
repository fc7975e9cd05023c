"""SlackActionsFunction: POST /slack/interactions — verify, claim the case, enqueue, ack within 3 s."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import slack_actions
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(slack_actions.build)  # built at the first click, kept while the instance is warm


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return slack_actions.handle(event, SERVICE)
