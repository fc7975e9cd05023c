"""Exactly once: redeliveries, interrupted attempts and concurrent deliveries write one note."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.integration.writeback.conftest import (
    ZD_EMAIL,
    ZD_TICKET,
    ZD_TOKEN,
    as_read,
    decision,
    notes_with_ref,
    ticket_updates,
)
from triage_gate.adapters.vendor_writers import ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.errors import TransientVendorError
from triage_gate.triage.decision import decision_message
from triage_gate.writeback.plan import plan_writeback
from triage_tools.memory import StaticSecrets


# ---------------------------------------------------------------- exactly once
def test_redelivered_action_produces_one_note(deliver, zendesk, ledger):
    record = decision()

    first = deliver(record)
    second = deliver(record)

    assert (first.status, second.status) == ("applied", "already_applied")
    assert len(notes_with_ref(zendesk, record)) == 1
    assert zendesk.ticket(ZD_TICKET)["tags"].count("ai_bug") == 1
    assert len(ticket_updates(zendesk)) == 1


def test_interrupted_after_the_update_landed_does_not_write_the_note_again(service, shipped_policy, ledger, zendesk):
    record = decision(snapshot=as_read(zendesk))
    message = decision_message(record)
    ledger.create(record)
    # The previous attempt sent the update (it landed) and died before recording it.
    writer = ZendeskWriter(StaticSecrets(VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN)),  # type: ignore[arg-type]
                           zendesk.url)  # fmt: skip
    plan = plan_writeback(message, shipped_policy.workflows["zendesk-support"])
    writer.update(plan, record.snapshot.updated_at if record.snapshot else None, time.monotonic() + 10)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["fields", "note"]})
    zendesk.clear_requests()

    outcome = service.process(message, time.monotonic() + 30)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    [update] = ticket_updates(zendesk)
    assert "comment" not in update  # looked at the audits, found the note, sent the fields only
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields"]


def test_interrupted_before_the_update_reached_the_vendor_writes_it_once(service, ledger, zendesk):
    record = decision(snapshot=as_read(zendesk))
    ledger.create(record)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["fields", "note"]})

    outcome = service.process(decision_message(record), time.monotonic() + 30)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    assert len(ticket_updates(zendesk)) == 1


def test_two_deliveries_of_one_action_processed_at_once_produce_one_note(service, ledger, zendesk):
    record = decision(mode="assist")
    ledger.create(record)
    message = decision_message(record)
    original_handle = zendesk.handle

    def slow_note_writes(request: Any) -> Any:
        if request.method == "PUT":
            time.sleep(0.5)  # the vendor is a little slow to write: both instances are mid-write at once
        return original_handle(request)

    zendesk.handle = slow_note_writes  # type: ignore[method-assign]
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def instance() -> None:
        start.wait()
        try:
            outcomes.append(service.process(message, time.monotonic() + 30))
        except TransientVendorError as exc:  # the loser goes back to the queue and finds it done later
            outcomes.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(outcomes) == 2
    assert len(notes_with_ref(zendesk, record)) == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["TransientVendorError", "WritebackOutcome"]
    assert service.process(message, time.monotonic() + 30).status == "already_applied"


def test_a_note_from_another_decision_does_not_count_as_ours(deliver, service, ledger, zendesk):
    earlier = decision(event_id="earlier-event")
    deliver(earlier)
    record = decision(mode="assist")
    ledger.create(record)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["note"]})

    service.process(decision_message(record), time.monotonic() + 30)

    assert len(notes_with_ref(zendesk, record)) == 1
    assert len(notes_with_ref(zendesk, earlier)) == 1
