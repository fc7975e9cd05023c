"""ReviewBacklogFunction (scheduled): pending-review count and oldest age per workflow; overdue reviews
are re-posted mentioning the escalation group. Nothing is ever auto-approved."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import review_backlog
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(review_backlog.build)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"workflows": review_backlog.run(SERVICE.get())}
