"""WritebackFunction's record handling: parse, write back, count, and say how the record should end."""

from __future__ import annotations

import time

from pydantic import ValidationError

from triage_gate.errors import RateLimited
from triage_gate.observability import count, logger
from triage_gate.triage.decision import DecisionMessage
from triage_gate.writeback.service import WritebackOutcome

# Vendor calls stop this long before the Lambda deadline, leaving time to record the outcome.
DEADLINE_MARGIN_MS = 5_000


def process_action(body: str, remaining_ms: int) -> WritebackOutcome:
    from triage_gate.wiring import writeback_service

    try:
        message = DecisionMessage.model_validate_json(body)
    except ValidationError:
        count("InvalidQueueMessages", Queue="ActionsQueue")
        logger.error("ActionsQueue message does not parse as a DecisionMessage")
        raise
    logger.set_correlation_id(message.correlation_id)
    deadline = time.monotonic() + max(0, remaining_ms - DEADLINE_MARGIN_MS) / 1000
    try:
        outcome = writeback_service().process(message, deadline)
    except RateLimited as exc:
        count("WritebackRateLimited", Source=message.source)
        logger.warning("vendor rate limit; the action goes back to the queue", retry_after=exc.retry_after)
        raise
    except Exception:
        count("WritebackFailures", Workflow=message.workflow, Reason="transient")
        raise
    _record(message, outcome)
    return outcome


def _record(message: DecisionMessage, outcome: WritebackOutcome) -> None:
    logger.info(
        "writeback", status=outcome.status, detail=outcome.detail, steps=list(outcome.steps), mode=message.mode,
        human_kept=sorted(outcome.kept),
    )  # fmt: skip
    if outcome.status == "applied":
        count("WritebackApplied", Workflow=message.workflow, Mode=message.mode)
        # A person had set these fields: the AI left them alone (never undo a human).
        count("HumanChangesKept", len(outcome.kept), Workflow=message.workflow)
    elif outcome.status == "failed":
        reason = "label_not_in_taxonomy" if (outcome.detail or "").startswith("label_not") else "rejected_by_vendor"
        logger.error("write-back failed and will not be retried", reason=reason, detail=outcome.detail)
        count("WritebackFailures", Workflow=message.workflow, Reason=reason)
    elif outcome.status == "already_applied":
        count("DuplicateDeliveries", Source=message.source)
