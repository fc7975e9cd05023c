"""WritebackService: one ActionsQueue message → the ticket updated once, the outcome on the decision.

Exactly-once in effect: fields and tags are idempotent by nature (set, add); the note is not, so the
decision record tracks each step, and an attempt interrupted after posting the note looks for it
(by its decision reference) before posting again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from triage_gate.errors import PermanentVendorError, TransientVendorError
from triage_gate.policy import Policy
from triage_gate.triage.decision import DecisionMessage
from triage_gate.writeback.plan import WritePlan, decision_ref, plan_writeback
from triage_gate.writeback.ports import VendorWriter, WritebackLedger

Status = Literal["applied", "already_applied", "failed", "skipped"]
# Longer than one attempt can take (the function's 60 s timeout), so a crashed holder's lease lapses.
LEASE_SECONDS = 90


@dataclass(frozen=True)
class WritebackOutcome:
    status: Status
    detail: str | None = None
    steps: tuple[str, ...] = ()


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
        plan = plan_writeback(message, workflow)
        if plan.empty:
            return WritebackOutcome("skipped", "nothing to write in this mode")
        if not self._ledger.claim_writeback(message.decision_id, LEASE_SECONDS):
            # Another delivery of this action is writing right now: come back after it.
            raise TransientVendorError("another delivery of this action holds the write-back lease")
        try:
            return self._write(message, plan, deadline)
        finally:
            self._ledger.release_writeback(message.decision_id)

    def _write(self, message: DecisionMessage, plan: WritePlan, deadline: float) -> WritebackOutcome:
        state = self._ledger.writeback_state(message.decision_id) or {}  # fresh, now that we hold the lease
        if state.get("status") in ("applied", "failed"):
            return WritebackOutcome("already_applied", state.get("status"))
        writer = self._writers[message.source]
        steps: list[str] = list(state.get("steps", []))
        started = time.monotonic()
        try:
            if (plan.fields or plan.tags) and "fields" not in steps:
                writer.apply_fields(plan, deadline)
                steps.append("fields")
                self._save(message, "in_progress", steps)
            if plan.note and "note" not in steps:
                ref = decision_ref(message.decision_id)
                if not (state.get("status") == "in_progress" and writer.has_note(plan, ref, deadline)):
                    self._save(message, "in_progress", [*steps, "note_pending"])
                    writer.add_note(plan, deadline)
                steps.append("note")
        except PermanentVendorError as exc:
            self._save(message, "failed", steps, error=str(exc), http_status=exc.status)
            return WritebackOutcome("failed", str(exc), tuple(steps))
        self._save(message, "applied", steps, latency_ms=round((time.monotonic() - started) * 1000, 1))
        return WritebackOutcome("applied", None, tuple(steps))

    def _save(self, message: DecisionMessage, status: str, steps: list[str], **extra: Any) -> None:
        state = {
            "status": status,
            "steps": [s for s in steps if s != "note_pending"] if status != "in_progress" else steps,
            "mode": message.mode,
            "at": self._clock().isoformat(),
            **extra,
        }
        self._ledger.set_writeback(message.decision_id, state)
