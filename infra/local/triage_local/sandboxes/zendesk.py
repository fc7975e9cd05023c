"""A fake Zendesk Ticketing API: tickets (read, update, tags, comments, audits), users and organizations.

Enforces API-token basic auth (`{email}/token:{api_token}`), JSON bodies on writes, the account's
per-minute limit and the per-ticket update limit (429 + `Retry-After`), field validation (422
`RecordInvalid`), closed tickets, and safe updates (409 when `updated_stamp` is stale). As Zendesk does,
`tags` in an update replaces the list (`additional_tags` / `remove_tags` add and remove), every change
is an audit that records who made it, and — once `connect()`ed — every change sends the account's
webhooks (event subscriptions or triggers), our own write-backs included.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from triage_local.sandboxes.base import RateWindow, RecordedRequest, Reply, Sandbox, is_json_content
from triage_local.sandboxes.zendesk_admin import ZendeskAdmin
from triage_local.sandboxes.zendesk_export import ZendeskExport
from triage_local.sandboxes.zendesk_rules import (
    CONFLICT,
    NOT_FOUND,
    apply_changes,
    audit_page,
    invalid,
    normalise_tags,
    parse_stamp,
    stamp,
    validate_update,
)
from triage_local.sandboxes.zendesk_webhooks import README_TRIGGERS, Trigger, ZendeskWebhooks

DEFAULT_EMAIL = "agent@example.com"
DEFAULT_TOKEN = "zendesk-sandbox-token"
_TICKET = re.compile(r"^/api/v2/tickets/(\d+)(/tags|/comments|/audits)?(?:\.json)?$")
HUMAN_AGENT_ID = 900_002  # a person working the queue (`agent_update`, `touch`)


def _body_problem(request: RecordedRequest) -> Reply | None:
    """A write whose body is not a JSON object: 415 (not JSON) or 400 (JSON, not an object)."""
    if not (request.method in ("PUT", "POST", "PATCH") or (request.method == "DELETE" and request.body)):
        return None
    if not is_json_content(request):
        return Reply(415, {"error": "UnsupportedMediaType", "description": "Content-Type must be JSON"})
    if not isinstance(request.json, dict):
        return Reply(400, {"error": "InvalidJSON", "description": "The request body is not a JSON object"})
    return None


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
        self.brands: dict[int, str] = {}
        self.audits: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: ZendeskWebhooks | None = None
        self.export = ZendeskExport(self)  # GET /api/v2/incremental/tickets/cursor.json
        self.admin = ZendeskAdmin(self)  # users, organizations, groups, brands, fields, webhooks, triggers
        self._before_update: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count(10_000_001)
        self.agent_id = 900_001  # the authenticated user: author of comments written through the API
        self.add_user(self.agent_id, name="API agent", email=email, role="agent")
        self.add_user(HUMAN_AGENT_ID, name="Sam Agent", email="sam.agent@example.com", role="agent")

    # webhooks ------------------------------------------------------------------------------------
    def connect(
        self,
        url: str,
        secret: str,
        *,
        mode: Literal["events", "trigger"] = "events",
        triggers: tuple[Trigger, ...] = README_TRIGGERS,
        account_id: int = 22_129_848,
    ) -> ZendeskWebhooks:
        """Send this account's ticket webhooks to `url`, signed with `secret` (one webhook, one mode)."""
        self.disconnect()
        self.webhooks = ZendeskWebhooks(url, secret, mode=mode, triggers=triggers, account_id=account_id)
        return self.webhooks

    def disconnect(self) -> None:
        if self.webhooks is not None:
            self.webhooks.close()
            self.webhooks = None

    def stop(self) -> None:
        self.disconnect()
        super().stop()

    # seeding -------------------------------------------------------------------------------------
    def add_ticket(self, ticket_id: int, *, notify: bool = False, age: timedelta = timedelta(hours=1),
                   **fields: Any) -> dict[str, Any]:  # fmt: skip
        """Seed a ticket (`description` becomes its first, public comment from the requester); `notify`
        sends the "created" webhooks, as a ticket created in the account would."""
        now = stamp(datetime.now(UTC) - age)
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
            self.audits[ticket_id] = []
            events = [{"id": next(self._ids), "type": "Create", "field_name": k, "value": ticket[k]}
                      for k in ("subject", "status", "priority", "type", "group_id", "tags") if ticket[k]]  # fmt: skip
            if ticket["description"]:
                comment = self._append_comment(ticket_id, {"body": ticket["description"]}, ticket["requester_id"], now)
                events.append(comment)
            audit = self._audit(ticket_id, ticket["requester_id"] or self.agent_id, events, "web", now)
            if notify:
                self._notify("created", ticket_id, audit)
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

    def add_brand(self, brand_id: int, name: str) -> None:
        with self.lock:
            self.brands[brand_id] = name

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

    def audits_for(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.audits.get(ticket_id, []))

    def touch(self, ticket_id: int, **fields: Any) -> None:
        """A human edits the ticket meanwhile: apply `fields` and bump `updated_at` (stales safe updates)."""
        self.agent_update(ticket_id, HUMAN_AGENT_ID, **fields)

    def agent_update(self, ticket_id: int, author_id: int = HUMAN_AGENT_ID, **fields: Any) -> dict[str, Any]:
        """A person changes the ticket in the agent workspace: an audit by `author_id`, and the webhooks."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            events = apply_changes(self._ids, ticket, fields)
            self._bump(ticket)
            audit = self._audit(ticket_id, author_id, events, "web")
            self._notify("updated", ticket_id, audit)
            return copy.deepcopy(ticket)

    def add_comment(self, ticket_id: int, body: str, author_id: int, *, public: bool = True) -> dict[str, Any]:
        """Someone (the requester, an agent) comments on the ticket: an audit, and the webhooks."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            comment = self._append_comment(ticket_id, {"body": body, "public": public}, author_id)
            self._bump(ticket)
            self._notify("updated", ticket_id, self._audit(ticket_id, author_id, [comment], "web"))
            return comment

    def before_next_update(self, ticket_id: int, action: Callable[[], None]) -> None:
        """Run `action` (e.g. an `agent_update`) when the next API update of the ticket arrives, before it is
        applied: the race between a decision and its write-back, made deterministic."""
        with self.lock:
            self._before_update[ticket_id] = action

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
        reply = self.refuse_malformed(request) or self._route(request)  # request_shapes.py, then the route
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
        problem = _body_problem(request)
        if problem is not None:
            return problem
        admin = self.admin.reply(request)  # account records and the admin APIs (zendesk_admin.py)
        if admin is not None:
            return admin
        match = _TICKET.match(request.path)
        if not match:
            return self.export.reply(request)  # the incremental export, or 404 InvalidEndpoint
        return self._route_ticket(int(match[1]), match[2], request)

    def _route_ticket(self, ticket_id: int, sub: str | None, request: RecordedRequest) -> Reply:
        """A ticket's own routes. An update first runs its `before_next_update` hook, outside the lock."""
        update = sub is None and request.method == "PUT"
        with self.lock:
            reply = self._ticket_reply(ticket_id, sub, request)
            if reply is not None:
                return reply
            hook = self._before_update.pop(ticket_id, None) if update else None
        if hook is not None:
            hook()  # a person got there first (outside the lock: it sends webhooks of its own)
        with self.lock:
            if update:
                return self._update(ticket_id, request.json)
        return Reply(405, {"error": "MethodNotAllowed", "description": f"{request.method} is not allowed here"})

    def _ticket_reply(self, ticket_id: int, sub: str | None, request: RecordedRequest) -> Reply | None:
        """Not found, tags, or a read (under the lock); None for an update or a method not allowed."""
        if ticket_id not in self.tickets:
            return Reply(404, NOT_FOUND)
        if sub == "/tags":
            return self._tags(ticket_id, request)
        readers = {"/audits": self._audit_page, "/comments": self._comment_page, None: self._show}
        reader = readers.get(sub) if request.method == "GET" else None
        return None if reader is None else reader(ticket_id, request)

    def _comment_page(self, ticket_id: int, request: RecordedRequest) -> Reply:
        comments = copy.deepcopy(self.comments[ticket_id])
        return Reply(200, {"comments": comments, "next_page": None, "previous_page": None, "count": len(comments)})

    def _show(self, ticket_id: int, request: RecordedRequest) -> Reply:
        ticket = self._render(ticket_id)
        wanted = {part.strip() for part in (request.param("include") or "").split(",")}
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
        return Reply(200, body)

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
        events = apply_changes(self._ids, ticket, data)
        self._bump(ticket)
        if isinstance(data.get("comment"), dict):
            events.append(self._append_comment(ticket_id, data["comment"], data["comment"].get("author_id")))
        audit = self._audit(ticket_id, self.agent_id, events, "api")
        self._notify("updated", ticket_id, audit)
        return Reply(200, {"ticket": self._render(ticket_id), "audit": audit})

    def _audit(
        self, ticket_id: int, author_id: int, events: list[dict[str, Any]], channel: str, at: str | None = None
    ) -> dict[str, Any]:
        created = at or self.tickets[ticket_id]["updated_at"]
        audit = {"id": next(self._ids), "ticket_id": ticket_id, "created_at": created, "author_id": author_id,
                 "via": {"channel": channel}, "metadata": {}, "events": events}  # fmt: skip
        self.audits.setdefault(ticket_id, []).append(audit)
        return copy.deepcopy(audit)

    def _audit_page(self, ticket_id: int, request: RecordedRequest) -> Reply:
        base = f"{self.url}/api/v2/tickets/{ticket_id}/audits.json"
        return audit_page(self.audits.get(ticket_id, []), base, request.param("page"), request.param("per_page"))

    def _notify(self, kind: str, ticket_id: int, audit: dict[str, Any]) -> None:
        if self.webhooks is None:
            return
        staff = {uid for uid, user in self.users.items() if user.get("role") in ("agent", "admin")}
        self.webhooks.emit(kind, copy.deepcopy(self.tickets[ticket_id]), audit, staff, dict(self.brands))

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
        change = {"PUT": {"additional_tags": given}, "POST": {"tags": given}}.get(
            request.method, {"remove_tags": given}
        )
        events = apply_changes(self._ids, ticket, change)
        self._bump(ticket)
        self._notify("updated", ticket_id, self._audit(ticket_id, self.agent_id, events, "api"))
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
