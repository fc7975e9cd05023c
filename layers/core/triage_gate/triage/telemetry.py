"""What TriageFunction counts and logs for each outcome: the EMF metrics alarms and dashboards read."""

from __future__ import annotations

from triage_gate.messages import TicketEvent
from triage_gate.observability import MetricUnit, count, logger, measure
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord
from triage_gate.triage.service import TriageOutcome


def flags_unavailable(detail: str) -> None:
    """The rollout flags could not be read: the ticket is left undecided (fail closed). Alarmed."""
    count("FlagsUnavailable")
    logger.error("rollout flags unreadable; the workflow is off for this ticket until they are", detail=detail)


def record_outcome(event: TicketEvent, outcome: TriageOutcome) -> None:
    logger.info("triage", status=outcome.status, detail=outcome.detail, event_type=event.event_type)
    if outcome.status == "not_classified":
        count("EventsNotClassified", Source=event.source)
        return
    if outcome.status == "already_decided":
        # Decide once: a later event on a decided ticket (a comment, our own write-back echoing) does no work.
        count("AlreadyDecided", Source=event.source)
        return
    if outcome.status == "watched":
        assert outcome.record is not None
        for finding in outcome.findings:
            if finding.kind == "override":
                count("Overrides", Workflow=outcome.record.workflow, Task=finding.task)
            else:
                result = "agree" if finding.kind == "shadow_agreement" else "disagree"
                count("ShadowAgreement", Workflow=outcome.record.workflow, Result=result)
            logger.info("human change compared", kind=finding.kind, task=finding.task, human_label=finding.human_label)
        return
    if outcome.status in ("duplicate", "rerouted"):
        count("DuplicateDeliveries", Source=event.source)
        return
    assert outcome.record is not None
    record_decision_metrics(outcome.record)


def record_decision_metrics(record: DecisionRecord) -> None:
    workflow = record.workflow
    count("Decisions", Workflow=workflow, Action=record.action)
    count("DecisionsByMode", Workflow=workflow, Mode=record.mode)
    count("Classified", Workflow=workflow)
    # By the language that counted (detected, else the locale's, else the default) and where it came from:
    # the dashboard's language mix, and how often detection was unsure (Source != detected).
    language = record.language
    count("DecisionsByLanguage", Workflow=workflow, Language=language.code if language else "unknown",
          Source=language.source if language else "none")  # fmt: skip
    if record.proposed_action == "apply" and record.action == "apply":
        count("AutoApplied", Workflow=workflow)
    for reason in record.reason_codes:
        count("Escalations", Workflow=workflow, Reason=reason)
    if record.fallback:
        count("FallbackUsed", Workflow=workflow, Fallback=record.fallback.split(":")[0])
    if record.context_error:
        count("ContextUnavailable", Workflow=workflow)
    if reasons.MODEL_REQUEST_REJECTED in record.reason_codes:
        count("ModelRequestRejected", Workflow=workflow)  # our request is wrong: ModelRequestRejectedAlarm
        logger.error("the model API refused our request; the ticket went to review", fallback=record.fallback)
    for stage, ms in record.latency_ms.items():
        measure("StageLatency", ms, MetricUnit.Milliseconds, Workflow=workflow, Stage=stage)
    end_to_end = (record.created_at - record.occurred_at).total_seconds() * 1000
    measure("EndToEndLatency", max(end_to_end, 0.0), MetricUnit.Milliseconds, Workflow=workflow)
    # And by service alone: what TriageLatencyAlarm and the dashboard's SLA line read (dimension `service` only).
    measure("EndToEndLatency", max(end_to_end, 0.0), MetricUnit.Milliseconds)
    # Rates as averages of 0/1 samples, so an alarm can watch them with one query.
    measure("EscalationRate", 1.0 if record.proposed_action == "review" else 0.0, MetricUnit.NoUnit, Workflow=workflow)
    measure("FallbackRate", 1.0 if record.fallback else 0.0, MetricUnit.NoUnit, Workflow=workflow)
    for kind, tokens in record.tokens.items():
        count("Tokens", tokens, Workflow=workflow, Kind=kind)
    if record.cost_usd:
        measure("CostUSD", record.cost_usd, MetricUnit.NoUnit, Workflow=workflow)
    logger.info(
        "decision",
        workflow=workflow,
        action=record.action,
        proposed_action=record.proposed_action,
        labels=record.labels,
        reason_codes=record.reason_codes,
        models=record.models,
        fallback=record.fallback,
        cost_usd=record.cost_usd,
        language=record.language.to_data() if record.language else None,
    )
