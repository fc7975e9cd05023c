"""The Zendesk webhook that calls the stack, the triggers that notify it, and its signing secret in the stack.

Found by name (``Triage Gate (<stack>)``) and by title, so a second run finds what the first made and changes
nothing. With ``--connection trigger`` (the default) the webhook is connected to triggers and there are two,
the README's: "new ticket" (*Ticket is Created*) and "updated ticket" (*Ticket is Updated* and *Tags contain
none of* the policy's marker tags, so our own write-back, which adds the marker, never fires it); their body
carries identifiers only. With ``--connection events`` the webhook subscribes to the ticket events the intake
queues. A Zendesk webhook cannot switch between the two: an existing one of the other kind is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from triage_gate.config import DEFAULT_ZENDESK_EVENT_TYPES
from triage_gate.intake.zendesk import CREATED_TRIGGER_BODY, UPDATED_TRIGGER_BODY
from triage_gate.policy import Policy
from triage_tools.setup.changes import Changes
from triage_tools.setup.http import AdminHttp, VendorError, paged

Connection = Literal["trigger", "events"]
CONDITIONAL = "conditional_ticket_events"
NEW_TICKET, UPDATED_TICKET = "Triage Gate: new ticket", "Triage Gate: updated ticket"
PENDING_ID = "<the new webhook>"


class HookConflict(VendorError):
    """What is in Zendesk cannot be brought to the wanted state by the API (a person must act)."""

    def __init__(self, message: str) -> None:
        super().__init__("Zendesk", "setup", None, message)


def webhook_name(stack_name: str) -> str:
    return f"Triage Gate ({stack_name})"


def desired_webhook(name: str, endpoint: str, connection: Connection) -> dict[str, Any]:
    if connection == "trigger":
        subscriptions = [CONDITIONAL]
    else:  # the ticket events the intake queues ("ticket.updated" is the triggers' kind, not an event type)
        subscriptions = sorted(f"zen:event-type:{t}" for t in DEFAULT_ZENDESK_EVENT_TYPES if t != "ticket.updated")
    return {
        "name": name, "description": "Triage Gate intake (managed by `triage setup zendesk`)", "endpoint": endpoint,
        "http_method": "POST", "request_format": "json", "status": "active", "subscriptions": subscriptions,
    }  # fmt: skip


def desired_triggers(webhook_id: str, marker_tags: Iterable[str]) -> list[dict[str, Any]]:
    tags = " ".join(sorted(set(marker_tags)))
    notify = [{"field": "notification_webhook", "value": [webhook_id, CREATED_TRIGGER_BODY]}]
    notify_updated = [{"field": "notification_webhook", "value": [webhook_id, UPDATED_TRIGGER_BODY]}]
    return [
        {"title": NEW_TICKET, "active": True, "actions": notify,
         "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Create"}], "any": []}},
        {"title": UPDATED_TICKET, "active": True, "actions": notify_updated,
         "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Change"},
                                {"field": "current_tags", "operator": "not_includes", "value": tags}], "any": []}},
    ]  # fmt: skip


def _kind(subscriptions: list[str]) -> str:
    return "triggers" if CONDITIONAL in subscriptions else "Zendesk events"


def ensure_webhook(http: AdminHttp, desired: dict[str, Any], changes: Changes) -> str:
    """The webhook's id, created or brought to ``desired`` (``PENDING_ID`` when a dry run would create it)."""
    found = [w for w in paged(http, "/api/v2/webhooks", "webhooks") if w.get("name") == desired["name"]]
    if len(found) > 1:
        raise HookConflict(f"{len(found)} webhooks are named {desired['name']!r}: delete the extra ones in Admin "
                           "Center → Apps and integrations → Webhooks, then run again")  # fmt: skip
    what = f"webhook {desired['name']!r} → {desired['endpoint']}"
    if not found:
        changes.change("created", f"{what} (connected to {_kind(desired['subscriptions'])})")
        if changes.dry_run:
            return PENDING_ID
        created = http.request("POST", "/api/v2/webhooks", json={"webhook": desired})
        return str(created["webhook"]["id"])
    current = found[0]
    if _kind(current.get("subscriptions") or []) != _kind(desired["subscriptions"]):
        raise HookConflict(
            f"the webhook {desired['name']!r} is connected to {_kind(current.get('subscriptions') or [])}; a Zendesk "
            f"webhook cannot switch to {_kind(desired['subscriptions'])}: delete it in Admin Center → Apps and "
            "integrations → Webhooks (or run with the other --connection), then run again"
        )
    stale = [key for key, value in desired.items() if _normal(key, current.get(key)) != _normal(key, value)]
    if stale:
        changes.change("updated", f"{what} ({', '.join(stale)})")
        if not changes.dry_run:
            http.request("PUT", f"/api/v2/webhooks/{current['id']}", json={"webhook": desired})
    else:
        changes.unchanged(what)
    return str(current["id"])


def _normal(key: str, value: Any) -> Any:
    """A webhook field as compared: the subscriptions in any order."""
    return sorted(value or []) if key == "subscriptions" else value


def _comparable(trigger: dict[str, Any]) -> tuple[Any, ...]:
    conditions = trigger.get("conditions") or {}

    def rows(name: str) -> list[tuple[str, str, str]]:
        return sorted(
            (str(c.get("field")), str(c.get("operator")), str(c.get("value"))) for c in conditions.get(name) or []
        )

    actions = sorted((str(a.get("field")), json.dumps(a.get("value"))) for a in trigger.get("actions") or [])
    return bool(trigger.get("active", True)), rows("all"), rows("any"), actions


def ensure_triggers(http: AdminHttp, desired: list[dict[str, Any]], changes: Changes) -> None:
    existing: dict[str, list[dict[str, Any]]] = {}
    for trigger in paged(http, "/api/v2/triggers.json", "triggers"):
        existing.setdefault(str(trigger.get("title")), []).append(trigger)
    for wanted in desired:
        found = existing.get(wanted["title"], [])
        what = f"trigger {wanted['title']!r}"
        if len(found) > 1:
            changes.problem(f"{len(found)} triggers are titled {wanted['title']!r}: delete the extra ones "
                            "(Admin Center → Objects and rules → Triggers)")  # fmt: skip
            continue
        if not found:
            changes.change("created", what)
            if not changes.dry_run:
                http.request("POST", "/api/v2/triggers.json", json={"trigger": wanted})
        elif _comparable(found[0]) != _comparable(wanted):
            changes.change("updated", f"{what} (conditions or actions differed)")
            if not changes.dry_run:
                http.request("PUT", f"/api/v2/triggers/{found[0]['id']}.json", json={"trigger": wanted})
        else:
            changes.unchanged(what)


def signing_secret(http: AdminHttp, webhook_id: str) -> str:
    answer = http.get(f"/api/v2/webhooks/{webhook_id}/signing_secret") or {}
    secret = (answer.get("signing_secret") or {}).get("secret")
    if not isinstance(secret, str) or not secret:
        raise VendorError("Zendesk", "GET signing_secret", 200, "the answer holds no signing_secret.secret")
    return secret


def trigger_problems(http: AdminHttp, desired: list[dict[str, Any]]) -> list[str]:
    """What differs between the account's triggers and ``desired`` (the doctor's read-only check)."""
    existing: dict[str, list[dict[str, Any]]] = {}
    for trigger in paged(http, "/api/v2/triggers.json", "triggers"):
        existing.setdefault(str(trigger.get("title")), []).append(trigger)
    problems = []
    for wanted in desired:
        found = existing.get(wanted["title"], [])
        if len(found) != 1:
            problems.append(f"{len(found)} triggers titled {wanted['title']!r} (want 1)")
        elif _comparable(found[0]) != _comparable(wanted):
            problems.append(f"trigger {wanted['title']!r} differs (inactive, or its conditions or body changed)")
    return problems


def marker_tags(policy: Policy) -> set[str]:
    """The tags our Zendesk write-back adds: the update trigger fires on none of them (no echo loop)."""
    return {w.writeback.marker_tag for w in policy.workflows.values() if w.source == "zendesk"}
