"""Transient vendor failures: 429 storms waited out within the deadline, 5xx and timeouts retried."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.writeback.conftest import ZD_TICKET, as_read, decision, notes_with_ref
from triage_gate.adapters import vendor_http
from triage_gate.errors import RateLimited, TransientVendorError


# ---------------------------------------------------------------- 429 storm
def test_zendesk_429_storm_is_waited_out_within_the_deadline_and_applied(deliver, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=2)
    record = decision()

    outcome = deliver(record, seconds=30)

    assert outcome.status == "applied"
    assert sleeps.calls == [1.0, 1.0]
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118
    assert len(notes_with_ref(zendesk, record)) == 1


def test_zendesk_429_longer_than_the_time_left_is_raised_without_sleeping(deliver, zendesk, sleeps, ledger):
    zendesk.fail_next(429, headers={"Retry-After": "30"})
    record = decision()

    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        deliver(record, seconds=10)
    elapsed = time.monotonic() - started

    assert raised.value.retry_after == 30.0
    assert sleeps.calls == []
    assert elapsed < 2.0
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002119
    assert ledger.records[record.decision_id].writeback is None  # nothing recorded: the message goes back


def test_zendesk_429_is_raised_after_too_many_waits_even_with_time_left(deliver, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=vendor_http.MAX_RATE_LIMIT_WAITS + 1)

    with pytest.raises(RateLimited):
        deliver(decision(), seconds=60)

    assert len(sleeps.calls) == vendor_http.MAX_RATE_LIMIT_WAITS


# ---------------------------------------------------------------- 5xx and timeouts
def test_persistent_500_gives_up_after_bounded_retries(deliver, zendesk, ledger):
    zendesk.fail_next(500, times=50)
    record = decision()

    with pytest.raises(TransientVendorError) as raised:
        deliver(record)

    assert raised.value.status == 500
    assert len(zendesk.requests) == vendor_http.MAX_TRANSIENT_RETRIES + 1
    assert ledger.records[record.decision_id].writeback is None  # not a failure: the queue redelivers


def test_a_500_that_clears_within_the_retries_is_applied(deliver, zendesk):
    zendesk.fail_next(503, times=vendor_http.MAX_TRANSIENT_RETRIES)

    outcome = deliver(decision())

    assert outcome.status == "applied"
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"


def test_update_that_landed_but_answered_502_is_not_written_twice(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    original_handle = zendesk.handle
    lost = {"left": 1}

    def handle(request: Any) -> Any:
        from triage_local.sandboxes.base import Reply

        reply = original_handle(request)
        if request.method == "PUT" and lost["left"] > 0:  # the update landed; its answer did not
            lost["left"] -= 1
            return Reply(502, {"error": "BadGateway"})
        return reply

    zendesk.handle = handle  # type: ignore[method-assign]

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    # The repeat of the conditional update met the changed stamp (409); the re-read found our note.
    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [502, 409, 200]
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"


def test_update_502_before_it_landed_is_repeated_and_applied_once(deliver, zendesk):
    record = decision(snapshot=as_read(zendesk))
    zendesk.fail_next(502)

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118


def test_a_slow_vendor_answer_to_the_note_does_not_produce_a_second_note(deliver, zendesk, monkeypatch):
    monkeypatch.setattr(vendor_http, "MAX_READ_TIMEOUT", 0.3)  # the vendor is slower than our read timeout
    zendesk.hang_next(0.6)  # the note (assist mode: the only request) is answered late, but it IS written
    record = decision(mode="assist")

    try:
        deliver(record)
    except TransientVendorError:  # what a fix may do: give up, and let the queue redeliver later
        time.sleep(0.5)
        deliver(record)  # the redelivery looks for the note before writing it
    time.sleep(0.5)  # let the slow request finish on the server

    assert len(notes_with_ref(zendesk, record)) == 1
