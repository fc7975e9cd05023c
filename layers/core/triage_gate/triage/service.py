"""TriageService: one TicketEvent in, one decision record out (apply, review or record only).

Idempotent per event: the decision id is the event's dedupe key, the record is created with a
conditional write, and routing to a queue is marked on the record, so a redelivered event neither
decides twice nor queues twice (a crash between the two re-sends, and consumers dedupe on the id).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from triage_gate.errors import ContextUnavailable, ModelRequestRejected, ModelUnavailable
from triage_gate.messages import TicketEvent
from triage_gate.policy import Policy, Workflow
from triage_gate.review.feedback import ExampleStore
from triage_gate.rollout import FlagsUnavailable, PolicyRollout, Rollout, Segment, segment_of
from triage_gate.triage import breaker, reasons
from triage_gate.triage.answers import ModelResult, TaskAnswer, calibrate
from triage_gate.triage.context import dotted, select_fields
from triage_gate.triage.decision import (
    DecisionMessage,
    DecisionRecord,
    Mode,
    TaskDecision,
    TicketSnapshot,
    ticket_key,
)
from triage_gate.triage.input_guard import InputVerdict, check_input
from triage_gate.triage.overrides import Finding, detect
from triage_gate.triage.ports import (
    BreakerStore,
    BudgetStore,
    ContextFetcher,
    DecisionStore,
    LocalModels,
    MessageQueue,
    RemoteModel,
    TicketClaims,
)
from triage_gate.triage.prompt import build_prompt
from triage_gate.triage.prompt_inputs import Masker, injection_outside_body, prompt_context
from triage_gate.triage.routing import choose_route

Status = Literal["decided", "duplicate", "rerouted", "not_classified", "watched", "already_decided"]
# Longer than deciding can take (context + model timeouts and retries), so a crashed holder's claim lapses.
TICKET_LEASE_SECONDS = 120


@dataclass(frozen=True)
class TriageOutcome:
    status: Status
    record: DecisionRecord | None = None
    detail: str | None = None
    findings: tuple[Finding, ...] = ()


@dataclass
class TriageDeps:
    policy: Policy
    context: ContextFetcher
    remote: RemoteModel | None  # None: no ANTHROPIC_API_KEY, Claude routes use the local model
    local: LocalModels
    breakers: BreakerStore
    budgets: BudgetStore
    decisions: DecisionStore
    actions: MessageQueue
    exceptions: MessageQueue
    claims: TicketClaims
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rollout: Rollout = field(default_factory=PolicyRollout)
    examples: ExampleStore | None = None  # recent reviewer corrections, used as few-shot examples
    on_flags_unavailable: Callable[[str], None] = field(default=lambda detail: None)


class _WorkflowOff(Exception):
    """The rollout flags switched this workflow off for this ticket's segment."""


@dataclass
class _Draft:
    """What is gathered while deciding; becomes the DecisionRecord."""

    reasons: list[str] = field(default_factory=list)
    tasks: dict[str, TaskDecision] = field(default_factory=dict)
    results: list[ModelResult] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    fallback: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    mode: str = "shadow"
    subject: str | None = None
    snapshot: TicketSnapshot | None = None

    def add(self, *codes: str) -> None:
        self.reasons.extend(c for c in codes if c not in self.reasons)


class TriageService:
    def __init__(self, deps: TriageDeps) -> None:
        self.deps = deps
        self._examples_cache: dict[str, tuple[float, dict[str, dict[str, list[str]]]]] = {}

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
            body = DecisionMessage.from_record(record).model_dump_json()
            queue.send(body, dedupe_key=record.decision_id, correlation_id=record.correlation_id)
        self.deps.decisions.mark_routed(record.decision_id)
        record.status = "routed"

    # ------------------------------------------------------------------ deciding
    def decide(self, event: TicketEvent, name: str, workflow: Workflow) -> DecisionRecord:
        started = time.perf_counter()
        draft = _Draft()
        documents, context_error = self._context(event, workflow, draft)
        tier_value = (
            dotted(documents, workflow.context.customer_tier_field) if workflow.context.customer_tier_field else None
        )
        tier = str(tier_value).lower() if tier_value not in (None, "") else None
        segment = segment_of(name, event.source, event.ticket_id, documents, tier, event.fields)
        draft.mode = self._mode(name, workflow, segment)
        if draft.mode == "off":
            raise _WorkflowOff(name)
        subject, text = _ticket_text(event, documents)
        # Everything that may reach a model is masked (the names the context gives us too) and scanned.
        guardrails = self.deps.policy.guardrails
        masker = Masker.for_ticket(guardrails, documents)
        verdict = _timed(
            draft, "guardrails",
            lambda: check_input(text, guardrails, names=masker.names, organisations=masker.organisations),
        )  # fmt: skip
        safe_subject = masker.text(subject) if subject else None
        fields = select_fields(documents, workflow.context.fields)
        record_context = masker.context(fields, counted=False)
        context = prompt_context(record_context)
        masker.context(prompt_context(fields))  # counts what the model would have seen
        signals = injection_outside_body(safe_subject, context, guardrails.injection_extra_patterns)
        if signals:  # suspicious text anywhere in the prompt keeps the ticket away from the remote model
            verdict = replace(
                verdict, reasons=[*verdict.reasons, reasons.INJECTION_SUSPECTED],
                injection_signals=[*verdict.injection_signals, *signals],
            )  # fmt: skip
        draft.add(*verdict.reasons)
        draft.redactions.update(masker.counts)
        draft.subject = safe_subject
        self._classify(name, workflow, safe_subject, verdict, context, tier, draft)
        self._apply_rules(workflow, tier, draft, context_known=context_error is None)
        draft.snapshot = snapshot_of(event.source, documents)
        draft.latency_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return self._record(event, name, workflow, verdict, record_context, context_error, tier, draft)

    def _mode(self, name: str, workflow: Workflow, segment: Segment) -> str:
        try:
            return self.deps.rollout.mode_for(name, workflow, segment)
        except FlagsUnavailable as exc:
            # Fail closed: an opt-out we cannot read must not be bypassed. The ticket stays undecided.
            self.deps.on_flags_unavailable(str(exc))
            return "off"

    def _context(self, event: TicketEvent, workflow: Workflow, draft: _Draft) -> tuple[dict[str, Any], str | None]:
        policy = workflow.context
        try:
            documents = _timed(
                draft,
                "context",
                lambda: self.deps.context.fetch(
                    event.source,
                    event.account_id,
                    event.ticket_id,
                    [*policy.fields, *([policy.customer_tier_field] if policy.customer_tier_field else [])],
                    policy.timeout_seconds,
                ),
            )
            return documents, None
        except ContextUnavailable as exc:
            if policy.on_failure == "review":
                draft.add(reasons.CONTEXT_UNAVAILABLE)
            return {}, str(exc)

    def _classify(
        self,
        name: str,
        workflow: Workflow,
        subject: str | None,
        verdict: InputVerdict,
        context: dict[str, Any],
        tier: str | None,
        draft: _Draft,
    ) -> None:
        groups: dict[str, list[str]] = {}
        for task_name, spec in workflow.tasks.items():
            chosen = choose_route(
                spec, chars=len(verdict.text), customer_tier=tier, language=context.get("requester.locale")
            )
            groups.setdefault(chosen, []).append(task_name)
        for route_name, tasks in groups.items():
            route = self.deps.policy.routes[route_name]
            if not verdict.classifiable:
                for task_name in tasks:
                    draft.tasks[task_name] = TaskDecision(
                        label=None, reported_confidence=None, calibrated_confidence=None, threshold=None,
                        route=route_name, model="none",
                    )  # fmt: skip
                continue
            if route.kind == "local":
                result = self._local(name, workflow, tasks, verdict.text, route_name)
            else:
                result = self._remote_or_degraded(name, workflow, tasks, subject, verdict, context, route_name, draft)
            draft.results.append(result)
            self._judge(workflow, result, draft)

    def _remote_or_degraded(
        self,
        name: str,
        workflow: Workflow,
        tasks: list[str],
        subject: str | None,
        verdict: InputVerdict,
        context: dict[str, Any],
        route_name: str,
        draft: _Draft,
    ) -> ModelResult:
        route = self.deps.policy.routes[route_name]
        remote = self.deps.remote
        if remote is None or not remote.enabled():
            return self._fallback(name, workflow, tasks, verdict.text, draft, "no_api_key", degrade=False)
        if verdict.blocks_remote_model:
            # Suspicious text never reaches the remote model; the local model still makes a suggestion.
            return self._fallback(name, workflow, tasks, verdict.text, draft, "input_blocked", degrade=False)
        budget_key = f"budget#{name}#{self.deps.clock().date().isoformat()}"
        if self.deps.budgets.spent(budget_key) >= workflow.daily_budget_usd:
            draft.add(reasons.BUDGET_EXHAUSTED)
            return self._fallback(name, workflow, tasks, verdict.text, draft, "budget_exhausted", degrade=True)
        breaker_key = f"breaker#{route.model}"
        if not self._admit(breaker_key):
            return self._fallback(name, workflow, tasks, verdict.text, draft, "circuit_open", degrade=True)
        corrections = self._corrections(name)
        prompt = build_prompt(name, workflow, tasks, subject, verdict.text, context, corrections)
        started = time.perf_counter()
        try:
            result = remote.classify(route_name, route, prompt, {t: workflow.tasks[t] for t in tasks})
        except ModelUnavailable as exc:
            draft.latency_ms[f"model:{route_name}"] = round((time.perf_counter() - started) * 1000, 2)
            self._record_breaker(breaker_key, success=False)
            return self._fallback(name, workflow, tasks, verdict.text, draft, f"model_error:{exc.kind}", degrade=True)
        except ModelRequestRejected as exc:
            # A bug in our request, not an outage: the breaker is not involved; a person sees the ticket.
            draft.latency_ms[f"model:{route_name}"] = round((time.perf_counter() - started) * 1000, 2)
            draft.add(reasons.MODEL_REQUEST_REJECTED)
            why = f"request_rejected:{exc.kind}"
            return self._fallback(name, workflow, tasks, verdict.text, draft, why, degrade=False)
        draft.latency_ms[f"model:{route_name}"] = round(result.latency_ms, 2)
        self._record_breaker(breaker_key, success=True)
        if result.cost_usd:
            self.deps.budgets.add(budget_key, result.cost_usd)
        return result

    def _fallback(
        self, name: str, workflow: Workflow, tasks: list[str], text: str, draft: _Draft, why: str, *, degrade: bool
    ) -> ModelResult:
        """Claude is not used for this ticket: the degraded-mode rule says what happens instead."""
        draft.fallback = why
        if degrade and workflow.rules.degraded_mode == "review_all":
            draft.add(reasons.MODEL_UNAVAILABLE)
        if not all(workflow.tasks[t].local_model for t in tasks):
            draft.add(reasons.MODEL_UNAVAILABLE)
            answers = {t: TaskAnswer(None, None, reasons.MODEL_UNAVAILABLE) for t in tasks}
            return ModelResult(route="none", model="none", answers=answers, note=why)
        result = self._local(name, workflow, tasks, text, "local")
        result.note = why
        return result

    def _local(self, name: str, workflow: Workflow, tasks: list[str], text: str, route_name: str) -> ModelResult:
        started = time.perf_counter()
        answers = {}
        for task in tasks:
            spec = workflow.tasks[task]
            assert spec.local_model is not None  # the policy validator guarantees it for local routes
            label, probability = self.deps.local.classify(
                name, task, str(self.deps.policy.model_path(spec.local_model)), text
            )
            problem = None if label in spec.labels else reasons.LABEL_NOT_IN_TAXONOMY
            answers[task] = TaskAnswer(label, probability, problem)
        latency = (time.perf_counter() - started) * 1000
        return ModelResult(route=route_name, model="local", answers=answers, latency_ms=latency)

    def _judge(self, workflow: Workflow, result: ModelResult, draft: _Draft) -> None:
        """Output guardrails: taxonomy, calibrated confidence against the label's threshold, policy rules."""
        draft.latency_ms.setdefault(f"model:{result.route}", round(result.latency_ms, 2))
        for task, answer in result.answers.items():
            spec = workflow.tasks[task]
            calibrated = threshold = None
            if answer.problem:
                draft.add(answer.problem)
            elif answer.label is not None and answer.confidence is not None:
                calibrated = round(calibrate(answer.confidence, spec.calibration.get(answer.label)), 4)
                threshold = spec.thresholds.for_label(answer.label)
                if calibrated < threshold:
                    draft.add(reasons.LOW_CONFIDENCE)
                if answer.label in workflow.rules.always_review.get(task, []):
                    draft.add(reasons.POLICY_ALWAYS_REVIEW)
            else:
                draft.add(reasons.MALFORMED_OUTPUT)
            valid = answer.label if answer.label in spec.labels else None  # a refused label is never applicable
            draft.tasks[task] = TaskDecision(
                label=valid, reported_confidence=answer.confidence, calibrated_confidence=calibrated,
                threshold=threshold, route=result.route, model=result.model, problem=answer.problem,
                model_label=answer.label if valid is None else None,
            )  # fmt: skip

    @staticmethod
    def _apply_rules(workflow: Workflow, tier: str | None, draft: _Draft, *, context_known: bool) -> None:
        vip_review = workflow.rules.vip_tiers and workflow.rules.vip_action == "review"
        if vip_review and tier in workflow.rules.vip_tiers:
            draft.add(reasons.VIP_CUSTOMER)
        elif vip_review and not context_known:
            draft.add(reasons.CONTEXT_UNAVAILABLE)  # fail closed: the VIP rule cannot be evaluated
        if any(t.label is None for t in draft.tasks.values()) and not draft.reasons:
            draft.add(reasons.MALFORMED_OUTPUT)  # never apply a decision with a missing label

    def _corrections(self, workflow_name: str) -> dict[str, dict[str, list[str]]] | None:
        """Few-shot examples, cached for a minute: corrections arrive slowly; the prefix stays cacheable."""
        if self.deps.examples is None:
            return None
        now = time.monotonic()
        cached = self._examples_cache.get(workflow_name)
        if cached is None or now - cached[0] > EXAMPLES_CACHE_SECONDS:
            cached = (now, self.deps.examples.recent(workflow_name))
            self._examples_cache[workflow_name] = cached
        return cached[1]

    # ------------------------------------------------------------------ breaker
    def _admit(self, key: str) -> bool:
        now = self.deps.clock().timestamp()
        state = self.deps.breakers.load(key)
        allowed, new_state = breaker.admit(state, now)
        if allowed and new_state is not None and not self.deps.breakers.save(key, new_state):
            return False  # another instance won the half-open probe
        return allowed

    def _record_breaker(self, key: str, *, success: bool) -> None:
        now = self.deps.clock().timestamp()
        for _ in range(3):  # optimistic lock: reload and retry on a concurrent update
            state = self.deps.breakers.load(key)
            if success:
                new_state = breaker.on_success(state, now)
            else:
                new_state = breaker.on_failure(state, now, self.deps.policy.circuit_breaker)
            if new_state is None or self.deps.breakers.save(key, new_state):
                return

    # ------------------------------------------------------------------ the record
    def _record(
        self,
        event: TicketEvent,
        name: str,
        workflow: Workflow,
        verdict: InputVerdict,
        context_fields: dict[str, Any],
        context_error: str | None,
        tier: str | None,
        draft: _Draft,
    ) -> DecisionRecord:
        policy = self.deps.policy
        proposed: Literal["apply", "review"] = "review" if draft.reasons else "apply"
        mode: Mode = "auto" if draft.mode == "auto" else "assist" if draft.mode == "assist" else "shadow"
        action: Literal["apply", "review", "record"] = "record" if mode == "shadow" else proposed
        tokens: dict[str, int] = {}
        for result in draft.results:
            for key, value in result.usage.items():
                tokens[key] = tokens.get(key, 0) + value
        return DecisionRecord(
            decision_id=event.dedupe_key,
            correlation_id=event.correlation_id,
            source=event.source,
            account_id=event.account_id,
            ticket_id=event.ticket_id,
            event_id=event.event_id,
            event_type=event.event_type,
            workflow=name,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            prompt_version=policy.prompt_version,
            created_at=self.deps.clock(),
            occurred_at=event.occurred_at,
            mode=mode,
            action=action,
            proposed_action=proposed,
            reason_codes=draft.reasons,
            tasks=draft.tasks,
            input_hash=hashlib.sha256(verdict.text.encode()).hexdigest(),
            input_text=verdict.text[:INPUT_TEXT_KEPT],
            subject=draft.subject,
            redactions=_merge(verdict.redactions, draft.redactions),
            injection_signals=len(verdict.injection_signals),
            context_fields=context_fields,
            context_error=context_error,
            customer_tier=tier,
            snapshot=draft.snapshot,
            models=sorted({r.model for r in draft.results}),
            raw_outputs=[r.raw for r in draft.results if r.raw is not None],
            rationale=next((r.rationale for r in draft.results if r.rationale), None),
            fallback=draft.fallback,
            latency_ms=draft.latency_ms,
            tokens=tokens,
            cost_usd=round(sum(r.cost_usd for r in draft.results), 6),
        )


INPUT_TEXT_KEPT = 4000
EXAMPLES_CACHE_SECONDS = 60


def _merge(*counts: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for count_map in counts:
        for kind, n in count_map.items():
            merged[kind] = merged.get(kind, 0) + n
    return merged


def snapshot_of(source: str, documents: dict[str, Any]) -> TicketSnapshot | None:
    """The ticket's change stamp as read now: write-back updates only the ticket we decided on."""
    ticket = documents.get("ticket") or {}
    names = ("updated_at", "created_at") if source == "zendesk" else ("hs_lastmodifieddate", "createdate")
    updated, created = (ticket.get(n) for n in names)
    if not updated:
        return None
    return TicketSnapshot(updated_at=str(updated), created_at=str(created) if created else None)


def _ticket_text(event: TicketEvent, documents: dict[str, Any]) -> tuple[str | None, str]:
    """Subject and body: the freshest text we have (the comment for comment events)."""
    ticket = documents.get("ticket") or {}
    subject = ticket.get("subject") or event.subject
    body = event.text if event.event_type == "ticket.comment_added" and event.text else None
    body = body or ticket.get("description") or ticket.get("content") or event.text or ""
    return subject, str(body)


def _timed(draft: _Draft, stage: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    try:
        return fn()
    finally:
        draft.latency_ms[stage] = round((time.perf_counter() - started) * 1000, 2)
