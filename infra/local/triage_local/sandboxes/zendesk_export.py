"""FakeZendesk's Incremental Ticket Export, cursor based, as Zendesk serves it.

``GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>`` (then ``?cursor=<after_cursor>``) lists
every ticket updated at or after ``start_time`` — deleted ones too (status ``deleted``) unless
``exclude_deleted=true`` — ordered by update time, ``per_page`` (default 1000, at most 1000) a page, with
``after_cursor``/``after_url`` and ``end_of_stream``. Tickets updated in the last minute are not served
yet (Zendesk leaves the most recent minute out). ``include`` sideloads ``metric_sets`` (one per ticket:
the seeded one, or one derived from the ticket's audits), ``users`` and ``organizations``. Incremental
exports have their own limit, 10 requests a minute: over it, 429 with ``Retry-After``
(``configure(requests_per_minute=None)`` lifts it for benchmarks).

A ticket updated while an export runs moves to the end of the stream and is served again:
``update_after_export`` schedules such an update, applied right after the export first serves the ticket.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_local.sandboxes.base import RateWindow, RecordedRequest, Reply
from triage_local.sandboxes.zendesk_rules import parse_stamp, stamp

if TYPE_CHECKING:
    from triage_local.sandboxes.zendesk import FakeZendesk

EXPORT_PATH = re.compile(r"^/api/v2/incremental/tickets/cursor(?:\.json)?$")
MAX_PER_PAGE = 1000
NOT_FOUND = {"error": "InvalidEndpoint", "description": "Not found"}
RATE_LIMITED = "Number of allowed incremental export API requests per minute exceeded"
_Key = tuple[int, int]  # (update time in unix seconds, ticket id): the stream's order


@dataclass
class _Later:
    fields: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)


def encode_cursor(key: _Key) -> str:
    """Opaque like Zendesk's (``MTU3NjYxMzUzOS4wfHw0Njd8`` is base64 of ``1576613539.0||467|``)."""
    return base64.urlsafe_b64encode(f"{key[0]}.0||{key[1]}|".encode()).decode()


def decode_cursor(cursor: str) -> _Key | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        seconds, _, rest = text.partition("||")
        return int(float(seconds)), int(rest.rstrip("|"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


class ZendeskExport:
    """One FakeZendesk's export endpoint; ``FakeZendesk._route`` hands it every path it does not serve."""

    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake
        self.window = RateWindow(10, 60)
        self.per_page = MAX_PER_PAGE
        self.lag_seconds = 60
        self.metric_sets: dict[int, dict[str, Any]] = {}
        self.pages_served = 0
        self._later: dict[int, _Later] = {}
        self._index: list[_Key] = []
        self._fingerprint: tuple[int, int] | None = None

    def configure(
        self, *, requests_per_minute: int | None = 10, per_page: int = MAX_PER_PAGE, lag_seconds: int = 60
    ) -> None:
        """The export's limit (None: none, for benchmarks), default page size, and how recent is too recent."""
        with self.fake.lock:
            self.window = RateWindow(requests_per_minute, 60)
            self.per_page = min(max(per_page, 1), MAX_PER_PAGE)
            self.lag_seconds = lag_seconds

    def set_metrics(self, ticket_id: int, metrics: Mapping[str, Any]) -> None:
        with self.fake.lock:
            self.metric_sets[ticket_id] = dict(metrics)

    def update_after_export(self, ticket_id: int, metrics: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Change the ticket (and its metric set) right after the export first serves it: it reappears later."""
        with self.fake.lock:
            self._later[ticket_id] = _Later(dict(fields), dict(metrics or {}))

    # serving -------------------------------------------------------------------------------------
    def reply(self, request: RecordedRequest) -> Reply:
        if not EXPORT_PATH.match(request.path):
            return Reply(404, NOT_FOUND)
        if request.method != "GET":
            return Reply(405, {"error": "MethodNotAllowed", "description": f"{request.method} is not allowed here"})
        with self.fake.lock:
            wait = self.window.hit()
        if wait is not None:
            return Reply(429, RATE_LIMITED, {"Retry-After": str(max(math.ceil(wait), 1))})
        after, problem = self._position(request)
        if problem is not None:
            return problem
        per_page = self._per_page(request.param("per_page"))
        if per_page is None:
            return _invalid("per_page", f"must be a number from 1 to {MAX_PER_PAGE}")
        with self.fake.lock:
            return Reply(200, self._page(after, per_page, request))

    def _position(self, request: RecordedRequest) -> tuple[_Key, Reply | None]:
        cursor = request.param("cursor")
        if cursor:
            key = decode_cursor(cursor)
            if key is None:
                return (0, 0), Reply(400, {"error": "InvalidPaginationParameter", "description": "Invalid cursor"})
            return key, None
        start = request.param("start_time")
        if start is None or not start.isdigit():
            return (0, 0), _invalid("start_time", "is required (a unix time) when no cursor is given")
        if int(start) > time.time() - self.lag_seconds:
            return (0, 0), _invalid("start_time", "must be at least one minute in the past")
        return (int(start), -1), None  # everything at or after start_time

    def _per_page(self, given: str | None) -> int | None:
        if given is None:
            return self.per_page
        if not given.isdigit() or not 1 <= int(given) <= MAX_PER_PAGE:
            return None
        return int(given)

    def _page(self, after: _Key, per_page: int, request: RecordedRequest) -> dict[str, Any]:
        index = self._current_index()
        cutoff = int(time.time()) - self.lag_seconds
        skip_deleted = request.param("exclude_deleted") == "true"
        keys: list[_Key] = []
        position = bisect.bisect_right(index, after)
        while position < len(index) and index[position][0] <= cutoff and len(keys) < per_page:
            key = index[position]
            position += 1
            if not (skip_deleted and self.fake.tickets[key[1]]["status"] == "deleted"):
                keys.append(key)
        more = position < len(index) and index[position][0] <= cutoff
        last = keys[-1] if keys else after
        tickets = [self._render(key) for key in keys]
        body: dict[str, Any] = {
            "tickets": tickets,
            "after_cursor": encode_cursor(last),
            "after_url": f"{self.fake.url}/api/v2/incremental/tickets/cursor.json?cursor={encode_cursor(last)}",
            "before_cursor": None,
            "before_url": None,
            **self._sideloads(tickets, request.param("include") or ""),
        }
        updated = [key for key in keys if self._apply_later(key[1], last[0])]  # they come round again
        body["end_of_stream"] = not (more or updated)
        self.pages_served += 1
        return body

    def _current_index(self) -> list[_Key]:
        """Every ticket's stream key, sorted; rebuilt when any ticket's update time changed."""
        tickets = self.fake.tickets
        fingerprint = (len(tickets), sum(hash(t["updated_at"]) for t in tickets.values()))
        if fingerprint != self._fingerprint:
            self._index = sorted((_unix(t["updated_at"]), ticket_id) for ticket_id, t in tickets.items())
            self._fingerprint = fingerprint
        return self._index

    def _render(self, key: _Key) -> dict[str, Any]:
        ticket = copy.deepcopy(self.fake.tickets[key[1]])
        ticket["url"] = f"{self.fake.url}/api/v2/tickets/{key[1]}.json"
        ticket["generated_timestamp"] = key[0]
        return ticket

    def _sideloads(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        wanted = {part.strip() for part in include.split(",") if part.strip()}
        loaded: dict[str, Any] = {}
        if "metric_sets" in wanted:
            loaded["metric_sets"] = [self._metric_set(t["id"]) for t in tickets]
        people = {"users": ("requester_id", "submitter_id", "assignee_id"), "organizations": ("organization_id",)}
        for kind, keys in people.items():
            if kind in wanted:
                table = self.fake.users if kind == "users" else self.fake.organizations
                ids = dict.fromkeys(t[k] for t in tickets for k in keys if t.get(k) in table)
                loaded[kind] = [copy.deepcopy(table[i]) for i in ids]
        return loaded

    def _metric_set(self, ticket_id: int) -> dict[str, Any]:
        seeded = self.metric_sets.get(ticket_id)
        if seeded is not None:
            return {"ticket_id": ticket_id, **copy.deepcopy(seeded)}
        return derived_metric_set(self.fake.tickets[ticket_id], self.fake.audits.get(ticket_id, []))

    def _apply_later(self, ticket_id: int, served_until: int) -> bool:
        """The scheduled update, stamped after everything served so far (so the ticket comes round again) and,
        when it can be, just old enough to be served in this same export. False when none was scheduled."""
        later = self._later.pop(ticket_id, None)
        if later is None:
            return False
        ticket = self.fake.tickets[ticket_id]
        ticket.update(copy.deepcopy(later.fields))
        seconds = max(int(time.time()) - self.lag_seconds - 1, served_until + 1)
        ticket["updated_at"] = stamp(datetime.fromtimestamp(seconds, UTC))
        if later.metrics:
            base = self.metric_sets.get(ticket_id) or derived_metric_set(ticket, self.fake.audits.get(ticket_id, []))
            self.metric_sets[ticket_id] = {**base, **later.metrics, "updated_at": ticket["updated_at"]}
        return True


def derived_metric_set(ticket: Mapping[str, Any], audits: list[dict[str, Any]]) -> dict[str, Any]:
    """A metric set from the ticket's audits: groups and assignees it passed through, first assignment."""
    groups: list[Any] = []
    assignees: list[Any] = []
    assigned_at: list[str] = []
    solved_at = None
    for audit in audits:
        for event in audit.get("events", []):
            name, value = event.get("field_name"), event.get("value")
            if name == "group_id" and value is not None and value not in groups:
                groups.append(value)
            elif name == "assignee_id" and value is not None:
                assignees.append(value)
                assigned_at.append(audit["created_at"])
            elif name == "status" and value == "solved" and solved_at is None:
                solved_at = audit["created_at"]
    return {
        "id": ticket["id"], "ticket_id": ticket["id"], "created_at": ticket["created_at"],
        "updated_at": ticket["updated_at"], "group_stations": len(groups),
        "assignee_stations": len(set(assignees)), "reopens": 0, "replies": 0,
        "initially_assigned_at": assigned_at[0] if assigned_at else None,
        "assigned_at": assigned_at[-1] if assigned_at else None, "solved_at": solved_at,
        "reply_time_in_minutes": {"calendar": None, "business": None},
    }  # fmt: skip


def _unix(value: str) -> int:
    parsed = parse_stamp(value)
    return int(parsed.timestamp()) if parsed else 0


def _invalid(name: str, message: str) -> Reply:
    return Reply(400, {"error": "InvalidValue", "description": f"{name} {message}"})
