"""Rejected by the vendor: recorded on the decision and not retried; credentials go back to the queue."""

from __future__ import annotations

import time

import pytest

from tests.integration.writeback.conftest import ZD_EMAIL, ZD_TICKET, as_read, decision, notes_with_ref
from triage_gate.adapters.vendor_writers import ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.errors import TransientVendorError
from triage_gate.triage.decision import decision_message
from triage_gate.writeback.service import WritebackService
from triage_tools.memory import StaticSecrets


# ---------------------------------------------------------------- rejected by the vendor
def test_zendesk_422_fails_is_recorded_on_the_decision_and_not_retried(deliver, zendesk, ledger):
    zendesk.fail_next(422, body={"error": "RecordInvalid", "description": "Record validation errors",
                                 "details": {"group_id": [{"description": "Group id: is invalid"}]}})  # fmt: skip
    record = decision()

    outcome = deliver(record)
    again = deliver(record)

    assert outcome.status == "failed"
    state = ledger.records[record.decision_id].writeback
    assert state["status"] == "failed"
    assert state["http_status"] == 422
    assert "RecordInvalid" in state["error"]
    assert len(zendesk.requests) == 1  # neither retried in the call nor on redelivery
    assert again.status == "already_applied"
    assert notes_with_ref(zendesk, record) == []
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002119


def test_zendesk_unknown_group_is_a_recorded_failure(deliver, zendesk, ledger):
    zendesk.groups.pop(36002118)  # the policy maps bug → a group deleted in Zendesk
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "failed"
    assert ledger.records[record.decision_id].writeback["http_status"] == 422
    assert "group_id" in ledger.records[record.decision_id].writeback["error"]


def test_zendesk_400_on_the_update_is_a_recorded_failure_that_changed_nothing(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    zendesk.fail_next(400, body={"error": "InvalidParameter", "description": "bad comment"})

    outcome = deliver(record)

    state = ledger.records[record.decision_id].writeback
    assert outcome.status == "failed"
    assert (state["status"], state["http_status"], state["steps"]) == ("failed", 400, [])
    assert zendesk.ticket(ZD_TICKET)["priority"] == "normal"
    assert notes_with_ref(zendesk, record) == []


def test_deleted_zendesk_ticket_is_a_recorded_failure(deliver, zendesk, ledger):
    zendesk.tickets.pop(ZD_TICKET)
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "failed"
    assert ledger.records[record.decision_id].writeback["http_status"] == 404


def test_wrong_zendesk_token_is_retried_through_the_queue_not_dropped(shipped_policy, zendesk, ledger):
    secrets = StaticSecrets(VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN="wrong"))  # type: ignore[arg-type]
    service = WritebackService(shipped_policy, {"zendesk": ZendeskWriter(secrets, zendesk.url)}, ledger)
    record = decision()
    ledger.create(record)

    # Credentials are configuration: the action goes back to the queue (then the DLQ alarm), never dropped.
    with pytest.raises(TransientVendorError, match="401"):
        service.process(decision_message(record), time.monotonic() + 30)

    assert ledger.records[record.decision_id].writeback is None
    assert len(zendesk.requests) == 1
