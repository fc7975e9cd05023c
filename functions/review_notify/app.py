"""ReviewNotifyFunction: ExceptionQueue → Slack review messages, and reviewers' outcomes applied.

Slack failures follow the write-back discipline: a rate limit puts the record back for Retry-After,
anything else is retried, then the DLQ (which alarms). A case is never lost because Slack was down.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import review_notify
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(review_notify.build)  # built at the first batch, kept while the instance is warm


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return review_notify.handle_batch(event, context, SERVICE)
