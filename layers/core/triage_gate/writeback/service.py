"""WritebackService: one ActionsQueue message → the ticket updated once, the outcome on the decision.

A human's change is final. The update is conditional on the ticket as the decision read it (Zendesk
``safe_update`` + ``updated_stamp``); when the ticket changed since (409), or when the decision could not
read it, the ticket is read again and the plan re-made: every field a person set is left alone and
recorded (``writeback.human_kept``). HubSpot offers no conditional update: its ticket is always read
(with property history) right before the update.

Exactly once in effect: fields are set, tags added, and the note — the one thing that is not idempotent —
is looked for (by its decision reference) before an attempt that follows an interrupted one sends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from msgspec import field

from triage_gate.errors import PermanentVendorError, TransientVendorError, UpdateConflict
from triage_gate.messages import DecisionMessage
from triage_gate.policy import Policy, Workflow
from triage_gate.writeback.plan import HumanChange, WritePlan, decision_ref, plan_writeback
from triage_gate.writeback.ports import TicketState, VendorWriter, WritebackLedger

Status = Literal["applied", "already_applied", "failed", "skipped"]
# Longer than one attempt can take (the function's 60 s timeout), so a crashed holder's lease lapses.
LEASE_SECONDS = 90
# A ticket that changes under us this many times in a row is retried later, through the queue.
MAX_CONFLICTS = 3


class WritebackOutcome(msgspec.Struct, frozen=True):
    status: Status
    detail: str | None = None
    steps: tuple[str, ...] = ()
    kept: Mapping[str, HumanChange] = field(default_factory=dict)


class WritebackService:
    def __init__(
        self,
        policy: Policy,
        writers: dict[str, VendorWriter],
        ledger: WritebackLedger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._policy = policy
        self._writers = writers
        self._ledger = ledger
        self._clock = clock

    def process(self, message: DecisionMessage, deadline: float) -> WritebackOutcome:
        """``deadline`` is a time.monotonic() value the vendor calls must finish before."""
        state = self._ledger.writeback_state(message.decision_id) or {}
        if state.get("status") in ("applied", "failed"):
            return WritebackOutcome("already_applied", state.get("status"))
        workflow = self._policy.workflows.get(message.workflow)
        if workflow is None or message.action != "apply":
            return WritebackOutcome("skipped", f"nothing to write for {message.workflow}/{message.action}")
        if problem := _outside_taxonomy(message, workflow):
            self._save(message, "failed", [], error=problem)
            return WritebackOutcome("failed", problem)
        if plan_writeback(message, workflow).empty:
            return WritebackOutcome("skipped", "nothing to write in this mode")
        if not self._ledger.claim_writeback(message.decision_id, LEASE_SECONDS):
            # Another delivery of this action is writing right now: come back after it.
            raise TransientVendorError("another delivery of this action holds the write-back lease")
        try:
            return self._write(message, workflow, deadline)
        finally:
            self._ledger.release_writeback(message.decision_id)

    def _write(self, message: DecisionMessage, workflow: Workflow, deadline: float) -> WritebackOutcome:
        state = self._ledger.writeback_state(message.decision_id) or {}  # fresh, now that we hold the lease
        if state.get("status") in ("applied", "failed"):
            return WritebackOutcome("already_applied", state.get("status"))
        writer = self._writers[message.source]
        interrupted = state.get("status") == "in_progress"  # an earlier attempt may have landed
        started = time.monotonic()
        try:
            ticket, plan = self._apply(message, workflow, writer, interrupted, deadline)
        except PermanentVendorError as exc:
            self._save(message, "failed", [], error=str(exc), http_status=exc.status)
            return WritebackOutcome("failed", str(exc))
        kept = dict(ticket.human_changes) if ticket else {}
        steps = _steps(plan)
        self._save(
            message, "applied", steps, latency_ms=round((time.monotonic() - started) * 1000, 1),
            human_kept={name: change.as_dict() for name, change in kept.items()},
        )  # fmt: skip
        return WritebackOutcome("applied", None, tuple(steps), kept)

    def _apply(
        self, message: DecisionMessage, workflow: Workflow, writer: VendorWriter, interrupted: bool, deadline: float
    ) -> tuple[TicketState | None, WritePlan]:
        """Update the ticket, re-reading and re-planning on each conflict; (last ticket read, plan sent)."""
        ref = decision_ref(message.decision_id)
        # A reviewer's answer overrides what people set before the click (they saw the ticket); not after it.
        since = message.snapshot.updated_at if message.snapshot and message.authority == "reviewer" else None
        full = plan_writeback(message, workflow)
        stamp = message.snapshot.updated_at if message.snapshot else None
        ticket = None
        if interrupted or stamp is None or not writer.conditional or _touched_since_creation(message):
            ticket = writer.read(full, since=since, note_ref=ref, look_for_note=interrupted, deadline=deadline)
            stamp = ticket.stamp
        for _ in range(MAX_CONFLICTS):
            plan = _replan(message, workflow, ticket)
            if plan.empty:
                return ticket, plan  # an earlier attempt already wrote everything
            self._save(message, "in_progress", _steps(plan))  # before the call that may land unseen
            try:
                writer.update(plan, stamp, deadline)
            except UpdateConflict:
                ticket = writer.read(full, since=since, note_ref=ref, look_for_note=True, deadline=deadline)
                stamp = ticket.stamp
                continue
            return ticket, plan
        raise TransientVendorError(f"ticket {message.ticket_id} kept changing during write-back; retried later")

    def _save(self, message: DecisionMessage, status: str, steps: list[str], **extra: Any) -> None:
        state = {"status": status, "steps": steps, "mode": message.mode, "at": self._clock().isoformat(), **extra}
        self._ledger.set_writeback(message.decision_id, state)


def _replan(message: DecisionMessage, workflow: Workflow, ticket: TicketState | None) -> WritePlan:
    if ticket is None:
        return plan_writeback(message, workflow)
    plan = plan_writeback(message, workflow, kept=ticket.human_changes)
    return plan.without_note() if ticket.has_note else plan


def _steps(plan: WritePlan) -> list[str]:
    return [step for step, present in (("fields", plan.fields or plan.tags), ("note", plan.note)) if present]


def _touched_since_creation(message: DecisionMessage) -> bool:
    """The ticket had changed before the decision read it: someone may have set a field we plan to write."""
    snapshot = message.snapshot
    return snapshot is not None and snapshot.created_at != snapshot.updated_at


def _outside_taxonomy(message: DecisionMessage, workflow: Workflow) -> str | None:
    """Only the taxonomy is ever applied, whatever a model, a reviewer's payload or a replay says."""
    for task, label in message.labels.items():
        spec = workflow.tasks.get(task)
        if spec is None or (label is not None and label not in spec.labels):
            return f"label_not_in_taxonomy: {task}={label!r} is not in workflow {message.workflow}'s taxonomy"
    return None
