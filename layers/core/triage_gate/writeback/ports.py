"""What write-back needs from the outside world."""

from __future__ import annotations

from typing import Any, Protocol

from triage_gate.writeback.plan import WritePlan


class VendorWriter(Protocol):
    def apply_fields(self, plan: WritePlan, deadline: float) -> None:
        """Set fields/properties and add tags. Idempotent. Raises VendorError subclasses."""
        ...

    def has_note(self, plan: WritePlan, ref: str, deadline: float) -> bool:
        """Whether a note carrying ``ref`` is already on the ticket (after an interrupted attempt)."""
        ...

    def add_note(self, plan: WritePlan, deadline: float) -> None: ...


class WritebackLedger(Protocol):
    """Write-back state on the decision record (DecisionsTable)."""

    def writeback_state(self, decision_id: str) -> dict[str, Any] | None: ...

    def set_writeback(self, decision_id: str, state: dict[str, Any]) -> None: ...

    def claim_writeback(self, decision_id: str, lease_seconds: int) -> bool:
        """Take the write-back lease; False while another delivery of the same action holds it."""
        ...

    def release_writeback(self, decision_id: str) -> None: ...
