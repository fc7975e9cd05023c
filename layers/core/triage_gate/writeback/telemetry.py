"""What WritebackFunction counts and logs for each outcome."""

from __future__ import annotations

from triage_gate.messages import DecisionMessage
from triage_gate.observability import count, logger
from triage_gate.writeback.service import WritebackOutcome


def record_outcome(message: DecisionMessage, outcome: WritebackOutcome) -> None:
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
