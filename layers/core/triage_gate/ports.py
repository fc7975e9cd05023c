"""The interfaces intake needs from the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from triage_gate.config import VendorSecrets
from triage_gate.messages import TicketEvent


class SecretsProvider(Protocol):
    def get(self) -> VendorSecrets:
        """The current vendor secrets (cached by the adapter). Raises SecretsUnavailable."""
        ...


class DedupeStore(Protocol):
    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        """Claim each key not seen within the TTL; return the keys claimed by this call.

        Raises DedupeStoreUnavailable when the store cannot answer at all.
        """
        ...

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        """Mark claimed keys as queued (best effort: a lapsed claim only risks a duplicate)."""
        ...

    def release(self, keys: Sequence[str]) -> None:
        """Give claims back so the vendor's redelivery is accepted (best effort: claims expire)."""
        ...


class EventQueue(Protocol):
    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        """Queue events; return the dedupe keys of those that could not be queued after retries."""
        ...
