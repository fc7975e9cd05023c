"""A circuit breaker shared by every TriageFunction instance (its state lives in the control table).

closed --(failure_threshold failures within window)--> open --(open_seconds)--> half-open: one probe
call is let through; its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import msgspec
from msgspec.structs import replace

from triage_gate.policy import CircuitBreakerPolicy

PROBE_SECONDS = 30


class BreakerState(msgspec.Struct, frozen=True):
    failures: int = 0
    window_start: float = 0.0
    open_until: float = 0.0
    probe_until: float = 0.0
    version: int = 0

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def half_open(self, now: float) -> bool:
        return 0 < self.open_until <= now


def admit(state: BreakerState, now: float) -> tuple[bool, BreakerState | None]:
    """(allowed, new state to store or None). In half-open only one caller wins the probe."""
    if state.is_open(now):
        return False, None
    if state.half_open(now):
        if state.probe_until > now:
            return False, None
        return True, replace(state, probe_until=now + PROBE_SECONDS)
    return True, None


def on_success(state: BreakerState, now: float) -> BreakerState | None:
    if state.half_open(now) or state.failures:
        return BreakerState(version=state.version)
    return None


def on_failure(state: BreakerState, now: float, policy: CircuitBreakerPolicy) -> BreakerState:
    if state.half_open(now):  # the probe failed
        return replace(state, open_until=now + policy.open_seconds, probe_until=0.0, failures=0)
    in_window = now - state.window_start <= policy.window_seconds
    failures = state.failures + 1 if in_window else 1
    window_start = state.window_start if in_window else now
    if failures >= policy.failure_threshold:
        return replace(state, failures=0, window_start=now, open_until=now + policy.open_seconds, probe_until=0.0)
    return replace(state, failures=failures, window_start=window_start)
