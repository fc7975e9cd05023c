"""One ticket event being decided: what is known so far, and the DecisionRecord it becomes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec
from msgspec import field

from triage_gate.messages import Mode, TicketEvent, TicketSnapshot
from triage_gate.policy import Policy, Workflow
from triage_gate.triage.answers import ModelResult
from triage_gate.triage.decision import DecisionRecord, LanguageFacts, ReviewerGist, Signals, TaskDecision
from triage_gate.triage.input_guard import InputVerdict
from triage_gate.triage.language import TicketLanguage

T = TypeVar("T")
INPUT_TEXT_KEPT = 4000


class Case(msgspec.Struct):
    event: TicketEvent
    name: str  # the workflow's name
    workflow: Workflow
    started: float = field(default_factory=time.perf_counter)
    # What the vendor's API said about the ticket ({"ticket": ..., "requester": ...}), or why it could not.
    documents: dict[str, Any] = field(default_factory=dict)
    context_error: str | None = None
    tier: str | None = None
    mode: str = "shadow"
    rollout_rule: str | None = None  # the flag rule that decided the mode (see triage_gate.rollout)
    subject: str | None = None  # masked
    verdict: InputVerdict = field(default_factory=lambda: InputVerdict("", {}))
    prompt_context: dict[str, Any] = field(default_factory=dict)  # masked; what the model sees
    record_context: dict[str, Any] = field(default_factory=dict)  # masked; what the record keeps
    reasons: list[str] = field(default_factory=list)
    tasks: dict[str, TaskDecision] = field(default_factory=dict)
    results: list[ModelResult] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    fallback: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    snapshot: TicketSnapshot | None = None
    language: TicketLanguage | None = None
    gist: ReviewerGist | None = None  # from the one Claude call that asked for it (model_router)
    signals: Signals | None = None  # likewise; None when no Claude call answered them

    @property
    def language_code(self) -> str:
        """The ticket's language (triage_gate.triage.language); the workflow's default until it is read."""
        return self.language.language if self.language else self.workflow.language.default_language

    def add(self, *codes: str) -> None:
        self.reasons.extend(c for c in codes if c not in self.reasons)

    def timed(self, stage: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self.latency_ms[stage] = round((time.perf_counter() - started) * 1000, 2)

    def text(self) -> tuple[str | None, str]:
        """Subject and body: the freshest text we have (the comment for comment events)."""
        ticket = self.documents.get("ticket") or {}
        subject = ticket.get("subject") or self.event.subject
        body = self.event.text if self.event.event_type == "ticket.comment_added" and self.event.text else None
        body = body or ticket.get("description") or ticket.get("content") or self.event.text or ""
        return subject, str(body)

    def take_snapshot(self) -> None:
        """The ticket's change stamp as read now: write-back updates only the ticket we decided on."""
        ticket = self.documents.get("ticket") or {}
        zendesk = self.event.source == "zendesk"
        names = ("updated_at", "created_at") if zendesk else ("hs_lastmodifieddate", "createdate")
        updated, created = (ticket.get(n) for n in names)
        if updated:
            self.snapshot = TicketSnapshot(updated_at=str(updated), created_at=str(created) if created else None)

    def record(self, policy: Policy, now: datetime) -> DecisionRecord:
        event, verdict = self.event, self.verdict
        proposed: Literal["apply", "review"] = "review" if self.reasons else "apply"
        mode: Mode = "auto" if self.mode == "auto" else "assist" if self.mode == "assist" else "shadow"
        return DecisionRecord(
            decision_id=event.dedupe_key, correlation_id=event.correlation_id, source=event.source,
            account_id=event.account_id, ticket_id=event.ticket_id, event_id=event.event_id,
            event_type=event.event_type, workflow=self.name, policy_version=policy.version,
            policy_sha256=policy.sha256, prompt_version=policy.prompt_version, created_at=now,
            occurred_at=event.occurred_at, mode=mode, rollout_rule=self.rollout_rule,
            action="record" if mode == "shadow" else proposed,
            proposed_action=proposed, reason_codes=self.reasons, tasks=self.tasks,
            input_hash=hashlib.sha256(verdict.text.encode()).hexdigest(), input_text=verdict.text[:INPUT_TEXT_KEPT],
            subject=self.subject, redactions=_merge(verdict.redactions, self.redactions),
            injection_signals=len(verdict.injection_signals), context_fields=self.record_context,
            context_error=self.context_error, customer_tier=self.tier, snapshot=self.snapshot,
            models=sorted({r.model for r in self.results}),
            raw_outputs=[r.raw for r in self.results if r.raw is not None],
            rationale=next((r.rationale for r in self.results if r.rationale), None), fallback=self.fallback,
            latency_ms=self.latency_ms, tokens=_merge(*(r.usage for r in self.results)),
            cost_usd=round(sum(r.cost_usd for r in self.results), 6),
            language=LanguageFacts.of(self.language) if self.language else None,
            gist=self.gist, signals=self.signals,
        )  # fmt: skip


def _merge(*counts: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for count_map in counts:
        for kind, n in count_map.items():
            merged[kind] = merged.get(kind, 0) + n
    return merged
