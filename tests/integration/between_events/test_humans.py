"""A human's change is final: an agent's override survives the next event and a concurrent write-back."""

from __future__ import annotations

from typing import Any

from tests.integration.between_events.conftest import REQUESTER, ZD_SECRET, Stack, new_ticket
from triage_local.sandboxes.zendesk import HUMAN_AGENT_ID


# ---------------------------------------------------------------- a human's change is final
def test_an_agents_override_survives_the_customers_next_comment(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, 51001, "Invoice charged twice", "My card was charged twice for the invoice.")
    stack.settle()
    [decision] = stack.decisions(51001)
    assert decision.action == "apply"
    assert zendesk.ticket(51001)["group_id"] == 36002117  # billing

    zendesk.agent_update(51001, group_id=36002119, priority="urgent")  # the agent disagrees
    stack.settle()
    zendesk.add_comment(51001, "Any news? The invoice is still wrong.", REQUESTER)  # the customer writes again
    stack.settle()

    ticket = zendesk.ticket(51001)
    assert (ticket["group_id"], ticket["priority"]) == (36002119, "urgent")  # the agent's values stay
    assert len(stack.ai_notes(51001)) == 1  # no second AI note
    assert len(stack.decisions(51001)) == 1  # the comment did not re-classify the ticket
    assert stack.model_calls("Invoice charged twice") == 1
    [after] = stack.decisions(51001)
    overrides = [f for f in (after.override or {}).get("findings", []) if f["kind"] == "override"]
    assert {f["field"] for f in overrides} == {"group_id", "priority"}  # counted, never undone


def test_a_change_between_the_decision_and_its_write_back_is_kept(stack: Stack, zendesk: Any) -> None:
    new_ticket(stack, 51002, "Export crash", "The export crashes every time.")
    zendesk.before_next_update(51002, lambda: zendesk.agent_update(51002, priority="high", additional_tags=["vip"]))
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    zendesk.add_comment(51002, "The export crashes again.", REQUESTER)
    stack.settle()

    ticket = zendesk.ticket(51002)
    [decision] = stack.decisions(51002)
    assert ticket["priority"] == "high"  # the agent's change, made while the AI was deciding, is final
    assert ticket["group_id"] == 36002118  # the rest of the decision landed
    assert {"vip", "ai_triaged", "ai_bug"} <= set(ticket["tags"])  # tags were added, not replaced
    puts = [r for r in zendesk.requests if r.method == "PUT" and r.path.endswith("/51002.json")]
    assert [r.status for r in puts] == [409, 200]
    assert all("tags" not in r.json["ticket"] and r.json["ticket"]["safe_update"] for r in puts)
    assert stack.writeback(decision)["human_kept"]["priority"]["by"] == str(HUMAN_AGENT_ID)
    [note] = stack.ai_notes(51002)
    assert "Kept what a person set: priority" in note["body"]
