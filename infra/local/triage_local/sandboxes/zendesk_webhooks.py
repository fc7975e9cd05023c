"""The webhooks a Zendesk account sends when its tickets change: event subscriptions or triggers.

`connect(url, secret, mode="events")` subscribes a webhook to `zen:event-type:ticket.*` events (the
envelope with the ticket snapshot, the actor and the change); `mode="trigger"` runs triggers whose
"Notify by → Active webhook" action sends the JSON body the README tells admins to paste, with its
placeholders rendered. Every change to a ticket — through the API (our write-back), by a person
(`agent_update`, `add_comment`) or at creation — goes through here, so our own write-backs echo back
exactly as they do in a real account. Deliveries are signed (timestamp + body) and retried as Zendesk
retries (`deliveries.zendesk_retries`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from triage_gate.intake.signatures import signed_zendesk_headers
from triage_gate.intake.zendesk import CREATED_TRIGGER_BODY, UPDATED_TRIGGER_BODY
from triage_local.sandboxes.deliveries import Delivery, WebhookSender, zendesk_retries

_VIA = {"email": "Mail", "web": "Web Form", "web_form": "Web Form", "api": "API", "chat": "Chat"}
FIELD_EVENTS = {"priority": "ticket.priority_changed", "group_id": "ticket.group_assignment_changed",
                "type": "ticket.type_changed", "status": "ticket.status_changed",
                "tags": "ticket.tags_changed", "custom_fields": "ticket.custom_field_changed"}  # fmt: skip


@dataclass(frozen=True)
class Trigger:
    """A ticket trigger: on creation or update, unless the ticket carries one of `unless_tags`."""

    name: str
    on: Literal["created", "updated"]
    body: str
    unless_tags: tuple[str, ...] = ()

    def fires(self, kind: str, ticket: dict[str, Any]) -> bool:
        return kind == self.on and not set(self.unless_tags) & set(ticket.get("tags") or [])


# The README's pair: "Ticket is Created", and "Ticket is Updated" + "Tags do not contain ai_triaged".
README_TRIGGERS = (
    Trigger("Triage Gate: new ticket", "created", CREATED_TRIGGER_BODY),
    Trigger("Triage Gate: updated ticket", "updated", UPDATED_TRIGGER_BODY, ("ai_triaged",)),
)


class ZendeskWebhooks:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        mode: Literal["events", "trigger"] = "events",
        account_id: int = 22_129_848,
        triggers: tuple[Trigger, ...] = README_TRIGGERS,
        max_retry_delay: float = 0.2,
    ) -> None:
        self.url, self.secret, self.mode, self.account_id, self.triggers = url, secret, mode, account_id, triggers
        self.webhook_id = "01HZTRIAGEGATE" + uuid.uuid4().hex[:12].upper()
        self.sender = WebhookSender("zendesk", zendesk_retries, max_delay=max_retry_delay)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.sender.deliveries)

    def close(self) -> None:
        self.sender.close()

    # what happened to a ticket → what Zendesk sends -----------------------------------------------
    def emit(
        self, kind: str, ticket: dict[str, Any], audit: dict[str, Any], staff: set[int], brands: dict[int, str]
    ) -> None:
        """`kind` is "created" or "updated"; `audit` is the change (its author and its events)."""
        if self.mode == "trigger":
            for trigger in self.triggers:
                if trigger.fires(kind, ticket):
                    self._send(render(trigger.body, ticket, brands).encode())
            return
        for event_type, event in _subscription_events(kind, audit, staff):
            self._send(json.dumps(self._envelope(event_type, ticket, audit, event)).encode())

    def _envelope(
        self, event_type: str, ticket: dict[str, Any], audit: dict[str, Any], event: dict[str, Any]
    ) -> dict[str, Any]:
        detail = {k: ticket.get(k) for k in ("subject", "description", "created_at", "updated_at", "tags")}
        for key in ("id", "group_id", "brand_id", "requester_id", "organization_id", "assignee_id"):
            detail[key] = None if ticket.get(key) is None else str(ticket[key])
        for key in ("status", "priority", "type"):  # the event API spells enums in capitals
            detail[key] = None if ticket.get(key) is None else str(ticket[key]).upper()
        detail["actor_id"] = str(audit["author_id"])
        detail["via"] = {"channel": (audit.get("via") or {}).get("channel", "web")}
        return {
            "type": f"zen:event-type:{event_type}", "account_id": self.account_id, "id": str(uuid.uuid4()),
            "time": audit["created_at"], "zendesk_event_version": "2022-11-06",
            "subject": f"zen:ticket:{ticket['id']}", "detail": detail, "event": event,
        }  # fmt: skip

    def _send(self, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json", "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Account-Id": str(self.account_id), "X-Zendesk-Webhook-Id": self.webhook_id,
            "X-Zendesk-Webhook-Invocation-Id": uuid.uuid4().hex,
        }  # fmt: skip

        def sign(url: str, raw: bytes) -> dict[str, str]:  # each attempt is signed when it is sent
            return signed_zendesk_headers(self.secret, raw, datetime.now(UTC))

        self.sender.send(self.url, body, sign, headers)


def _subscription_events(kind: str, audit: dict[str, Any], staff: set[int]) -> list[tuple[str, dict[str, Any]]]:
    if kind == "created":
        return [("ticket.created", {})]
    events: list[tuple[str, dict[str, Any]]] = []
    for change in audit.get("events") or []:
        if change.get("type") == "Comment":
            author = int(change.get("author_id") or audit["author_id"])
            comment = {"id": str(change["id"]), "body": change.get("body"), "is_public": change.get("public"),
                       "author": {"id": str(author), "is_staff": author in staff}}  # fmt: skip
            events.append(("ticket.comment_added", {"comment": comment}))
        elif change.get("type") == "Change" and change.get("field_name") in FIELD_EVENTS:
            payload = {"current": change.get("value"), "previous": change.get("previous_value")}
            events.append((FIELD_EVENTS[str(change["field_name"])], payload))
    return events


def render(template: str, ticket: dict[str, Any], brands: dict[int, str]) -> str:
    """Zendesk placeholders as plain text (values are not JSON-escaped: ids and stamps only)."""
    values = {
        "ticket.id": str(ticket["id"]),
        "ticket.created_at_with_timestamp": str(ticket.get("created_at") or ""),
        "ticket.updated_at_with_timestamp": str(ticket.get("updated_at") or ""),
        "ticket.via": _VIA.get(str((ticket.get("via") or {}).get("channel")), "Web Service"),
        "ticket.brand.name": brands.get(ticket.get("brand_id") or 0, ""),
        "ticket.tags": " ".join(ticket.get("tags") or []),
    }
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    return template
