"""RoiDigestFunction (weekly): turnaround, hours recovered, rework and escalations to each workflow's channel."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.compose import roi_digest
from triage_gate.compose.common import Lazy
from triage_gate.observability import logger, metrics

SERVICE = Lazy(roi_digest.build)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return roi_digest.run(SERVICE.get())
