"""What TriageService needs from the outside world: its ports, and the rules it runs by."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from msgspec import field

from triage_gate.policy import Policy
from triage_gate.review.feedback import ExampleStore
from triage_gate.rollout import PolicyRollout, Rollout
from triage_gate.triage.ports import (
    BreakerStore,
    BudgetStore,
    ContextFetcher,
    DecisionStore,
    LanguageDetector,
    LocalModels,
    MessageQueue,
    RemoteModel,
    TicketClaims,
)


class TriageDeps(msgspec.Struct):
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
    languages: LanguageDetector
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rollout: Rollout = field(default_factory=PolicyRollout)
    examples: ExampleStore | None = None  # recent reviewer corrections, used as few-shot examples
    on_flags_unavailable: Callable[[str], None] = field(default=lambda detail: None)
