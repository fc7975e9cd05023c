"""The interfaces classification needs from the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from triage_gate.policy import Route, Task
from triage_gate.triage.answers import ModelResult
from triage_gate.triage.breaker import BreakerState
from triage_gate.triage.decision import DecisionRecord
from triage_gate.triage.language import Detection
from triage_gate.triage.prompt import Prompt


class ContextFetcher(Protocol):
    def fetch(
        self, source: str, account_id: str, ticket_id: str, fields: Sequence[str], timeout: float
    ) -> dict[str, Any]:
        """The vendor's documents about the ticket ({"ticket": ..., "organization": ...}).

        Raises ContextUnavailable on any failure (timeouts, auth, 4xx/5xx, missing credentials).
        """
        ...


class RemoteModel(Protocol):
    def enabled(self) -> bool:
        """False when no API key is configured: Claude routes then use the local model."""
        ...

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        """One forced-tool-use call. Raises ModelUnavailable on errors, timeouts and rate limits."""
        ...


class LocalModels(Protocol):
    def classify(self, workflow: str, task: str, model_path: str, text: str) -> tuple[str, float]:
        """(label, calibrated probability) from the local model artifact."""
        ...

    def languages(self, model_path: str) -> frozenset[str] | None:
        """The languages the model was trained on (its metadata); None when it does not say."""
        ...


class LanguageDetector(Protocol):
    def prepare(self) -> None:
        """A ticket will be read soon: start any slow loading now, in the background, and return at once."""
        ...

    def detect(self, text: str) -> Detection | None:
        """The most probable language of the text and its probability; None when there is nothing to read."""
        ...


class BreakerStore(Protocol):
    def load(self, key: str) -> BreakerState: ...

    def save(self, key: str, state: BreakerState) -> bool:
        """Store if nobody else changed it since it was loaded (optimistic lock on version)."""
        ...


class BudgetStore(Protocol):
    def spent(self, key: str) -> float: ...

    def add(self, key: str, usd: float) -> None: ...


# "claimed": this event decides the ticket; "decided": an earlier event did; "busy": another event is deciding it.
TicketClaim = Literal["claimed", "decided", "busy"]


class DecisionStore(Protocol):
    def get(self, decision_id: str) -> DecisionRecord | None: ...

    def create(self, record: DecisionRecord) -> bool:
        """Write a new record; False if one already exists for this decision id."""
        ...

    def mark_routed(self, decision_id: str) -> None: ...

    def latest_for_ticket(self, ticket_key: str) -> DecisionRecord | None:
        """The newest decision about a ticket (for override detection)."""
        ...

    def add_override(self, decision_id: str, finding: dict[str, Any]) -> None:
        """Append an override/agreement finding to the decision's record."""
        ...


class TicketClaims(Protocol):
    """Decide once: who has the right to decide each ticket (ControlTable, conditional writes)."""

    def claim(self, ticket_key: str, decision_id: str, lease_seconds: int) -> TicketClaim:
        """Take the right to decide a ticket: a ticket is decided once."""
        ...

    def settle(self, ticket_key: str, decision_id: str) -> None:
        """The ticket is decided (by ``decision_id``); later classify events leave it alone."""
        ...

    def release(self, ticket_key: str, decision_id: str) -> None:
        """Give back a claim that decided nothing (workflow off, a failure), if it is still ours."""
        ...


class MessageQueue(Protocol):
    def send(self, body: str, *, dedupe_key: str, correlation_id: str) -> None:
        """Send one message; raises QueueUnavailable after bounded retries."""
        ...
