"""What is applied to a Zendesk ticket in each mode, and what never reaches write-back."""

from __future__ import annotations

import time

from tests.builders import harness, ticket_event
from tests.builders import policy as small_policy
from tests.integration.writeback.conftest import (
    CATEGORY_FIELD,
    OTHER_FIELD,
    ZD_TICKET,
    as_read,
    decision,
    notes_with_ref,
    ticket_updates,
    vendor_calls,
)
from triage_gate.triage.decision import decision_message


# ---------------------------------------------------------------- applied in each mode
def test_auto_mode_sets_zendesk_fields_adds_tags_and_an_internal_note(deliver, zendesk, ledger):
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "applied"
    ticket = zendesk.ticket(ZD_TICKET)
    assert ticket["group_id"] == 36002118
    assert ticket["priority"] == "high"
    assert ticket["type"] == "problem"
    assert {"id": CATEGORY_FIELD, "value": "bug"} in ticket["custom_fields"]
    assert {"ai_triaged", "ai_bug"} <= set(ticket["tags"])
    [note] = notes_with_ref(zendesk, record)
    assert note["public"] is False
    assert "bug (calibrated confidence 0.91)" in note["body"]
    assert ledger.records[record.decision_id].writeback["status"] == "applied"
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields", "note"]


def test_auto_mode_is_one_safe_update_with_added_tags_and_never_the_tags_field(deliver, zendesk):
    snapshot = as_read(zendesk)

    deliver(decision(snapshot=snapshot))

    [update] = ticket_updates(zendesk)
    assert "tags" not in update  # Zendesk's `tags` replaces the list: an agent's tags would be lost
    assert update["additional_tags"] == ["ai_triaged", "ai_bug"]
    assert (update["safe_update"], update["updated_stamp"]) == (True, snapshot.updated_at)
    assert update["comment"]["public"] is False
    assert update["priority"] == "high"
    assert vendor_calls(zendesk) == [f"PUT /api/v2/tickets/{ZD_TICKET}.json"]  # fields, tags and note at once


def test_auto_mode_keeps_the_tickets_existing_tags(deliver, zendesk):
    deliver(decision())

    tags = zendesk.ticket(ZD_TICKET)["tags"]
    assert tags[:2] == ["vip", "web_form"]
    assert set(tags) == {"vip", "web_form", "ai_triaged", "ai_bug"}


def test_auto_mode_keeps_other_custom_fields(deliver, zendesk):
    deliver(decision())

    assert {"id": OTHER_FIELD, "value": "keep-me"} in zendesk.ticket(ZD_TICKET)["custom_fields"]


def test_assist_mode_adds_only_an_internal_note_and_leaves_fields_unchanged(deliver, zendesk, ledger):
    before = zendesk.ticket(ZD_TICKET)
    record = decision(mode="assist", snapshot=as_read(zendesk))

    outcome = deliver(record)

    assert outcome.status == "applied"
    after = zendesk.ticket(ZD_TICKET)
    for field in ("group_id", "priority", "type", "tags", "custom_fields"):
        assert after[field] == before[field], field
    [note] = notes_with_ref(zendesk, record)
    assert note["public"] is False
    assert note["body"].startswith("AI triage suggests:")
    assert vendor_calls(zendesk) == [f"PUT /api/v2/tickets/{ZD_TICKET}.json"]  # the note, nothing else
    assert ledger.records[record.decision_id].writeback["steps"] == ["note"]


def test_no_public_comment_is_ever_written(deliver, zendesk):
    deliver(decision())
    deliver(decision(mode="assist", event_id="second-event"))

    written = [c for c in zendesk.comments_for(ZD_TICKET) if c["author_id"] == zendesk.agent_id]
    assert len(written) == 2
    assert not any(c["public"] for c in written)


def test_shadow_decisions_are_never_routed_to_write_back():
    h = harness(small_policy(mode="shadow"))

    outcome = h.service.process(ticket_event())

    assert outcome.record is not None
    assert outcome.record.action == "record"
    assert h.actions.bodies == []


def test_a_message_whose_action_is_not_apply_is_skipped_without_vendor_calls(service, ledger, zendesk):
    record = decision(action="review")
    ledger.create(record)

    outcome = service.process(decision_message(record), time.monotonic() + 30)

    assert outcome.status == "skipped"
    assert zendesk.requests == []
    assert ledger.records[record.decision_id].writeback is None
