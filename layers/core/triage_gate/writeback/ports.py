"""What write-back needs from the outside world."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec
from msgspec import field

from triage_gate.writeback.plan import HumanChange, WritePlan


class TicketState(msgspec.Struct, frozen=True):
    """The ticket as write-back read it just now."""

    stamp: str | None  # Zendesk `updated_at` (the next safe update's `updated_stamp`); HubSpot lastmodified
    # Planned fields a person set: since the ticket was created, or since ``since`` when a reviewer decided.
    human_changes: Mapping[str, HumanChange] = field(default_factory=dict)
    has_note: bool = False  # this decision's note is already on the ticket (an earlier attempt landed)


class VendorWriter(Protocol):
    # True when an update can be made conditional on the stamp (Zendesk safe_update); HubSpot has no such thing.
    conditional: bool

    def read(
        self, plan: WritePlan, *, since: str | None, note_ref: str, look_for_note: bool, deadline: float
    ) -> TicketState:
        """The ticket's stamp, who set the planned fields, and (when asked) whether our note is there."""
        ...

    def update(self, plan: WritePlan, stamp: str | None, deadline: float) -> None:
        """Fields, added tags and the note, in as few calls as the vendor allows.

        Raises UpdateConflict when the ticket changed since ``stamp`` (conditional writers), other
        VendorError subclasses otherwise.
        """
        ...


class WritebackLedger(Protocol):
    """Write-back state on the decision record (DecisionsTable)."""

    def writeback_state(self, decision_id: str) -> dict[str, Any] | None: ...

    def set_writeback(self, decision_id: str, state: dict[str, Any]) -> None: ...

    def claim_writeback(self, decision_id: str, lease_seconds: int) -> bool:
        """Take the write-back lease; False while another delivery of the same action holds it."""
        ...

    def release_writeback(self, decision_id: str) -> None: ...
