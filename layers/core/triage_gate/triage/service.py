"""TriageService: one TicketEvent in, one decision record out (apply, review or record only).

Idempotent per event: the decision id is the event's dedupe key, the record is created with a
conditional write, and routing to a queue is marked on the record, so a redelivered event neither
decides twice nor queues twice (a crash between the two re-sends, and consumers dedupe on the id).
"""

from __future__ import annotations

import time
from typing import Literal

import msgspec
from msgspec.structs import replace

from triage_gate.errors import ContextUnavailable
from triage_gate.messages import TicketEvent
from triage_gate.policy import Workflow
from triage_gate.rollout import FlagsUnavailable, RolloutChoice, Segment, choose, segment_of
from triage_gate.triage import reasons
from triage_gate.triage.case import Case
from triage_gate.triage.context import dotted, select_fields
from triage_gate.triage.decision import DecisionRecord, decision_message, ticket_key
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.input_guard import check_input
from triage_gate.triage.language import detection_text, settle
from triage_gate.triage.model_router import ModelRouter
from triage_gate.triage.overrides import Finding, detect
from triage_gate.triage.prompt_inputs import Masker, injection_outside_body, prompt_context

Status = Literal["decided", "duplicate", "rerouted", "not_classified", "watched", "already_decided"]
# Longer than deciding can take (context + model timeouts and retries), so a crashed holder's claim lapses.
TICKET_LEASE_SECONDS = 120


class TriageOutcome(msgspec.Struct, frozen=True):
    status: Status
    record: DecisionRecord | None = None
    detail: str | None = None
    findings: tuple[Finding, ...] = ()


class _WorkflowOff(Exception):
    """The rollout flags switched this workflow off for this ticket's segment."""


class TriageService:
    def __init__(self, deps: TriageDeps) -> None:
        self.deps = deps
        self.models = ModelRouter(deps)

    def process(self, event: TicketEvent) -> TriageOutcome:
        decisions = self.deps.decisions
        existing = decisions.get(event.dedupe_key)
        if existing is not None:
            return self._finish_existing(existing)
        match = self.deps.policy.workflow_for(event.source, event.event_type)
        if match is None and (watched := self.deps.policy.watching(event.source, event.event_type)):
            return self._watch(event, *watched)
        if match is None:
            return TriageOutcome("not_classified", detail=f"no workflow classifies {event.source} {event.event_type}")
        # Decide once: a ticket is classified by the first classify event that finds it undecided; later
        # events (a comment, our own write-back echoing back as an update) create no work and no model call.
        key = ticket_key(event.source, event.ticket_id)
        claim = self.deps.claims.claim(key, event.dedupe_key, TICKET_LEASE_SECONDS)
        if claim != "claimed":
            return TriageOutcome("already_decided", detail=f"ticket {claim}: {key}")
        try:
            return self._decide_claimed(event, key, *match)
        except BaseException:
            self.deps.claims.release(key, event.dedupe_key)  # a no-op once the ticket is settled
            raise

    def _decide_claimed(self, event: TicketEvent, key: str, name: str, workflow: Workflow) -> TriageOutcome:
        decisions = self.deps.decisions
        earlier = decisions.latest_for_ticket(key)  # decided before ticket claims existed, or claim lost
        if earlier is not None:
            self.deps.claims.settle(key, earlier.decision_id)
            return TriageOutcome("already_decided", earlier, detail=f"ticket decided by {earlier.event_type}")
        try:
            record = self.decide(event, name, workflow)
        except _WorkflowOff:
            self.deps.claims.release(key, event.dedupe_key)  # undecided: a later event may decide it
            return TriageOutcome("not_classified", detail=f"workflow {name} is off for this segment")
        if not decisions.create(record):  # another delivery of the same event got there first
            raced = decisions.get(event.dedupe_key)
            return self._finish_existing(raced) if raced else TriageOutcome("duplicate")
        self.deps.claims.settle(key, record.decision_id)
        self._route(record)
        return TriageOutcome("decided", record)

    def _watch(self, event: TicketEvent, name: str, workflow: Workflow) -> TriageOutcome:
        record = self.deps.decisions.latest_for_ticket(ticket_key(event.source, event.ticket_id))
        if record is None or record.workflow != name:
            return TriageOutcome("not_classified", detail="no earlier decision for this ticket")
        findings = detect(event, record, workflow)
        seen = {f.get("event_id") for f in (record.override or {}).get("findings", [])}
        if event.event_id in seen:
            return TriageOutcome("duplicate", record)
        for finding in findings:
            self.deps.decisions.add_override(record.decision_id, finding.as_dict(event))
        return TriageOutcome("watched", record, findings=tuple(findings))

    def _finish_existing(self, record: DecisionRecord) -> TriageOutcome:
        if record.status == "routed":
            return TriageOutcome("duplicate", record)
        self.deps.claims.settle(record.ticket_key, record.decision_id)  # a crash may have come between
        self._route(record)
        return TriageOutcome("rerouted", record)

    def _route(self, record: DecisionRecord) -> None:
        if record.action != "record":
            queue = self.deps.actions if record.action == "apply" else self.deps.exceptions
            body = decision_message(record).to_json()
            queue.send(body, dedupe_key=record.decision_id, correlation_id=record.correlation_id)
        self.deps.decisions.mark_routed(record.decision_id)
        record.status = "routed"

    # ------------------------------------------------------------------ deciding
    def decide(self, event: TicketEvent, name: str, workflow: Workflow) -> DecisionRecord:
        case = Case(event, name, workflow)
        self._context(case)
        segment = segment_of(name, event.source, event.ticket_id, case.documents, case.tier, event.fields)
        choice = self._mode(case, segment)
        case.mode, case.rollout_rule = choice.mode, choice.rule
        if case.mode == "off":
            raise _WorkflowOff(name)
        self._guard_inputs(case)
        self._read_language(case)
        self.models.classify(case)
        self._apply_rules(case)
        case.take_snapshot()
        case.latency_ms["total"] = round((time.perf_counter() - case.started) * 1000, 2)
        return case.record(self.deps.policy, self.deps.clock())

    def _context(self, case: Case) -> None:
        policy = case.workflow.context
        fields = [*policy.fields, *([policy.customer_tier_field] if policy.customer_tier_field else [])]
        event = case.event
        self.deps.languages.prepare()  # the language model loads while the help desk answers
        try:
            case.documents = case.timed(
                "context",
                lambda: self.deps.context.fetch(
                    event.source, event.account_id, event.ticket_id, fields, policy.timeout_seconds
                ),
            )
        except ContextUnavailable as exc:
            case.context_error = str(exc)
            if policy.on_failure == "review":
                case.add(reasons.CONTEXT_UNAVAILABLE)
        tier = dotted(case.documents, policy.customer_tier_field) if policy.customer_tier_field else None
        case.tier = str(tier).lower() if tier not in (None, "") else None

    def _mode(self, case: Case, segment: Segment) -> RolloutChoice:
        try:
            return choose(self.deps.rollout, case.name, case.workflow, segment)
        except FlagsUnavailable as exc:
            # Fail closed: an opt-out we cannot read must not be bypassed. The ticket stays undecided.
            self.deps.on_flags_unavailable(str(exc))
            return RolloutChoice("off", None)

    def _guard_inputs(self, case: Case) -> None:
        """Everything that may reach a model is masked (the names the context gives us too) and scanned."""
        subject, text = case.text()
        if not text.strip() and subject and subject.strip():
            text = subject  # only a subject (HubSpot tickets often have no content): it is the text to classify
        guardrails = self.deps.policy.guardrails
        masker = Masker.for_ticket(guardrails, case.documents)
        verdict = case.timed(
            "guardrails",
            lambda: check_input(text, guardrails, names=masker.names, organisations=masker.organisations),
        )
        case.subject = masker.text(subject) if subject else None
        fields = select_fields(case.documents, case.workflow.context.fields)
        case.record_context = masker.context(fields, counted=False)
        case.prompt_context = prompt_context(case.record_context)
        masker.context(prompt_context(fields))  # counts what the model would have seen
        signals = injection_outside_body(case.subject, case.prompt_context, guardrails.injection_extra_patterns)
        if signals:  # suspicious text anywhere in the prompt keeps the ticket away from the remote model
            verdict = replace(
                verdict, reasons=[*verdict.reasons, reasons.INJECTION_SUSPECTED],
                injection_signals=[*verdict.injection_signals, *signals],
            )  # fmt: skip
        case.verdict = verdict
        case.add(*verdict.reasons)
        case.redactions.update(masker.counts)

    def _read_language(self, case: Case) -> None:
        """The ticket's language from its (masked) text; the requester's locale is the hint beside it."""
        text = detection_text(case.subject, case.verdict.text)
        detection = case.timed("language", lambda: self.deps.languages.detect(text))
        case.language = settle(detection, dotted(case.documents, "requester.locale"), case.workflow.language)

    @staticmethod
    def _apply_rules(case: Case) -> None:
        rules = case.workflow.rules
        vip_review = rules.vip_tiers and rules.vip_action == "review"
        if vip_review and case.tier in rules.vip_tiers:
            case.add(reasons.VIP_CUSTOMER)
        elif vip_review and case.context_error is not None:
            case.add(reasons.CONTEXT_UNAVAILABLE)  # fail closed: the VIP rule cannot be evaluated
        if any(t.label is None for t in case.tasks.values()) and not case.reasons:
            case.add(reasons.MALFORMED_OUTPUT)  # never apply a decision with a missing label
        # A signal decides nothing unless the policy lists it (rules.review_on_signals): then a person looks.
        signals, review_on = case.signals, rules.review_on_signals
        if signals is not None and (
            (signals.sentiment is not None and signals.sentiment in review_on.sentiment)
            or (review_on.urgent and signals.urgent is True)
        ):
            case.add(reasons.SIGNAL_REVIEW)
