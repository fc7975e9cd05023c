"""TriageFunction: TicketEvents from TriageQueue → guarded decisions → ActionsQueue / ExceptionQueue.

Partial batch failures: a record that fails is reported and retried alone (then the DLQ); the others
are not redone. Each record is idempotent on its dedupe key, and a ticket is decided once.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import triage
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(triage.build)  # built at the first batch, kept while the instance is warm


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return triage.handle_batch(event, context, SERVICE)
