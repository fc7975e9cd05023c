"""In-memory implementations of the ports, for unit tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from triage_gate.config import VendorSecrets
from triage_gate.errors import DedupeStoreUnavailable
from triage_gate.messages import TicketEvent


class StaticSecrets:
    def __init__(self, secrets: VendorSecrets) -> None:
        self.secrets = secrets

    def get(self) -> VendorSecrets:
        return self.secrets


class InMemoryDedupeStore:
    def __init__(self, *, ttl_seconds: int = 172_800, lease_seconds: int = 20) -> None:
        self.items: dict[str, dict[str, float | str]] = {}
        self.ttl = ttl_seconds
        self.lease = lease_seconds
        self.unavailable = False

    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        if self.unavailable:
            raise DedupeStoreUnavailable("in-memory store switched off")
        ts = now.timestamp()
        claimed = set()
        for key in keys:
            item = self.items.get(key)
            lapsed = item is not None and (
                float(item["expires_at"]) < ts or (item["state"] == "claimed" and float(item["lease_until"]) < ts)
            )
            if item is None or lapsed:
                self.items[key] = {
                    "state": "claimed",
                    "lease_until": ts + self.lease,
                    "expires_at": ts + self.ttl,
                }
                claimed.add(key)
        return claimed

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        for key in keys:
            if key in self.items:
                self.items[key]["state"] = "queued"

    def release(self, keys: Sequence[str]) -> None:
        for key in keys:
            if self.items.get(key, {}).get("state") == "claimed":
                del self.items[key]


class InMemoryEventQueue:
    def __init__(self) -> None:
        self.messages: list[TicketEvent] = []
        # Dedupe keys that fail to send until removed (fault injection for tests).
        self.failing: set[str] = set()

    def send(self, events: Sequence[TicketEvent]) -> list[str]:
        failed = [e.dedupe_key for e in events if e.dedupe_key in self.failing]
        self.messages.extend(e for e in events if e.dedupe_key not in self.failing)
        return failed
