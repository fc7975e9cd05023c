"""The TriageQueue message parser raises only ValidationError, whatever the body."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.hostile_input.strategies import PROPERTY, json_values
from triage_gate.messages import TicketEvent
from triage_gate.records import ValidationError


# ------------------------------------------------------------------------------ TriageQueue parser
@PROPERTY
@given(body=st.text(max_size=500) | st.builds(json.dumps, json_values))
def test_ticket_event_parser_raises_only_validation_error(body: str) -> None:
    with contextlib.suppress(ValidationError):
        TicketEvent.from_json(body)


def test_ticket_event_parser_refuses_deep_nesting_with_validation_error() -> None:
    started = time.perf_counter()
    with pytest.raises(ValidationError):
        TicketEvent.from_json("[" * 100_000 + "]" * 100_000)
    assert time.perf_counter() - started < 1.0
