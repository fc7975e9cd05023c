"""FakeHubSpot's ticket search and batch read, as HubSpot serves them.

``POST /crm/v3/objects/tickets/search``: ``filterGroups`` (OR of ANDed filters: EQ, NEQ, LT, LTE, GT, GTE,
HAS_PROPERTY, NOT_HAS_PROPERTY; dates compared as epoch milliseconds), ``sorts``, ``properties``,
``limit`` (at most 200) and ``after``; ``total`` counts every match, but no query pages past 10,000
results (400). Search has its own, lower limit (5 requests a second): over it, 429 without
``Retry-After``, as HubSpot's secondly limits often answer.

``POST /crm/v3/objects/tickets/batch/read``: ``inputs`` (at most 100; at most 50 with
``propertiesWithHistory``), ``properties``, ``propertiesWithHistory`` (each property's history, newest
first); ids that do not exist make it a 207 with an ``errors`` entry. And what a pull needs to mask company
names: ``POST /crm/v4/associations/tickets/companies/batch/read`` and ``/crm/v3/objects/companies/batch/read``.
"""

from __future__ import annotations

import bisect
import copy
import operator
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_local.sandboxes.base import RateWindow, RecordedRequest, Reply

if TYPE_CHECKING:
    from triage_local.sandboxes.hubspot import FakeHubSpot

SEARCH_PATH = "/crm/v3/objects/tickets/search"
BATCH_READ_PATH = "/crm/v3/objects/tickets/batch/read"
ASSOCIATIONS_PATH = "/crm/v4/associations/tickets/companies/batch/read"
COMPANIES_PATH = "/crm/v3/objects/companies/batch/read"
PATHS = (SEARCH_PATH, BATCH_READ_PATH, ASSOCIATIONS_PATH, COMPANIES_PATH)
MAX_ASSOCIATION_INPUTS = 1000
MAX_LIMIT, MAX_BATCH, MAX_HISTORY_BATCH = 200, 100, 50
DATE_PROPERTIES = frozenset({"createdate", "hs_lastmodifieddate", "closed_date"})
ALWAYS = ("hs_object_id", "createdate", "hs_lastmodifieddate")
SECONDLY = {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
            "policyName": "SECONDLY"}  # fmt: skip
ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {"LT": operator.lt, "LTE": operator.le, "GT": operator.gt,
                                                   "GTE": operator.ge}  # fmt: skip
_Key = tuple[int, str]  # (createdate in epoch ms, ticket id)


def to_ms(value: Any) -> int | None:
    """A HubSpot date value (epoch ms, or ISO 8601) as epoch milliseconds."""
    text = str(value or "")
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _error(status: int, message: str, category: str = "VALIDATION_ERROR") -> Reply:
    return Reply(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                          "category": category})  # fmt: skip


class TicketSearch:
    """One FakeHubSpot's ticket search and batch read (``FakeHubSpot._route`` hands it those two paths)."""

    def __init__(self, fake: FakeHubSpot) -> None:
        self.fake = fake
        self.window = RateWindow(5, 1.0)
        self.max_results = 10_000
        self._index: list[_Key] = []
        self._indexed_count = -1

    def configure(self, *, requests_per_second: int | None = 5, max_results: int = 10_000) -> None:
        """The search's own limit (None: none, for benchmarks) and how far a query may page (tests: small)."""
        with self.fake.lock:
            self.window = RateWindow(requests_per_second, 1.0)
            self.max_results = max_results

    def reply(self, request: RecordedRequest) -> Reply:
        if request.method != "POST":
            return _error(405, f"{request.method} is not supported here")
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "Invalid input JSON on line 1: expected an object")
        readers = {BATCH_READ_PATH: self._batch_read, ASSOCIATIONS_PATH: self._associations,
                   COMPANIES_PATH: self._companies}  # fmt: skip
        if request.path in readers:
            with self.fake.lock:
                return readers[request.path](body)
        with self.fake.lock:
            wait = self.window.hit()
        if wait is not None:
            return Reply(429, {**SECONDLY, "correlationId": str(uuid.uuid4())})
        with self.fake.lock:
            return self._search(body)

    # search --------------------------------------------------------------------------------------
    def _search(self, query: dict[str, Any]) -> Reply:
        limit, after = query.get("limit", 10), query.get("after", 0)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            return _error(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        if not str(after).isdigit():
            return _error(400, "after must be a non-negative integer offset")
        offset = int(after)
        if offset >= self.max_results:
            return _error(400, f"The search can page through at most {self.max_results} results; narrow the query")
        keys = self._matches(query.get("filterGroups") or [], query.get("sorts") or [])
        if isinstance(keys, Reply):
            return keys
        chunk = keys[offset : offset + limit]
        names = [str(p) for p in query.get("properties") or []]
        results = [self._result(ticket_id, names) for _, ticket_id in chunk]
        body: dict[str, Any] = {"total": len(keys), "results": results}
        if offset + limit < len(keys):
            body["paging"] = {"next": {"after": str(offset + limit), "link": "?after=" + str(offset + limit)}}
        return Reply(200, body)

    def _matches(self, groups: list[Any], sorts: list[Any]) -> list[_Key] | Reply:
        if not all(isinstance(g, dict) and isinstance(g.get("filters") or [], list) for g in groups):
            return _error(400, "filterGroups must be a list of {filters: [...]}")
        index = self._current_index()
        if not groups:
            found: dict[_Key, None] = dict.fromkeys(index)
        else:
            found = {}
            for group in groups:
                filters = group.get("filters") or []
                for key in self._candidates(index, filters):
                    if all(self._keep(key, f) for f in filters):
                        found[key] = None
        keys = list(found)
        sort = sorts[0] if sorts and isinstance(sorts[0], dict) else {"propertyName": "hs_object_id"}
        name, descending = str(sort.get("propertyName")), sort.get("direction") == "DESCENDING"
        if name == "createdate" and len(groups) <= 1:
            return keys[::-1] if descending else keys  # the index is already in creation order
        keys.sort(key=lambda k: self._sort_value(k[1], name), reverse=descending)
        return keys

    def _current_index(self) -> list[_Key]:
        """Every ticket by creation date (createdate is read-only: rebuilt only when tickets are added)."""
        if self._indexed_count != len(self.fake.tickets):
            keys = ((to_ms(t["properties"].get("createdate")) or 0, i) for i, t in self.fake.tickets.items())
            self._index = sorted(keys)
            self._indexed_count = len(self.fake.tickets)
        return self._index

    def _candidates(self, index: list[_Key], filters: Iterable[Any]) -> list[_Key]:
        """The index slice the group's createdate bounds allow (every filter is still checked after)."""
        low, high = 0, len(index)
        for item in filters:
            if not isinstance(item, dict) or item.get("propertyName") != "createdate":
                continue
            value = to_ms(item.get("value"))
            if value is None:
                continue
            kind = item.get("operator")
            if kind in ("GTE", "GT"):
                low = max(low, bisect.bisect_left(index, (value + (kind == "GT"), "")))
            elif kind in ("LT", "LTE"):
                high = min(high, bisect.bisect_left(index, (value + (kind == "LTE"), "")))
        return index[low:high]

    def _keep(self, key: _Key, item: Any) -> bool:
        if not isinstance(item, dict):
            return False
        name, kind = str(item.get("propertyName")), str(item.get("operator"))
        actual = self.fake.tickets[key[1]]["properties"].get(name)
        has_value: bool = actual not in (None, "")
        if kind in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return has_value == (kind == "HAS_PROPERTY")
        if not has_value:
            return False
        # createdate is in the index key already parsed: no ISO parsing per ticket per query
        have = key[0] if name == "createdate" else self._comparable(name, actual)
        wanted = self._comparable(name, item.get("value"))
        if kind in ("EQ", "NEQ"):
            return bool(have == wanted) == (kind == "EQ")
        compare = ORDERINGS.get(kind)
        if compare is None or have is None or wanted is None or type(have) is not type(wanted):
            return False
        return bool(compare(have, wanted))

    @staticmethod
    def _comparable(name: str, value: Any) -> Any:
        if name in DATE_PROPERTIES:
            return to_ms(value)
        text = str(value)
        return int(text) if text.lstrip("-").isdigit() else text

    def _sort_value(self, ticket_id: str, name: str) -> tuple[int, Any]:
        value = self._comparable(name, self.fake.tickets[ticket_id]["properties"].get(name))
        return (0, value) if isinstance(value, int) else (1, str(value))

    def _result(self, ticket_id: str, names: list[str], history: Iterable[str] = ()) -> dict[str, Any]:
        ticket = self.fake.tickets[ticket_id]
        props = ticket["properties"]
        wanted = dict.fromkeys([*ALWAYS, *(n for n in names if n in self.fake.ticket_properties or n in props)])
        result = {"id": ticket_id, "properties": {name: props.get(name) for name in wanted},
                  "createdAt": ticket["createdAt"], "updatedAt": ticket["updatedAt"], "archived": False}  # fmt: skip
        history = list(history)
        if history:
            recorded = self.fake.history.get(ticket_id, {})
            result["propertiesWithHistory"] = {name: copy.deepcopy(recorded.get(name, [])[::-1]) for name in history}
        return result

    # batch read ----------------------------------------------------------------------------------
    def _batch_read(self, body: Mapping[str, Any]) -> Reply:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and "id" in i for i in inputs):
            return _error(400, "inputs must be a list of {id}")
        with_history = [str(p) for p in body.get("propertiesWithHistory") or []]
        if with_history and len(inputs) > MAX_HISTORY_BATCH:
            return _error(400, f"The maximum number of inputs supported in a batch request for property histories "
                               f"is {MAX_HISTORY_BATCH}. Please reduce the number of items and try again.")  # fmt: skip
        if len(inputs) > MAX_BATCH:
            return _error(400, f"Batch input cannot contain more than {MAX_BATCH} inputs")
        names = [str(p) for p in body.get("properties") or []]
        ids = [str(i["id"]) for i in inputs]
        missing = [i for i in ids if i not in self.fake.tickets]
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        answer: dict[str, Any] = {
            "status": "COMPLETE", "startedAt": now, "completedAt": now,
            "results": [self._result(i, names, with_history) for i in dict.fromkeys(ids) if i in self.fake.tickets],
        }  # fmt: skip
        if not missing:
            return Reply(200, answer)
        answer["numErrors"] = 1
        message = "Could not get some TICKET objects, they may be deleted or not exist."
        answer["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing},
                             "message": message}]  # fmt: skip
        return Reply(207, answer)

    # associations and companies ------------------------------------------------------------------
    def _associations(self, body: Mapping[str, Any]) -> Reply:
        """v4 batch read, tickets → companies: one result per ticket that has any (``to[].toObjectId``)."""
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and "id" in i for i in inputs):
            return _error(400, "inputs must be a list of {id}")
        if len(inputs) > MAX_ASSOCIATION_INPUTS:
            return _error(400, f"Batch input cannot contain more than {MAX_ASSOCIATION_INPUTS} inputs")
        kind = [{"category": "HUBSPOT_DEFINED", "typeId": 339, "label": None}]  # ticket → company
        results = [
            {"from": {"id": ticket_id}, "to": [{"toObjectId": int(c), "associationTypes": kind} for c in companies]}
            for ticket_id in dict.fromkeys(str(i["id"]) for i in inputs)
            if (companies := self.fake.associations.get(ticket_id))
        ]
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return Reply(200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})

    def _companies(self, body: Mapping[str, Any]) -> Reply:
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and "id" in i for i in inputs):
            return _error(400, "inputs must be a list of {id}")
        if len(inputs) > MAX_BATCH:
            return _error(400, f"Batch input cannot contain more than {MAX_BATCH} inputs")
        names = [str(p) for p in body.get("properties") or []]
        results = []
        for company_id in dict.fromkeys(str(i["id"]) for i in inputs):
            company = self.fake.companies.get(company_id)
            if company is not None:
                props = {n: company["properties"].get(n) for n in dict.fromkeys([*ALWAYS, *names])}
                results.append({**copy.deepcopy(company), "properties": props})
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return Reply(200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now})
