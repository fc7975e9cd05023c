"""What review needs from the outside world."""

from __future__ import annotations

from typing import Any, Protocol

from triage_gate.triage.decision import DecisionRecord


class SlackClient(Protocol):
    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        """Post a message; (channel id, ts). Raises RateLimited / TransientVendorError."""
        ...

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None: ...

    def ephemeral(self, channel: str, user: str, text: str) -> None: ...


class ReviewLedger(Protocol):
    def get(self, decision_id: str) -> DecisionRecord | None: ...

    def review_posted(self, decision_id: str, channel: str, ts: str, posted_at: str, workflow: str) -> bool:
        """Record the Slack message; False if the review was already posted."""
        ...

    def claim_review(self, decision_id: str, user_id: str, verdict: str) -> bool:
        """pending → claimed by this reviewer; False if someone (or something) got there first."""
        ...

    def reopen_review(self, decision_id: str) -> None:
        """claimed → pending (the reviewer must confirm a stale ticket)."""
        ...

    def finish_review(self, decision_id: str, state: str, review: dict[str, Any]) -> None:
        """claimed → resolved | escalated, with the review details."""
        ...

    def pending_reviews(self) -> list[dict[str, Any]]:
        """Items still waiting: decision_id, workflow, review_posted_at, review_channel, review_ts, sla_notified."""
        ...

    def mark_sla_notified(self, decision_id: str) -> None: ...
