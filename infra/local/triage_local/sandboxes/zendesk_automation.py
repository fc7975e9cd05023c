"""FakeZendesk's Webhooks API and Triggers API, admins only (403 for agents), as Zendesk serves them.

Webhooks (``/api/v2/webhooks``): list (cursor pages, ``filter[name_contains]``), create (201), show, update
(PUT, 204), patch (PATCH, 204), delete (204), and the signing secret (``GET``/``POST .../signing_secret``:
``{"signing_secret": {"algorithm": "SHA256", "secret": ...}}``). A webhook is connected either to triggers
(``subscriptions: ["conditional_ticket_events"]``, any method and format) or to Zendesk events
(``zen:event-type:*``, POST + json only), and cannot switch after creation.

Triggers (``/api/v2/triggers``): list (offset or cursor pages), create (201), show, update (PUT, 200), delete
(204); a ``notification_webhook`` action must name an existing webhook (422 otherwise).

What is configured is what the account sends: after every change the account's deliveries follow the active
webhook — its events, or the triggers that notify it whose conditions the fake understands (``update_type``
is Create/Change, ``current_tags`` ``not_includes``) — signed with that webhook's secret
(``FakeZendesk.connect``). A connection a test made itself with ``connect`` is left alone.
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from triage_local.sandboxes.base import RecordedRequest, Reply
from triage_local.sandboxes.zendesk_pages import page_of
from triage_local.sandboxes.zendesk_rules import NOT_FOUND, invalid, stamp
from triage_local.sandboxes.zendesk_webhooks import Trigger

if TYPE_CHECKING:
    from triage_local.sandboxes.zendesk import FakeZendesk

_WEBHOOK = re.compile(r"^/api/v2/webhooks(?:/([A-Za-z0-9]+))?(/signing_secret)?$")
_TRIGGER = re.compile(r"^/api/v2/triggers(?:/(\d+))?(?:\.json)?$")
CONDITIONAL = "conditional_ticket_events"
EVENT_PREFIX = "zen:event-type:"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORMATS = ("json", "xml", "form_encoded")
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page (admins only)."}
WEBHOOK_FIELDS = ("name", "description", "endpoint", "http_method", "request_format", "status", "subscriptions",
                  "authentication", "custom_headers")  # fmt: skip


def _webhook_error(detail: str, status: int = 400) -> Reply:
    return Reply(status, {"errors": [{"code": "InvalidInput", "title": "Invalid input", "detail": detail}]})


def webhook_problem(webhook: dict[str, Any]) -> str | None:
    """Why Zendesk refuses this webhook definition, or None."""
    for name in ("name", "endpoint", "http_method", "request_format", "status"):
        if not isinstance(webhook.get(name), str) or not webhook[name]:
            return f"{name} is required"
    if not re.match(r"^https?://", webhook["endpoint"]):
        return "endpoint must be an http(s) URL"
    if webhook["http_method"] not in METHODS or webhook["request_format"] not in FORMATS:
        return "http_method or request_format is not allowed"
    if webhook["status"] not in ("active", "inactive"):
        return "status must be active or inactive"
    subscriptions = webhook.get("subscriptions") or []
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        return "subscriptions must be a list of strings"
    if CONDITIONAL in subscriptions and len(subscriptions) > 1:
        return f"{CONDITIONAL} cannot be combined with event subscriptions"
    events = [s for s in subscriptions if s != CONDITIONAL]
    if any(not s.startswith(EVENT_PREFIX) for s in events):
        return "unknown subscription"
    if events and (webhook["http_method"] != "POST" or webhook["request_format"] != "json"):
        return "a webhook subscribed to Zendesk events must use POST and json"
    return None


def connection(webhook: dict[str, Any]) -> Literal["trigger", "events", "none"]:
    subscriptions = webhook.get("subscriptions") or []
    if CONDITIONAL in subscriptions:
        return "trigger"
    return "events" if subscriptions else "none"


def understood_trigger(trigger: dict[str, Any], webhook_id: str) -> Trigger | None:
    """The fake's model of an active trigger that notifies ``webhook_id``, if its conditions are understood."""
    action = next((a for a in trigger.get("actions") or [] if a.get("field") == "notification_webhook"), None)
    if not trigger.get("active", True) or action is None or action["value"][0] != webhook_id:
        return None
    conditions = trigger.get("conditions") or {}
    if conditions.get("any"):
        return None
    on: Literal["created", "updated"] | None = None
    unless: list[str] = []
    for condition in conditions.get("all") or []:
        field, operator, value = condition.get("field"), condition.get("operator"), condition.get("value")
        if (field, operator) == ("update_type", "is") and value in ("Create", "Change"):
            on = "created" if value == "Create" else "updated"
        elif (field, operator) == ("current_tags", "not_includes") and isinstance(value, str):
            unless.extend(value.split())
        else:
            return None
    return None if on is None else Trigger(str(trigger["title"]), on, str(action["value"][1]), tuple(unless))


class ZendeskAutomation:
    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.signing_secrets: dict[str, str] = {}
        self.triggers: dict[int, dict[str, Any]] = {}
        self._trigger_ids = itertools.count(360_100_001)
        self._connected_to: str | None = None  # the webhook this API connected the account's deliveries to

    def serves(self, path: str) -> bool:
        return bool(_WEBHOOK.match(path) or _TRIGGER.match(path))

    def reply(self, request: RecordedRequest, is_admin: bool) -> Reply:
        if not is_admin:
            return Reply(403, FORBIDDEN)
        with self.fake.lock:
            webhook = _WEBHOOK.match(request.path)
            reply = self._webhooks(webhook, request) if webhook else self._triggers(request)
        if request.method != "GET" and reply.status < 300:
            self.sync_deliveries()
        return reply

    # webhooks -----------------------------------------------------------------------------------
    def _webhooks(self, match: re.Match[str], request: RecordedRequest) -> Reply:
        webhook_id, secret_path = match[1], match[2]
        if webhook_id is None:
            return self._list_webhooks(request) if request.method == "GET" else self._create_webhook(request)
        if webhook_id not in self.webhooks:
            return _webhook_error("webhook not found", 404)
        if secret_path:
            if request.method == "POST":
                self.signing_secrets[webhook_id] = secrets.token_urlsafe(32)
            elif request.method != "GET":
                return _webhook_error("method not allowed", 405)
            secret = {"algorithm": "SHA256", "secret": self.signing_secrets[webhook_id]}
            return Reply(201 if request.method == "POST" else 200, {"signing_secret": secret})
        if request.method == "GET":
            return Reply(200, {"webhook": copy.deepcopy(self.webhooks[webhook_id])})
        if request.method == "DELETE":
            del self.webhooks[webhook_id], self.signing_secrets[webhook_id]
            return Reply(204)
        if request.method in ("PUT", "PATCH"):
            return self._change_webhook(webhook_id, request)
        return _webhook_error("method not allowed", 405)

    def _list_webhooks(self, request: RecordedRequest) -> Reply:
        contains = (request.param("filter[name_contains]") or "").lower()
        found = [copy.deepcopy(w) for w in self.webhooks.values() if contains in w["name"].lower()]
        page = page_of("webhooks", found, request, self.fake.url) if request.param("page[size]") else None
        if page is not None:
            return page
        return Reply(200, {"webhooks": found, "meta": {"has_more": False, "after_cursor": None}, "links": {}})

    def _create_webhook(self, request: RecordedRequest) -> Reply:
        given = (request.json or {}).get("webhook")
        if not isinstance(given, dict):
            return _webhook_error('the body must be {"webhook": {...}}')
        webhook = {k: copy.deepcopy(given[k]) for k in WEBHOOK_FIELDS if k in given}
        problem = webhook_problem(webhook)
        if problem:
            return _webhook_error(problem)
        now = stamp(datetime.now(UTC))
        webhook_id = "01" + uuid.uuid4().hex[:24].upper()
        webhook.update(id=webhook_id, created_at=now, updated_at=now, created_by=str(self.fake.agent_id))
        webhook.setdefault("subscriptions", [])
        self.webhooks[webhook_id] = webhook
        supplied = (given.get("signing_secret") or {}).get("secret")
        given_secret = isinstance(supplied, str) and bool(supplied)
        self.signing_secrets[webhook_id] = str(supplied) if given_secret else secrets.token_urlsafe(32)
        return Reply(201, {"webhook": copy.deepcopy(webhook)})

    def _change_webhook(self, webhook_id: str, request: RecordedRequest) -> Reply:
        given = (request.json or {}).get("webhook")
        if not isinstance(given, dict):
            return _webhook_error('the body must be {"webhook": {...}}')
        current = self.webhooks[webhook_id]
        base = {} if request.method == "PUT" else {k: current[k] for k in WEBHOOK_FIELDS if k in current}
        changed = {**base, **{k: copy.deepcopy(given[k]) for k in WEBHOOK_FIELDS if k in given}}
        problem = webhook_problem(changed)
        if problem:
            return _webhook_error(problem)
        if connection(changed) != connection(current) and connection(current) != "none":
            return _webhook_error("a webhook's connection method (triggers or Zendesk events) cannot be changed")
        current.update(changed, updated_at=stamp(datetime.now(UTC)))
        return Reply(204)

    # triggers -----------------------------------------------------------------------------------
    def _triggers(self, request: RecordedRequest) -> Reply:
        match = _TRIGGER.match(request.path)
        trigger_id = int(match[1]) if match and match[1] else None
        if trigger_id is None:
            if request.method == "GET":
                ordered = sorted(self.triggers.values(), key=lambda t: (t["position"], t["id"]))
                return page_of("triggers", [copy.deepcopy(t) for t in ordered], request, self.fake.url)
            return self._save_trigger(None, request) if request.method == "POST" else _webhook_error("bad method", 405)
        if trigger_id not in self.triggers:
            return Reply(404, NOT_FOUND)
        if request.method == "GET":
            return Reply(200, {"trigger": copy.deepcopy(self.triggers[trigger_id])})
        if request.method == "DELETE":
            del self.triggers[trigger_id]
            return Reply(204)
        return self._save_trigger(trigger_id, request) if request.method == "PUT" else _webhook_error("bad method", 405)

    def _save_trigger(self, trigger_id: int | None, request: RecordedRequest) -> Reply:
        given = (request.json or {}).get("trigger")
        if not isinstance(given, dict):
            return invalid("trigger", 'the body must be {"trigger": {...}}')
        current = self.triggers.get(trigger_id) if trigger_id is not None else None
        merged = {**(current or {}), **copy.deepcopy(given)}
        problem = self._trigger_problem(merged)
        if problem is not None:
            return problem
        now = stamp(datetime.now(UTC))
        conditions = merged.get("conditions") or {}
        trigger = {
            "id": trigger_id or next(self._trigger_ids), "title": merged["title"], "raw_title": merged["title"],
            "active": bool(merged.get("active", True)), "description": merged.get("description"),
            "position": merged.get("position") or len(self.triggers) + 1, "category_id": merged.get("category_id"),
            "conditions": {"all": list(conditions.get("all") or []), "any": list(conditions.get("any") or [])},
            "actions": merged["actions"], "created_at": (current or {}).get("created_at", now), "updated_at": now,
            "default": False,
        }  # fmt: skip
        trigger["url"] = f"{self.fake.url}/api/v2/triggers/{trigger['id']}.json"
        self.triggers[trigger["id"]] = trigger
        return Reply(200 if current else 201, {"trigger": copy.deepcopy(trigger)})

    def _trigger_problem(self, trigger: dict[str, Any]) -> Reply | None:
        if not isinstance(trigger.get("title"), str) or not trigger["title"].strip():
            return invalid("title", "cannot be blank")
        actions = trigger.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return invalid("actions", "must have at least one action")
        conditions = trigger.get("conditions")
        if not isinstance(conditions, dict) or not (conditions.get("all") or conditions.get("any")):
            return invalid("conditions", "must have at least one condition")
        for condition in [*(conditions.get("all") or []), *(conditions.get("any") or [])]:
            if not isinstance(condition, dict) or not {"field", "operator"} <= set(condition):
                return invalid("conditions", "each condition needs field, operator and value")
        for action in actions:
            if action.get("field") == "notification_webhook":
                value = action.get("value")
                if not (isinstance(value, list) and len(value) == 2 and value[0] in self.webhooks):
                    return invalid("actions", "notification_webhook must name an existing webhook and a body")
        return None

    # what the account sends ---------------------------------------------------------------------
    def sync_deliveries(self) -> None:
        """Point the account's deliveries at the active webhook (events, or the triggers notifying it)."""
        with self.fake.lock:
            active = [w for w in self.webhooks.values() if w["status"] == "active" and connection(w) != "none"]
            chosen = active[0] if active else None
            plan: tuple[str, str, Literal["events", "trigger"], tuple[Trigger, ...]] | None = None
            if chosen is not None:
                mode: Literal["events", "trigger"] = "trigger" if connection(chosen) == "trigger" else "events"
                triggers = tuple(t for t in (understood_trigger(x, chosen["id"]) for x in self.triggers.values()) if t)
                if mode == "events" or triggers:
                    plan = (chosen["endpoint"], self.signing_secrets[chosen["id"]], mode, triggers)
        if plan is None:
            if self._connected_to is not None:
                self.fake.disconnect()
                self._connected_to = None
            return
        endpoint, secret, mode, triggers = plan
        self.fake.connect(endpoint, secret, mode=mode, triggers=triggers)
        self._connected_to = endpoint
