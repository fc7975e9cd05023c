"""WritebackFunction: ActionsQueue → Zendesk / HubSpot updates, once, with the outcome on the decision.

A person's change to the ticket is kept: the update is conditional on the ticket as the decision read it.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import writeback
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(writeback.build)  # built at the first batch, kept while the instance is warm


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return writeback.handle_batch(event, context, SERVICE)
