"""A fake HubSpot CRM API: tickets (read, update), companies (read), notes associated with tickets.

Enforces the bearer token, property names and option values on updates (400 `VALIDATION_ERROR` with
HubSpot's per-property errors), string/number property values, the note's required properties and its
association, and the per-10-seconds app limit (429 `TEN_SECONDLY_ROLLING` with the rate-limit headers).
Keeps each ticket property's history (who set it: our integration, or a person in the CRM UI) for
`propertiesWithHistory`, and answers CRM search on notes (by associated ticket and body token).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from triage_local.sandboxes.base import RateWindow, RecordedRequest, Reply, Sandbox, is_json_content
from triage_local.sandboxes.hubspot_admin import TOKEN_INFO_PATH, HubSpotAdmin
from triage_local.sandboxes.hubspot_search import PATHS as SEARCH_PATHS
from triage_local.sandboxes.hubspot_search import TicketSearch

DEFAULT_TICKET_PROPERTIES = ("content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline",
                             "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject")  # fmt: skip
DEFAULT_COMPANY_PROPERTIES = ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name")
ALWAYS_RETURNED = ("hs_object_id", "createdate", "hs_lastmodifieddate")
READ_ONLY = frozenset(ALWAYS_RETURNED)
TICKET_PROPERTIES = (*DEFAULT_TICKET_PROPERTIES, "hubspot_owner_id", "hs_ticket_id", "source_type", "closed_date",
                     "hs_resolution", "tags")  # fmt: skip
OPTIONS = {
    "hs_ticket_priority": ("LOW", "MEDIUM", "HIGH", "URGENT"),
    "hs_ticket_category": ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
}
DEFAULT_TOKEN = "hubspot-sandbox-token"
APP_ID = "1160452"  # the private app our token belongs to: the source of its property changes
HUMAN_USER_ID = 4_410_001  # a person working tickets in the CRM (`agent_update`)
NOTE_TO_TICKET = 228
NOTE_ASSOCIATIONS = {NOTE_TO_TICKET: "tickets", 190: "companies", 202: "contacts"}
MAX_NOTE_BODY = 65_536
_OBJECT = re.compile(r"^/crm/v3/objects/(tickets|companies|notes)(?:/([^/]+))?$")
RATE_LIMITED = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "policyName": "TEN_SECONDLY_ROLLING",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hubspot_error(status: int, category: str, message: str, **extra: Any) -> Reply:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return Reply(status, body)


def property_error(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name, "localizedErrorMessage": message}


class FakeHubSpot(Sandbox):
    """`FakeHubSpot(token)`; seed with `add_ticket`, `add_company`, `associate`; read `notes_for`."""

    name = "hubspot"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        rate_limit_per_10s: int | None = 190,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.token = token
        self.window = RateWindow(rate_limit_per_10s, 10)
        self.ticket_properties: set[str] = set(TICKET_PROPERTIES)
        self.options: dict[str, tuple[str, ...]] = dict(OPTIONS)
        self.tickets: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.associations: dict[str, list[str]] = {}  # ticket id -> company ids
        self.history: dict[str, dict[str, list[dict[str, Any]]]] = {}  # ticket id -> property -> oldest first
        self._before_update: dict[str, Callable[[], None]] = {}
        self._note_ids = itertools.count(80_000_001)
        self.search = TicketSearch(self)  # ticket search (createdate windows) and batch read with history
        self.admin = HubSpotAdmin(self, APP_ID)  # token info, the Properties API (hubspot_admin.py)

    # seeding -------------------------------------------------------------------------------------
    def allow_properties(self, *names: str) -> None:
        """Define extra (custom) ticket properties that updates may set."""
        with self.lock:
            self.ticket_properties.update(names)

    def set_options(self, name: str, options: tuple[str, ...] | None) -> None:
        """Restrict an enumeration property to `options` (None: accept any value)."""
        with self.lock:
            self.allow_properties(name)
            if options is None:
                self.options.pop(name, None)
            else:
                self.options[name] = tuple(options)

    def add_ticket(self, ticket_id: int | str, **properties: Any) -> dict[str, Any]:
        """Seed a ticket; property values are stored as strings, like HubSpot's."""
        with self.lock:
            self.allow_properties(*properties)
            ticket = self._new_object(str(ticket_id), properties, {"hs_pipeline": "0", "hs_pipeline_stage": "1"})
            self.tickets[ticket["id"]] = ticket
            created = {"sourceType": "CRM_UI", "sourceId": f"userId:{HUMAN_USER_ID}", "updatedByUserId": HUMAN_USER_ID}
            self._record_history(ticket, ticket["properties"], created)
            return copy.deepcopy(ticket)

    def agent_update(self, ticket_id: int | str, user_id: int = HUMAN_USER_ID, **properties: Any) -> None:
        """A person edits the ticket in the CRM: the properties' history names them."""
        with self.lock:
            ticket = self.tickets[str(ticket_id)]
            ticket["properties"].update({k: str(v) for k, v in properties.items()})
            ticket["updatedAt"] = ticket["properties"]["hs_lastmodifieddate"] = _now()
            source = {"sourceType": "CRM_UI", "sourceId": f"userId:{user_id}", "updatedByUserId": user_id}
            self._record_history(ticket, properties, source)

    def before_next_update(self, ticket_id: int | str, action: Callable[[], None]) -> None:
        """Run `action` when the next PATCH of the ticket arrives, before it is applied."""
        with self.lock:
            self._before_update[str(ticket_id)] = action

    def history_of(self, ticket_id: int | str, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.history.get(str(ticket_id), {}).get(name, []))

    def _record_history(self, ticket: dict[str, Any], properties: dict[str, Any], source: dict[str, Any]) -> None:
        at = ticket["properties"]["hs_lastmodifieddate"]
        history = self.history.setdefault(ticket["id"], {})
        for name, value in properties.items():
            if name not in READ_ONLY:
                history.setdefault(name, []).append({"value": None if value is None else str(value),
                                                     "timestamp": at, **source})  # fmt: skip

    def add_company(self, company_id: int | str, **properties: Any) -> dict[str, Any]:
        with self.lock:
            company = self._new_object(str(company_id), properties, {"name": f"Company {company_id}"})
            self.companies[company["id"]] = company
            return copy.deepcopy(company)

    def associate(self, ticket_id: int | str, company_id: int | str) -> None:
        with self.lock:
            self.associations.setdefault(str(ticket_id), []).append(str(company_id))

    def ticket(self, ticket_id: int | str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.tickets[str(ticket_id)])

    def notes_for(self, ticket_id: int | str) -> list[dict[str, Any]]:
        """Notes associated with the ticket (type 228), oldest first."""
        with self.lock:
            return [copy.deepcopy(n) for n in self.notes.values() if str(ticket_id) in n["_tickets"]]

    def error_body(self, status: int) -> Any:
        return {"status": "error", "message": f"Injected failure ({status})", "correlationId": str(uuid.uuid4()),
                "category": "INTERNAL_ERROR"}  # fmt: skip

    def _new_object(self, object_id: str, given: dict[str, Any], defaults: dict[str, str]) -> dict[str, Any]:
        now = _now()
        base = {"hs_object_id": object_id, "createdate": now, "hs_lastmodifieddate": now, **defaults}
        props = {**base, **{k: None if v is None else str(v) for k, v in given.items()}}
        return {"id": object_id, "properties": props, "createdAt": now, "updatedAt": now, "archived": False}

    # serving -------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if request.path == TOKEN_INFO_PATH:  # the token is in the body: no Authorization needed
            return self.admin.token_info(request)
        auth = request.headers.get("authorization", "")
        if not (auth.startswith("Bearer ") and secrets.compare_digest(auth[7:].encode(), self.token.encode())):
            return hubspot_error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found. This API "
                                 "supports OAuth 2.0 authentication and you can find more details at "
                                 "https://developers.hubspot.com/docs/methods/auth/oauth-overview")  # fmt: skip
        with self.lock:
            wait = self.window.hit()
            limit = {"X-HubSpot-RateLimit-Max": str(self.window.limit), "X-HubSpot-RateLimit-Interval-Milliseconds":
                     "10000", "X-HubSpot-RateLimit-Remaining": str(self.window.remaining)}  # fmt: skip
        if self.window.limit is None:
            limit = {}
        if wait is not None:
            return Reply(429, {**RATE_LIMITED, "correlationId": str(uuid.uuid4())}, limit)
        reply = self.refuse_malformed(request) or self._route(request)  # request_shapes.py, then the route
        reply.headers.update(limit)
        return reply

    def _route(self, request: RecordedRequest) -> Reply:
        if request.path in SEARCH_PATHS:
            return self.search.reply(request)
        if self.admin.serves(request.path):
            return self.admin.reply(request)
        match = _OBJECT.match(request.path)
        if not match:
            return hubspot_error(404, "OBJECT_NOT_FOUND", "Resource not found")
        kind, object_id = match[1], match[2]
        problem = _body_problem(request)
        if problem is not None:
            return problem
        if kind == "tickets" and request.method == "PATCH" and object_id is not None:
            self._run_update_hook(object_id)
        with self.lock:
            reply = self._answer(kind, object_id, request)
        if reply is None:
            return hubspot_error(405, "VALIDATION_ERROR", f"{request.method} is not supported here")
        return reply

    def _run_update_hook(self, ticket_id: str) -> None:
        """The `before_next_update` action, if any: run outside the lock (a person got there first)."""
        with self.lock:
            hook = self._before_update.pop(ticket_id, None)
        if hook is not None:
            hook()

    def _answer(self, kind: str, object_id: str | None, request: RecordedRequest) -> Reply | None:
        """The answer to a well-formed request (under the lock); None when the method is not supported."""
        if kind == "notes" and request.method == "POST" and object_id is None:
            return self._create_note(request.json)
        if kind == "notes" and request.method == "POST" and object_id == "search":
            return self._search_notes(request.json)
        table = {"tickets": self.tickets, "companies": self.companies, "notes": self.notes}[kind]
        if object_id is None or object_id not in table:
            return hubspot_error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.",
                                 context={"id": [object_id]})  # fmt: skip
        if request.method == "GET":
            return Reply(200, self._read(kind, table[object_id], request))
        if kind == "tickets" and request.method == "PATCH":
            return self._update_ticket(table[object_id], request.json)
        return None

    def _read(self, kind: str, obj: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        requested = [p for value in request.query.get("properties", []) for p in value.split(",") if p]
        known = self.ticket_properties if kind == "tickets" else set(obj["properties"]) | set(requested)
        if requested:
            names = [*ALWAYS_RETURNED, *(p for p in requested if p in known or p in obj["properties"])]
        else:
            names = list(DEFAULT_TICKET_PROPERTIES if kind == "tickets" else DEFAULT_COMPANY_PROPERTIES)
        body = {**obj, "properties": {name: obj["properties"].get(name) for name in dict.fromkeys(names)}}
        body.pop("_tickets", None)
        with_history = [p for value in request.query.get("propertiesWithHistory", []) for p in value.split(",") if p]
        if kind == "tickets" and with_history:
            recorded = self.history.get(obj["id"], {})
            body["propertiesWithHistory"] = {name: list(reversed(recorded.get(name, []))) for name in with_history}
        wanted = {a for value in request.query.get("associations", []) for a in value.split(",")}
        companies = self.associations.get(obj["id"], []) if kind == "tickets" else []
        if "companies" in wanted and companies:
            results = [{"id": c, "type": "ticket_to_company"} for c in companies]
            body["associations"] = {"companies": {"results": results}}
        return copy.deepcopy(body)

    def _update_ticket(self, ticket: dict[str, Any], payload: dict[str, Any]) -> Reply:
        properties = payload.get("properties")
        if not isinstance(properties, dict):
            return hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON: `properties` is required")
        errors = [e for name, value in properties.items() if (e := self._check_property(name, value)) is not None]
        if errors:
            return hubspot_error(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(errors)}")
        ticket["properties"].update({k: str(v) for k, v in properties.items()})
        ticket["updatedAt"] = ticket["properties"]["hs_lastmodifieddate"] = _now()
        self._record_history(ticket, properties, {"sourceType": "INTEGRATION", "sourceId": APP_ID})
        shown = {name: ticket["properties"].get(name) for name in (*ALWAYS_RETURNED, *properties)}
        return Reply(200, {**copy.deepcopy(ticket), "properties": shown})

    def _check_property(self, name: str, value: Any) -> dict[str, Any] | None:
        if name not in self.ticket_properties:
            return property_error(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
        if name in READ_ONLY:
            return property_error(name, "READ_ONLY_VALUE", f'"{name}" is a read only property')
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            return property_error(name, "INVALID_PROPERTY_VALUE", f"{json.dumps(value)} is not valid for {name}")
        allowed = self.options.get(name)
        if allowed is not None and str(value) not in allowed:
            return property_error(name, "INVALID_OPTION", f"{value} was not one of the allowed options: {allowed}")
        return None

    def _create_note(self, payload: dict[str, Any]) -> Reply:
        props = payload.get("properties")
        if not isinstance(props, dict):
            return hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON: `properties` is required")
        errors = [property_error(name, "REQUIRED_PROPERTY", f'Property "{name}" is required')
                  for name in ("hs_timestamp", "hs_note_body") if props.get(name) in (None, "")]  # fmt: skip
        if not errors and not _valid_timestamp(props["hs_timestamp"]):
            errors.append(property_error("hs_timestamp", "INVALID_DATE", "hs_timestamp must be ms epoch or ISO 8601"))
        if not errors and len(str(props["hs_note_body"])) > MAX_NOTE_BODY:
            errors.append(property_error("hs_note_body", "INVALID_PROPERTY_VALUE", "hs_note_body is too long"))
        if errors:
            return hubspot_error(400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(errors)}")
        linked, problem = self._note_associations(payload.get("associations") or [])
        if problem is not None:
            return problem
        note = self._new_object(str(next(self._note_ids)), props, {})
        note["_tickets"] = linked
        self.notes[note["id"]] = note
        body = {k: v for k, v in copy.deepcopy(note).items() if k != "_tickets"}
        return Reply(201, body)

    def _search_notes(self, query: dict[str, Any]) -> Reply:
        """CRM search over notes: filters `associations.ticket` EQ and `hs_note_body` CONTAINS_TOKEN (AND)."""
        groups = query.get("filterGroups") or [{"filters": []}]
        matches = [n for n in self.notes.values() if any(_matches(n, g.get("filters") or []) for g in groups)]
        limit = min(int(query.get("limit") or 10), 200)
        results = [{"id": n["id"], "properties": {"hs_note_body": n["properties"].get("hs_note_body"),
                                                   "hs_object_id": n["id"]}, "archived": False}
                   for n in matches[:limit]]  # fmt: skip
        return Reply(200, {"total": len(matches), "results": results})

    def _note_associations(self, associations: Any) -> tuple[list[str], Reply | None]:
        tickets: list[str] = []
        if not isinstance(associations, list):
            return [], hubspot_error(400, "VALIDATION_ERROR", "associations must be a list")
        for item in associations:
            target = str((item.get("to") or {}).get("id", "")) if isinstance(item, dict) else ""
            types = item.get("types") if isinstance(item, dict) else None
            if not target or not isinstance(types, list) or not types:
                return [], hubspot_error(400, "VALIDATION_ERROR", "Each association needs `to.id` and `types`")
            for kind in types:
                type_id = kind.get("associationTypeId") if isinstance(kind, dict) else None
                category = kind.get("associationCategory") if isinstance(kind, dict) else None
                if category != "HUBSPOT_DEFINED" or type_id not in NOTE_ASSOCIATIONS:
                    return [], hubspot_error(400, "VALIDATION_ERROR", f"Invalid association type {kind!r}")
                if type_id == NOTE_TO_TICKET:
                    if target not in self.tickets:
                        return [], hubspot_error(400, "VALIDATION_ERROR", f"No ticket with id {target} exists")
                    tickets.append(target)
        return tickets, None


def _body_problem(request: RecordedRequest) -> Reply | None:
    """A write whose body is not a JSON object: 415 (not JSON) or 400 (JSON, not an object)."""
    if request.method not in ("POST", "PATCH", "PUT"):
        return None
    if not is_json_content(request):
        return hubspot_error(415, "VALIDATION_ERROR", "Unsupported Media Type: use application/json")
    if not isinstance(request.json, dict):
        return hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1: expected an object")
    return None


def _valid_timestamp(value: Any) -> bool:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return True
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _matches(note: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    for item in filters:
        name, operator, value = item.get("propertyName"), item.get("operator"), str(item.get("value"))
        if name == "associations.ticket" and operator == "EQ":
            ok = value in note["_tickets"]
        elif operator == "CONTAINS_TOKEN":
            ok = value.lower() in re.split(r"[^a-z0-9_]+", str(note["properties"].get(name) or "").lower())
        elif operator == "EQ":
            ok = str(note["properties"].get(name)) == value
        else:
            return False
        if not ok:
            return False
    return True
