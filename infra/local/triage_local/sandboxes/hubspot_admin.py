"""FakeHubSpot's admin endpoints: a private app token's info, and the CRM Properties API for tickets.

- ``POST /oauth/v2/private-apps/get/access-token-info`` with ``{"tokenKey": TOKEN}`` → ``{userId, hubId, appId,
  scopes}`` (no scope needed; an unknown token is refused).
- ``/crm/v3/properties/tickets`` (list, create), ``/crm/v3/properties/tickets/{name}`` (read, PATCH), and
  ``/crm/v3/properties/tickets/groups[/{name}]`` (list, read, create): these need the ``tickets`` scope, or
  both granular ticket scopes (403 ``MISSING_SCOPES`` otherwise). HubSpot's own ticket properties are listed as
  the fake knows them; a custom property created here becomes writable on tickets, an enumeration's option
  values become the only ones a ticket update may set (``FakeHubSpot.set_options``).
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_local.sandboxes.base import RecordedRequest, Reply

if TYPE_CHECKING:
    from triage_local.sandboxes.hubspot import FakeHubSpot

TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"
_PROPERTIES = re.compile(r"^/crm/v3/properties/tickets(?:/(groups))?(?:/([^/]+))?$")
DEFAULT_SCOPES = ("crm.objects.companies.read", "crm.objects.contacts.read", "crm.objects.contacts.write", "tickets")
GRANULAR_TICKETS = {"crm.objects.tickets.read", "crm.objects.tickets.write"}  # grant what "tickets" grants
PORTAL_ID, USER_ID = 33, 4_410_009
FIELD_TYPES = {
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox"),
    "string": ("text", "textarea"),
    "number": ("number",),
    "date": ("date",),
    "datetime": ("date",),
    "bool": ("booleancheckbox",),
}
BUILT_IN_GROUP = "ticketinformation"


def _error(status: int, category: str, message: str, **extra: Any) -> Reply:
    """HubSpot's error body (as ``hubspot.hubspot_error`` writes it)."""
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return Reply(status, body)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def option_problem(options: Any) -> str | None:
    if not isinstance(options, list) or not options:
        return "an enumeration needs options"
    values = [o.get("value") if isinstance(o, dict) else None for o in options]
    if not all(isinstance(v, str) and v for v in values) or not all(isinstance(o.get("label"), str) for o in options):
        return "each option needs a label and a value"
    if len(set(values)) != len(values):
        return "option values must be unique"
    return None


class HubSpotAdmin:
    def __init__(self, fake: FakeHubSpot, app_id: str) -> None:
        self.fake = fake
        self.app_id = int(app_id)
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        built_in = {"name": BUILT_IN_GROUP, "label": "Ticket information", "displayOrder": 0, "archived": False}
        self.groups: dict[str, dict[str, Any]] = {BUILT_IN_GROUP: built_in}
        self.custom: dict[str, dict[str, Any]] = {}

    # token info ---------------------------------------------------------------------------------
    def token_info(self, request: RecordedRequest) -> Reply:
        given = (request.json or {}).get("tokenKey") if isinstance(request.json, dict) else None
        if request.method != "POST" or not isinstance(given, str) or given != self.fake.token:
            return _error(401, "INVALID_AUTHENTICATION", "The access token provided is invalid or expired")
        return Reply(200, {"userId": USER_ID, "hubId": PORTAL_ID, "appId": self.app_id, "scopes": sorted(self.scopes)})

    # properties ---------------------------------------------------------------------------------
    def serves(self, path: str) -> bool:
        return bool(_PROPERTIES.match(path))

    def reply(self, request: RecordedRequest) -> Reply:
        if "tickets" not in self.scopes and not self.scopes.issuperset(GRANULAR_TICKETS):
            return _error(403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call.",
                          errors=[{"message": "One or more of the following scopes are required.",
                                   "context": {"requiredGranularScopes": ["tickets"]}}])  # fmt: skip
        match = _PROPERTIES.match(request.path)
        assert match is not None
        with self.fake.lock:
            if match[1] == "groups":
                return self._groups(match[2], request)
            return self._properties(match[2], request)

    def _groups(self, name: str | None, request: RecordedRequest) -> Reply:
        if name is None and request.method == "GET":
            return Reply(200, {"results": [copy.deepcopy(g) for g in self.groups.values()]})
        if name is None and request.method == "POST":
            body = request.json or {}
            group_name, label = body.get("name"), body.get("label")
            if not (isinstance(group_name, str) and re.match(r"^[a-z][a-z0-9_]*$", group_name) and label):
                return _error(400, "VALIDATION_ERROR", "A property group needs a name (lower case) and a label")
            if group_name in self.groups:
                return _error(409, "OBJECT_ALREADY_EXISTS", f"A property group named '{group_name}' already exists.")
            self.groups[group_name] = {"name": group_name, "label": label,
                                       "displayOrder": body.get("displayOrder", -1), "archived": False}  # fmt: skip
            return Reply(201, copy.deepcopy(self.groups[group_name]))
        if name is not None and request.method == "GET":
            found = self.groups.get(name)
            if found is None:
                return _error(404, "OBJECT_NOT_FOUND", f"Unable to find property group {name}")
            return Reply(200, copy.deepcopy(found))
        return _error(405, "VALIDATION_ERROR", f"{request.method} is not supported here")

    def _properties(self, name: str | None, request: RecordedRequest) -> Reply:
        if name is None and request.method == "GET":
            return Reply(200, {"results": [self.describe(n) for n in sorted(self.fake.ticket_properties)]})
        if name is None and request.method == "POST":
            return self._create(request.json or {})
        if name is None or name not in self.fake.ticket_properties:
            return _error(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type tickets")
        if request.method == "GET":
            return Reply(200, self.describe(name))
        if request.method == "PATCH":
            return self._update(name, request.json or {})
        return _error(405, "VALIDATION_ERROR", f"{request.method} is not supported here")

    def describe(self, name: str) -> dict[str, Any]:
        """A property as the Properties API shows it (HubSpot's own, or a custom one created here)."""
        if name in self.custom:
            return copy.deepcopy(self.custom[name])
        options = self.fake.options.get(name)
        return {
            "name": name, "label": name.replace("_", " ").capitalize(), "groupName": BUILT_IN_GROUP,
            "type": "enumeration" if options else "string", "fieldType": "select" if options else "text",
            "options": [{"label": v.replace("_", " ").capitalize(), "value": v, "displayOrder": i, "hidden": False}
                        for i, v in enumerate(options or ())],
            "hubspotDefined": True, "archived": False,
            "modificationMetadata": {"archivable": False, "readOnlyDefinition": True, "readOnlyValue": False},
        }  # fmt: skip

    def _create(self, body: dict[str, Any]) -> Reply:
        name = body.get("name")
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
            return _error(400, "VALIDATION_ERROR", "name must start with a letter: lower case letters, digits, _")
        if name in self.fake.ticket_properties:
            return _error(409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists.")
        problem = self._definition_problem(body)
        if problem:
            return _error(400, "VALIDATION_ERROR", problem)
        now = _now()
        prop = {
            "name": name, "label": body["label"], "description": body.get("description", ""),
            "groupName": body["groupName"], "type": body["type"], "fieldType": body["fieldType"],
            "options": copy.deepcopy(body.get("options") or []), "hubspotDefined": False, "archived": False,
            "createdAt": now, "updatedAt": now, "displayOrder": body.get("displayOrder", -1),
            "formField": bool(body.get("formField", False)),
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False},
        }  # fmt: skip
        self.custom[name] = prop
        self._apply(prop)
        return Reply(201, copy.deepcopy(prop))

    def _update(self, name: str, body: dict[str, Any]) -> Reply:
        if name not in self.custom:
            return _error(400, "VALIDATION_ERROR", f"{name} is a HubSpot property: its definition is read only")
        if "type" in body and body["type"] != self.custom[name]["type"]:
            return _error(400, "VALIDATION_ERROR", "a property's type cannot be changed")
        changed = {**self.custom[name], **{k: copy.deepcopy(v) for k, v in body.items() if k != "name"}}
        problem = self._definition_problem(changed)
        if problem:
            return _error(400, "VALIDATION_ERROR", problem)
        changed["updatedAt"] = _now()
        self.custom[name] = changed
        self._apply(changed)
        return Reply(200, copy.deepcopy(changed))

    def _definition_problem(self, body: dict[str, Any]) -> str | None:
        if not isinstance(body.get("label"), str) or not body["label"]:
            return "label is required"
        if body.get("groupName") not in self.groups:
            return f"property group {body.get('groupName')!r} does not exist"
        kind, field_type = body.get("type"), body.get("fieldType")
        if kind not in FIELD_TYPES or field_type not in FIELD_TYPES[kind]:
            return f"fieldType {field_type!r} is not valid for type {kind!r}"
        return option_problem(body.get("options")) if kind == "enumeration" else None

    def _apply(self, prop: dict[str, Any]) -> None:
        """What tickets accept from now on: the property, and an enumeration's option values only."""
        values = tuple(o["value"] for o in prop["options"]) if prop["type"] == "enumeration" else None
        self.fake.set_options(prop["name"], values)
