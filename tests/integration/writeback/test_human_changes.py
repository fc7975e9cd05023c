"""A human's change is final: what a person set, before or during the write, is kept and recorded."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.writeback.conftest import HS_TICKET, ZD_TICKET, as_read, decision, notes_with_ref, vendor_calls
from triage_gate.errors import TransientVendorError
from triage_gate.triage.decision import decision_message
from triage_gate.writeback.service import MAX_CONFLICTS
from triage_local.sandboxes.hubspot import HUMAN_USER_ID
from triage_local.sandboxes.zendesk import HUMAN_AGENT_ID


# ---------------------------------------------------------------- a human's change is final
def test_a_field_a_person_changes_before_the_write_lands_is_kept_and_recorded(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, priority="urgent"))

    outcome = deliver(record)

    ticket = zendesk.ticket(ZD_TICKET)
    assert outcome.status == "applied"
    assert ticket["priority"] == "urgent"  # the agent's value, not the AI's "high"
    assert ticket["group_id"] == 36002118  # what nobody touched is still applied
    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [409, 200]
    kept = ledger.records[record.decision_id].writeback["human_kept"]
    assert kept == {"priority": {"value": "urgent", "by": str(HUMAN_AGENT_ID), "at": kept["priority"]["at"]}}
    [note] = notes_with_ref(zendesk, record)
    assert "Kept what a person set: priority" in note["body"]


def test_an_agents_tag_added_meanwhile_survives_the_write(deliver, zendesk):
    record = decision(snapshot=as_read(zendesk))
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, additional_tags=["escalated"]))

    deliver(record)

    assert {"vip", "web_form", "escalated", "ai_triaged", "ai_bug"} <= set(zendesk.ticket(ZD_TICKET)["tags"])


def test_a_field_a_person_set_before_the_decision_is_never_overwritten(deliver, zendesk, ledger):
    zendesk.agent_update(ZD_TICKET, group_id=36002121)  # triaged by hand before the AI got to it
    record = decision(snapshot=as_read(zendesk))  # updated_at is past created_at: write-back reads the audits

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002121
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"
    assert set(ledger.records[record.decision_id].writeback["human_kept"]) == {"group_id"}
    assert f"GET /api/v2/tickets/{ZD_TICKET}/audits.json" in vendor_calls(zendesk)


def test_our_own_earlier_write_is_not_taken_for_a_person(deliver, zendesk, ledger):
    earlier = decision(event_id="earlier", mode="auto", snapshot=as_read(zendesk))
    deliver(earlier)
    record = decision(event_id="later", labels={"category": ("billing", 0.9), "priority": ("low", 0.9)})

    deliver(record)  # no snapshot: read first; the audits show only our API user changed the fields

    assert ledger.records[record.decision_id].writeback["human_kept"] == {}
    assert zendesk.ticket(ZD_TICKET)["priority"] == "low"


def test_a_ticket_that_keeps_changing_is_retried_later_not_forced(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    original_handle = zendesk.handle

    def always_changed(request: Any) -> Any:
        if request.method == "PUT":
            zendesk.agent_update(ZD_TICKET, subject=f"edit {time.monotonic()}")
        return original_handle(request)

    zendesk.handle = always_changed  # type: ignore[method-assign]

    with pytest.raises(TransientVendorError, match="kept changing"):
        deliver(record)

    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [409] * MAX_CONFLICTS
    assert ledger.records[record.decision_id].writeback["status"] == "in_progress"


def test_a_reviewers_answer_overrides_changes_made_before_the_click_but_not_after(service, zendesk, ledger):
    zendesk.agent_update(ZD_TICKET, priority="low")  # seen by the reviewer (the stale-ticket warning)
    clicked = as_read(zendesk)
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, group_id=36002121))
    record = decision(snapshot=clicked)
    ledger.create(record)
    message = decision_message(record).replace(**{"authority": "reviewer"})

    outcome = service.process(message, time.monotonic() + 30)

    ticket = zendesk.ticket(ZD_TICKET)
    assert outcome.status == "applied"
    assert ticket["priority"] == "high"  # the reviewer approved over the earlier change
    assert ticket["group_id"] == 36002121  # but a change after the click is a person's, and final


def test_a_label_outside_the_taxonomy_is_never_applied(service, ledger, zendesk):
    record = decision()
    ledger.create(record)
    message = decision_message(record).replace(**{"labels": {"category": "free_money"}})

    outcome = service.process(message, time.monotonic() + 30)

    assert outcome.status == "failed"
    assert "label_not_in_taxonomy" in (outcome.detail or "")
    assert zendesk.requests == []


def test_hubspot_property_a_person_set_is_kept(deliver, hubspot, ledger):
    hubspot.agent_update(HS_TICKET, hs_ticket_priority="URGENT")
    record = decision(source="hubspot")

    deliver(record)

    props = hubspot.ticket(HS_TICKET)["properties"]
    assert props["hs_ticket_priority"] == "URGENT"
    assert props["hs_ticket_category"] == "BILLING_ISSUE"
    kept = ledger.records[record.decision_id].writeback["human_kept"]
    assert kept["hs_ticket_priority"]["by"] == str(HUMAN_USER_ID)
    [patch] = [r for r in hubspot.requests if r.method == "PATCH"]
    assert "hs_ticket_priority" not in patch.json["properties"]


def test_hubspot_our_own_earlier_patch_is_not_a_person(deliver, hubspot, ledger):
    deliver(decision(source="hubspot", event_id="earlier"))
    record = decision(
        source="hubspot", event_id="later", labels={"category": ("renewal", 0.9), "priority": ("LOW", 0.9)}
    )

    deliver(record)

    assert ledger.records[record.decision_id].writeback["human_kept"] == {}
    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "LOW"


def test_hubspot_note_retry_after_an_ambiguous_failure_posts_one_note(deliver, hubspot):
    record = decision(source="hubspot")
    original_handle = hubspot.handle
    lost = {"left": 1}

    def handle(request: Any) -> Any:
        from triage_local.sandboxes.base import Reply

        reply = original_handle(request)
        if request.method == "POST" and request.path == "/crm/v3/objects/notes" and lost["left"]:
            lost["left"] -= 1
            return Reply(502, {"status": "error", "message": "Bad gateway"})  # the note WAS created
        return reply

    hubspot.handle = handle  # type: ignore[method-assign]

    with pytest.raises(TransientVendorError):
        deliver(record)
    again = deliver(record)

    assert again.status == "applied"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert "POST /crm/v3/objects/notes/search" in vendor_calls(hubspot)
