"""RoiDigestFunction (weekly): turnaround, hours recovered, rework and escalations to each workflow's channel."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.observability import logger, metrics
from triage_gate.roi.endpoint import run_digest


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="DigestRuns", unit="Count", value=1)
    return run_digest()
