"""What is applied to a HubSpot ticket: properties, the associated note, once."""

from __future__ import annotations

import pytest

from tests.integration.writeback.conftest import HS_TICKET, decision, vendor_calls
from triage_gate.adapters import vendor_http
from triage_gate.adapters.vendor_writers import NOTE_TO_TICKET
from triage_gate.errors import RateLimited
from triage_gate.writeback.plan import decision_ref


# ---------------------------------------------------------------- HubSpot
def test_hubspot_auto_mode_patches_properties_and_associates_a_note(deliver, hubspot, ledger):
    record = decision(source="hubspot")

    outcome = deliver(record)

    assert outcome.status == "applied"
    props = hubspot.ticket(HS_TICKET)["properties"]
    assert props["hs_ticket_category"] == "BILLING_ISSUE"
    assert props["ai_triage_category"] == "billing"
    assert props["hs_ticket_priority"] == "HIGH"
    [note] = hubspot.notes_for(HS_TICKET)
    assert decision_ref(record.decision_id) in note["properties"]["hs_note_body"]
    [post] = [r for r in hubspot.requests if r.method == "POST"]
    assert post.json["associations"][0]["types"][0]["associationTypeId"] == NOTE_TO_TICKET
    assert ledger.records[record.decision_id].writeback["status"] == "applied"


def test_hubspot_assist_mode_adds_only_a_note(deliver, hubspot):
    record = decision(source="hubspot", mode="assist")

    deliver(record)

    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "LOW"
    assert vendor_calls(hubspot, "PATCH") == []
    assert len(hubspot.notes_for(HS_TICKET)) == 1


def test_hubspot_redelivered_action_adds_one_note(deliver, hubspot):
    record = decision(source="hubspot")

    deliver(record)
    again = deliver(record)

    assert again.status == "already_applied"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert len(vendor_calls(hubspot, "PATCH")) == 1


def test_hubspot_rate_limit_on_the_note_is_retried_and_adds_one_note(deliver, hubspot, ledger):
    record = decision(source="hubspot")
    hubspot.window.limit = 2  # the read and the PATCH take both slots: the note POST gets HubSpot's 429

    with pytest.raises(RateLimited) as raised:
        deliver(record, seconds=5)
    hubspot.window.limit = None
    again = deliver(record)

    assert raised.value.retry_after == vendor_http.DEFAULT_RETRY_AFTER
    assert again.status == "applied"
    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "HIGH"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert "POST /crm/v3/objects/notes/search" in vendor_calls(hubspot)  # looked before posting again
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields", "note"]


def test_hubspot_property_missing_in_the_portal_fails_and_is_recorded(deliver, hubspot, ledger):
    hubspot.ticket_properties.discard("ai_triage_category")
    record = decision(source="hubspot")

    outcome = deliver(record)

    assert outcome.status == "failed"
    state = ledger.records[record.decision_id].writeback
    assert state["status"] == "failed"
    assert state["http_status"] == 400
    assert "ai_triage_category" in state["error"]
    assert len(vendor_calls(hubspot, "PATCH")) == 1  # not retried
    assert hubspot.notes_for(HS_TICKET) == []
