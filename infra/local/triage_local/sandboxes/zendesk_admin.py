"""FakeZendesk's account and admin endpoints: users, organizations, groups, brands, ticket fields, and (in
:mod:`.zendesk_automation`) webhooks and triggers.

``FakeZendesk._route`` hands every request to :meth:`ZendeskAdmin.reply` first; None means "not an admin path".
Lists page as Zendesk pages them (:mod:`.zendesk_pages`). Ticket fields: the system fields every account has,
plus custom ones seeded with :meth:`add_ticket_field` (dropdowns carry ``custom_field_options``).
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from triage_local.sandboxes.base import RecordedRequest, Reply
from triage_local.sandboxes.zendesk_automation import ZendeskAutomation
from triage_local.sandboxes.zendesk_pages import page_of
from triage_local.sandboxes.zendesk_rules import NOT_FOUND

if TYPE_CHECKING:
    from triage_local.sandboxes.zendesk import FakeZendesk

_RECORD = re.compile(r"^/api/v2/(users|organizations)/(\d+)(?:\.json)?$")
_LIST = re.compile(r"^/api/v2/(groups|brands|ticket_fields)(?:\.json)?$")
SYSTEM_FIELDS = (
    (10_001, "subject", "Subject"), (10_002, "description", "Description"), (10_003, "status", "Status"),
    (10_004, "tickettype", "Type"), (10_005, "priority", "Priority"), (10_006, "group", "Group"),
    (10_007, "assignee", "Assignee"),
)  # fmt: skip


class ZendeskAdmin:
    """One FakeZendesk's account records and admin API (webhooks and triggers: ``automation``)."""

    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake
        self.ticket_fields: dict[int, dict[str, Any]] = {}
        for field_id, kind, title in SYSTEM_FIELDS:
            self.ticket_fields[field_id] = self._field(field_id, kind, title, (), removable=False)
        self.automation = ZendeskAutomation(fake)

    # seeding -------------------------------------------------------------------------------------
    def add_ticket_field(
        self, field_id: int, title: str, *, kind: str = "tagger", options: tuple[tuple[str, str], ...] = ()
    ) -> dict[str, Any]:
        """A custom ticket field; ``options`` are a dropdown's ``(name, value)`` pairs (its tags)."""
        field = self._field(field_id, kind, title, options, removable=True)
        with self.fake.lock:
            self.ticket_fields[field_id] = field
        return copy.deepcopy(field)

    def _field(self, field_id: int, kind: str, title: str, options: tuple[tuple[str, str], ...],
               *, removable: bool) -> dict[str, Any]:  # fmt: skip
        field: dict[str, Any] = {
            "id": field_id, "url": f"/api/v2/ticket_fields/{field_id}.json", "type": kind, "title": title,
            "raw_title": title, "description": "", "active": True, "required": False, "removable": removable,
        }  # fmt: skip
        if kind in ("tagger", "multiselect"):
            field["custom_field_options"] = [
                {"id": field_id * 100 + i, "name": name, "raw_name": name, "value": value, "default": False}
                for i, (name, value) in enumerate(options, start=1)
            ]
        return field

    # serving -------------------------------------------------------------------------------------
    def reply(self, request: RecordedRequest) -> Reply | None:
        """The answer to an account or admin request (under no lock), or None for any other path."""
        if request.path in ("/api/v2/users/me.json", "/api/v2/users/me") and request.method == "GET":
            with self.fake.lock:
                return Reply(200, {"user": copy.deepcopy(self.fake.users[self.fake.agent_id])})
        record = _RECORD.match(request.path)
        if record and request.method == "GET":
            table = self.fake.users if record[1] == "users" else self.fake.organizations
            with self.fake.lock:
                found = copy.deepcopy(table.get(int(record[2])))
            return Reply(200, {record[1][:-1]: found}) if found else Reply(404, NOT_FOUND)
        listing = _LIST.match(request.path)
        if listing:
            if request.method != "GET":
                return Reply(405, {"error": "MethodNotAllowed", "description": f"{request.method} is not allowed here"})
            with self.fake.lock:
                items = self._items(listing[1])
            return page_of(listing[1], items, request, self.fake.url)
        if self.automation.serves(request.path):
            return self.automation.reply(request, self._is_admin())
        return None

    def _items(self, name: str) -> list[dict[str, Any]]:
        if name == "groups":
            return [{"deleted": False, "default": False, "description": "", **copy.deepcopy(g)}
                    for _, g in sorted(self.fake.groups.items())]  # fmt: skip
        if name == "brands":
            return [
                {"id": brand_id, "name": brand, "subdomain": re.sub(r"[^a-z0-9]+", "", brand.lower()), "active": True}
                for brand_id, brand in sorted(self.fake.brands.items())
            ]
        return [copy.deepcopy(f) for _, f in sorted(self.ticket_fields.items())]

    def _is_admin(self) -> bool:
        with self.fake.lock:
            return self.fake.users[self.fake.agent_id].get("role") == "admin"
