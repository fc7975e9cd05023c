"""Each function's first request for the cold-start benchmark: the events/ samples, signed at send time.

Most first requests are served from a freshly provisioned stack and the seeded vendor sandboxes alone.
WritebackFunction, ReviewNotifyFunction and SlackActionsFunction act on a decision record that must already
exist: from an empty table their first request would take the "no such decision" path, which is not what a
user pays. Their scenarios ``prepare`` it (untimed, before both sides' samples) by running TriageFunction
(and ReviewNotifyFunction for a click) as the pipeline does, and ``verify`` what the first request left
(cold_prepare.py). ``NOT_MEASURED`` lists a function left out, with why (none today).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import cold_prepare
from cold_start import Scenario

from triage_local.sandboxes.anthropic import DEFAULT_API_KEY as ANTHROPIC_SANDBOX_KEY

NOT_MEASURED: dict[str, str] = {}


def _ingest_event() -> dict[str, Any]:
    from tests.builders import load_event, sign_zendesk

    return sign_zendesk(load_event("ingest__zendesk_ticket_created.json"))


def _ingest_served(response: Any) -> bool:
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        return False
    body = json.loads(response.get("body") or "{}")
    return isinstance(body, dict) and bool(body.get("accepted") == 1)


def _triage_event() -> dict[str, Any]:
    from tests.builders import load_event

    return load_event("triage__ticket_event.json")


def _triage_served(response: Any) -> bool:
    return bool(response == {"batchItemFailures": []})


def _scheduled_event() -> dict[str, Any]:
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1", "resources": ["local:schedule/bench"], "detail": {},
    }  # fmt: skip


def _returned_a_dict(response: Any) -> bool:
    return isinstance(response, dict)


SCENARIOS = {
    "IngestFunction": Scenario(
        "IngestFunction", "a signed Zendesk ticket.created webhook, accepted", _ingest_event, _ingest_served
    ),
    "TriageFunction": Scenario(
        "TriageFunction",
        "one TicketEvent (ticket 40211), no Anthropic key: the local model decides",
        _triage_event,
        _triage_served,
    ),
    # With a key the policy's Claude routes are taken: what a deployed stack's new instance pays for its first ticket.
    "TriageFunction/claude": Scenario(
        "TriageFunction",
        "the same TicketEvent, the Anthropic key in the secret: Claude (the sandbox) decides",
        _triage_event,
        _triage_served,
        name="TriageFunction/claude",
        secret={"ANTHROPIC_API_KEY": ANTHROPIC_SANDBOX_KEY},
        vendors_called=("anthropic",),
    ),
    "ReviewBacklogFunction": Scenario(
        "ReviewBacklogFunction", "its schedule's first run, no case pending", _scheduled_event, _returned_a_dict
    ),
    "RoiDigestFunction": Scenario(
        "RoiDigestFunction", "its schedule's first run on an empty week", _scheduled_event, _returned_a_dict
    ),
    # TriageFunction (Claude's sandbox: the key is in this scenario's secret) decides apply; its ActionsQueue
    # message is the first batch, written back to the Zendesk sandbox's ticket.
    "WritebackFunction": Scenario(
        "WritebackFunction",
        "TriageFunction's apply decision for ticket 40211 (from ActionsQueue), written back to Zendesk",
        cold_prepare.batch_event,
        cold_prepare.batch_served,
        secret={"ANTHROPIC_API_KEY": ANTHROPIC_SANDBOX_KEY},
        vendors_called=("zendesk PUT /api/v2/tickets/40211",),
        prepare=cold_prepare.applied_decision,
        verify=cold_prepare.written_back,
    ),
    "ReviewNotifyFunction": Scenario(
        "ReviewNotifyFunction",
        "TriageFunction's review case for ticket 40211 (from ExceptionQueue), posted to Slack",
        cold_prepare.batch_event,
        cold_prepare.batch_served,
        vendors_called=("slack POST /api/chat.postMessage",),
        prepare=cold_prepare.review_case,
        verify=cold_prepare.review_posted,
    ),
    # No vendor call: the ack path is a conditional write and an enqueue (ReviewNotifyFunction does the rest).
    "SlackActionsFunction": Scenario(
        "SlackActionsFunction",
        "a reviewer's signed Approve click on the case ReviewNotifyFunction posted, claimed and queued",
        cold_prepare.approve_click,
        cold_prepare.click_acked,
        prepare=cold_prepare.posted_case,
        verify=cold_prepare.review_claimed,
    ),
}
