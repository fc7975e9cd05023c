"""A fake Zendesk Ticketing API: tickets (read, update, tags, comments), users and organizations.

Enforces API-token basic auth (`{email}/token:{api_token}`), JSON bodies on writes, the account's
per-minute limit and the per-ticket update limit (429 + `Retry-After`), field validation (422
`RecordInvalid`), closed tickets, and safe updates (409 when `updated_stamp` is stale).
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from triage_local.sandboxes.base import RateWindow, RecordedRequest, Reply, Sandbox, is_json_content
from triage_local.sandboxes.zendesk_rules import (
    CONFLICT,
    NOT_FOUND,
    invalid,
    normalise_tags,
    parse_stamp,
    stamp,
    validate_update,
)

DEFAULT_EMAIL = "agent@example.com"
DEFAULT_TOKEN = "zendesk-sandbox-token"
_TICKET = re.compile(r"^/api/v2/tickets/(\d+)(/tags|/comments)?(?:\.json)?$")
_OTHER = re.compile(r"^/api/v2/(users|organizations)/(\d+)(?:\.json)?$")


class FakeZendesk(Sandbox):
    """`FakeZendesk(email, api_token)`; seed with `add_ticket`, `add_user`, `add_organization`, `add_group`."""

    name = "zendesk"

    def __init__(
        self,
        email: str = DEFAULT_EMAIL,
        api_token: str = DEFAULT_TOKEN,
        *,
        rate_limit_per_minute: int | None = 700,
        ticket_updates_per_10_minutes: int | None = 30,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.email, self.api_token = email, api_token
        self.account_window = RateWindow(rate_limit_per_minute, 60)
        self.ticket_updates_per_10_minutes = ticket_updates_per_10_minutes
        self._ticket_windows: dict[int, RateWindow] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(10_000_001)
        self.agent_id = 900_001  # the authenticated user: author of comments written through the API
        self.add_user(self.agent_id, name="API agent", email=email, role="agent")

    # seeding -------------------------------------------------------------------------------------
    def add_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        """Seed a ticket (`description` becomes its first, public comment from the requester)."""
        now = stamp(datetime.now(UTC) - timedelta(hours=1))
        ticket: dict[str, Any] = {
            "id": ticket_id, "external_id": None, "via": {"channel": "email"}, "created_at": now,
            "updated_at": now, "type": None, "subject": f"Ticket {ticket_id}", "description": "",
            "priority": None, "status": "new", "requester_id": None, "submitter_id": None, "assignee_id": None,
            "organization_id": None, "group_id": None, "collaborator_ids": [], "tags": [], "custom_fields": [],
            "is_public": True, "brand_id": None, "ticket_form_id": None,
        }  # fmt: skip
        ticket.update(fields)
        ticket["raw_subject"] = ticket["subject"]
        ticket["tags"] = normalise_tags(ticket["tags"])
        with self.lock:
            self.tickets[ticket_id] = ticket
            self.comments[ticket_id] = []
            if ticket["description"]:
                self._append_comment(ticket_id, {"body": ticket["description"]}, ticket["requester_id"], now)
        return copy.deepcopy(ticket)

    def add_user(self, user_id: int, **fields: Any) -> dict[str, Any]:
        user = {"id": user_id, "name": f"User {user_id}", "email": f"user{user_id}@example.com", "role": "end-user",
                "organization_id": None, "tags": [], "user_fields": {}, **fields}  # fmt: skip
        with self.lock:
            self.users[user_id] = user
        return dict(user)

    def add_organization(self, org_id: int, **fields: Any) -> dict[str, Any]:
        org = {"id": org_id, "name": f"Organization {org_id}", "domain_names": [], "tags": [],
               "organization_fields": {}, **fields}  # fmt: skip
        with self.lock:
            self.organizations[org_id] = org
        return dict(org)

    def add_group(self, group_id: int, **fields: Any) -> dict[str, Any]:
        """Once any group is seeded, an update's `group_id` must name one of them."""
        group = {"id": group_id, "name": f"Group {group_id}", **fields}
        with self.lock:
            self.groups[group_id] = group
        return dict(group)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.tickets[ticket_id])

    def comments_for(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.comments.get(ticket_id, []))

    def touch(self, ticket_id: int, **fields: Any) -> None:
        """A human edits the ticket meanwhile: apply `fields` and bump `updated_at` (stales safe updates)."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket.update(fields)
            self._bump(ticket)

    def error_body(self, status: int) -> Any:
        return {"error": "InternalError", "description": f"Injected failure ({status})"}

    # serving -------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authenticated(request.headers.get("authorization", "")):
            return Reply(401, {"error": "Couldn't authenticate you"})
        with self.lock:
            wait = self.account_window.hit()
            limit = self._limit_headers()
        if wait is not None:
            message = "Number of allowed API requests per minute exceeded"
            return Reply(429, message, {"Retry-After": str(max(round(wait), 1)), **limit})
        reply = self._route(request)
        reply.headers.update(limit)
        return reply

    def _authenticated(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        return header.startswith("Basic ") and secrets.compare_digest(header[6:].strip(), expected)

    def _limit_headers(self) -> dict[str, str]:
        window = self.account_window
        if window.limit is None:
            return {}
        remaining, reset = str(window.remaining), str(window.reset_in())
        return {
            "X-Rate-Limit": str(window.limit),
            "X-Rate-Limit-Remaining": remaining,
            "ratelimit-limit": str(window.limit),
            "ratelimit-remaining": remaining,
            "ratelimit-reset": reset,
        }

    def _route(self, request: RecordedRequest) -> Reply:
        if request.method in ("PUT", "POST", "PATCH") or (request.method == "DELETE" and request.body):
            if not is_json_content(request):
                return Reply(415, {"error": "UnsupportedMediaType", "description": "Content-Type must be JSON"})
            if not isinstance(request.json, dict):
                return Reply(400, {"error": "InvalidJSON", "description": "The request body is not a JSON object"})
        other = _OTHER.match(request.path)
        if other and request.method == "GET":
            table = self.users if other[1] == "users" else self.organizations
            with self.lock:
                found = copy.deepcopy(table.get(int(other[2])))
            return Reply(200, {other[1][:-1]: found}) if found else Reply(404, NOT_FOUND)
        match = _TICKET.match(request.path)
        if not match:
            return Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})
        ticket_id, sub = int(match[1]), match[2]
        with self.lock:
            if ticket_id not in self.tickets:
                return Reply(404, NOT_FOUND)
            if sub == "/tags":
                return self._tags(ticket_id, request)
            if sub == "/comments" and request.method == "GET":
                comments = copy.deepcopy(self.comments[ticket_id])
                return Reply(200, {"comments": comments, "next_page": None, "previous_page": None,
                                   "count": len(comments)})  # fmt: skip
            if sub is None and request.method == "GET":
                return Reply(200, self._show(ticket_id, request.param("include") or ""))
            if sub is None and request.method == "PUT":
                return self._update(ticket_id, request.json)
        return Reply(405, {"error": "MethodNotAllowed", "description": f"{request.method} is not allowed here"})

    def _show(self, ticket_id: int, include: str) -> dict[str, Any]:
        ticket = self._render(ticket_id)
        wanted = {part.strip() for part in include.split(",")}
        body: dict[str, Any] = {"ticket": ticket}
        if "users" in wanted:
            ids = [ticket["requester_id"], ticket["submitter_id"], ticket["assignee_id"], *ticket["collaborator_ids"]]
            body["users"] = [copy.deepcopy(self.users[i]) for i in dict.fromkeys(ids) if i in self.users]
        if "organizations" in wanted:
            org = self.organizations.get(ticket["organization_id"])
            body["organizations"] = [copy.deepcopy(org)] if org else []
        if "groups" in wanted:
            group = self.groups.get(ticket["group_id"])
            body["groups"] = [copy.deepcopy(group)] if group else []
        return body

    def _render(self, ticket_id: int) -> dict[str, Any]:
        return {**copy.deepcopy(self.tickets[ticket_id]), "url": f"{self.url}/api/v2/tickets/{ticket_id}.json"}

    def _guard_write(self, ticket_id: int, data: dict[str, Any]) -> Reply | None:
        """What refuses any write to a ticket: closed, the per-ticket limit, a stale safe update."""
        ticket = self.tickets[ticket_id]
        if ticket["status"] == "closed":
            return invalid("status", "closed prevents ticket update")
        window = self._ticket_windows.setdefault(ticket_id, RateWindow(self.ticket_updates_per_10_minutes, 600))
        wait = window.hit()
        if wait is not None:
            message = "Rate limit for ticket updates exceeded, please wait before updating this ticket again"
            return Reply(429, message, {"Retry-After": str(max(round(wait), 1))})
        if data.get("safe_update") in (True, "true"):
            given = parse_stamp(data.get("updated_stamp"))
            if given is None:
                return invalid("updated_stamp", "is required and must be an ISO 8601 time for a safe update")
            if given != parse_stamp(ticket["updated_at"]):
                return Reply(409, CONFLICT)
        return None

    def _update(self, ticket_id: int, payload: dict[str, Any]) -> Reply:
        data = payload.get("ticket")
        if not isinstance(data, dict):
            return Reply(400, {"error": "InvalidParameter", "description": 'The body must be {"ticket": {...}}'})
        problem = validate_update(data, len(self.comments[ticket_id]), self.groups)
        if problem is None:
            problem = self._guard_write(ticket_id, data)
        if problem is not None:
            return problem
        ticket = self.tickets[ticket_id]
        events: list[dict[str, Any]] = []
        for field in ("group_id", "priority", "status", "type", "assignee_id", "subject", "tags", "custom_fields"):
            if field not in data:
                continue
            value = data[field]
            if field == "tags":
                value = normalise_tags(value)
            elif field == "custom_fields":
                merged = {f["id"]: f for f in ticket["custom_fields"]} | {f["id"]: f for f in value}
                value = [{"id": k, "value": v["value"]} for k, v in merged.items()]
            if value != ticket[field]:
                events.append({"id": next(self._ids), "type": "Change", "field_name": field, "value": value,
                               "previous_value": ticket[field]})  # fmt: skip
                ticket[field] = value
        self._bump(ticket)
        if isinstance(data.get("comment"), dict):
            comment = self._append_comment(ticket_id, data["comment"], data["comment"].get("author_id"))
            events.append({**comment, "type": "Comment"})
        audit = {"id": next(self._ids), "ticket_id": ticket_id, "created_at": ticket["updated_at"],
                 "author_id": self.agent_id, "via": {"channel": "api"}, "metadata": {}, "events": events}  # fmt: skip
        return Reply(200, {"ticket": self._render(ticket_id), "audit": audit})

    def _tags(self, ticket_id: int, request: RecordedRequest) -> Reply:
        ticket = self.tickets[ticket_id]
        if request.method == "GET":
            return Reply(200, {"tags": list(ticket["tags"])})
        body = request.json if isinstance(request.json, dict) else {}
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return invalid("tags", "must be a list of strings")
        problem = self._guard_write(ticket_id, body)
        if problem is not None:
            return problem
        given = normalise_tags(tags)
        if request.method == "PUT":  # add
            ticket["tags"] = normalise_tags([*ticket["tags"], *given])
        elif request.method == "POST":  # set
            ticket["tags"] = given
        else:  # DELETE: remove
            ticket["tags"] = [t for t in ticket["tags"] if t not in given]
        self._bump(ticket)
        return Reply(200, {"tags": list(ticket["tags"])})

    def _append_comment(
        self, ticket_id: int, given: dict[str, Any], author_id: int | None, created_at: str | None = None
    ) -> dict[str, Any]:
        body = given.get("body") or re.sub(r"<[^>]+>", "", given.get("html_body") or "")
        comment: dict[str, Any] = {
            "id": next(self._ids), "type": "Comment", "author_id": author_id or self.agent_id, "body": body,
            "html_body": given.get("html_body") or f"<p>{body}</p>", "plain_body": body,
            "public": bool(given.get("public", True)), "attachments": [], "via": {"channel": "api"},
            "created_at": created_at or stamp(datetime.now(UTC)), "metadata": {},
        }  # fmt: skip
        self.comments[ticket_id].append(comment)
        return copy.deepcopy(comment)

    def _bump(self, ticket: dict[str, Any]) -> None:
        """Advance `updated_at`, strictly: two writes in the same second still get different stamps."""
        previous = parse_stamp(ticket["updated_at"]) or datetime.now(UTC)
        ticket["updated_at"] = stamp(max(datetime.now(UTC).replace(microsecond=0), previous + timedelta(seconds=1)))
