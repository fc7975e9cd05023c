"""HubSpot tickets by creation date: CRM search in ``createdate`` windows, then their property history.

``POST /crm/v3/objects/tickets/search`` filters ``createdate`` GTE/LT (epoch ms), sorted ascending,
``limit`` 200, paged with ``after``. The search stops at 10,000 results per query (paging past is a 400),
so a window holding 10,000 or more is halved until it holds fewer; the next window starts where the last
ended, twice as long. Each page's tickets are then read with ``propertiesWithHistory`` for the routing
fields (``POST /crm/v3/objects/tickets/batch/read``, at most 50 inputs when history is asked for): the
first time a person set the owner is the first assignment; a routing property (owner, the policy's
category/priority properties — not the pipeline stage, which moves by design) that a person changed
after it was first set is a re-routing. Their companies' names (v4 associations, then a companies batch
read) are masked in the text, as the live path masks ``company.name`` from its context.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from triage_gate.adapters.vendor_writers import HUBSPOT_PEOPLE
from triage_tools.history.source import Page, PulledTicket, epoch_ms, parse_time
from triage_tools.history.transport import PullError, VendorSession

SEARCH_PATH = "/crm/v3/objects/tickets/search"
BATCH_READ_PATH = "/crm/v3/objects/tickets/batch/read"
ASSOCIATIONS_PATH = "/crm/v4/associations/tickets/companies/batch/read"
COMPANIES_PATH = "/crm/v3/objects/companies/batch/read"
COMPANY_BATCH = 100  # batch read's maximum inputs
SEARCH_CAP = 10_000  # results one search query can page through
PAGE_LIMIT = 200  # the search's maximum page size
HISTORY_BATCH = 50  # batch read's maximum inputs when propertiesWithHistory is asked for
OWNER = "hubspot_owner_id"
TEXT_PROPERTIES = ("subject", "content", "createdate")
LEFT_OUT_REASONS = ("deleted", "no_routing")


class HubSpotHistory:
    """Tickets created in [since, until); ``routing`` = the properties the policy's labels map to."""

    name = "hubspot"
    left_out_reasons: tuple[str, ...] = LEFT_OUT_REASONS

    def __init__(
        self,
        session: VendorSession,
        base_url: str,
        *,
        since: datetime,
        until: datetime,
        routing: Sequence[str],
        search_cap: int = SEARCH_CAP,
    ) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.since_ms, self.until_ms = epoch_ms(since), epoch_ms(until)
        self.routing = [OWNER, *(p for p in routing if p != OWNER)]
        self.search_cap = search_cap
        self.notes = [
            "hubspot: first assignment = the first time a person set hubspot_owner_id; re-routed = a person "
            f"changed {', '.join(self.routing)} after it was first set",
            "hubspot: CRM search does not return deleted (archived) tickets, so they are not seen",
        ]

    def close(self) -> None:
        self.session.close()

    def pages(self, position: Mapping[str, Any] | None) -> Iterator[Page]:
        start = int(position["start"]) if position else self.since_ms
        end = int(position["end"]) if position else self.until_ms
        after = position.get("after") if position else None
        while start < self.until_ms:
            body = self._search(start, end, after)
            if after is None and int(body.get("total") or 0) >= self.search_cap:
                end = self._halve(start, end, int(body.get("total") or 0))
                continue
            results = [r for r in body.get("results") or [] if isinstance(r, dict)]
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if after is None:  # the window is done: the next one starts at its end, twice as long
                start, end = end, min(self.until_ms, end + 2 * (end - start))
            position = {"start": start, "end": end, "after": after}
            yield Page(self._tickets(results), position, self._progress(results, start), start >= self.until_ms)

    def _halve(self, start: int, end: int, total: int) -> int:
        if end - start <= 1:
            raise PullError(
                f"hubspot: {total} tickets were created in the same millisecond ({start}); the search cannot "
                f"page past {self.search_cap} results"
            )
        return start + (end - start) // 2

    def _search(self, start: int, end: int, after: Any) -> dict[str, Any]:
        query: dict[str, Any] = {
            "filterGroups": [{"filters": [
                {"propertyName": "createdate", "operator": "GTE", "value": str(start)},
                {"propertyName": "createdate", "operator": "LT", "value": str(end)},
            ]}],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "properties": [*TEXT_PROPERTIES, *self.routing],
            "limit": PAGE_LIMIT,
        }  # fmt: skip
        if after is not None:
            query["after"] = str(after)
        body = self.session.post(self.base + SEARCH_PATH, query, bucket="search")
        if not isinstance(body, dict):
            raise PullError("hubspot: the search answer is not a JSON object")
        return body

    def _tickets(self, results: list[dict[str, Any]]) -> list[PulledTicket]:
        histories: dict[str, dict[str, Any]] = {}
        ids = [str(r.get("id")) for r in results]
        for chunk in range(0, len(ids), HISTORY_BATCH):
            body = {"inputs": [{"id": i} for i in ids[chunk : chunk + HISTORY_BATCH]],
                    "properties": [OWNER], "propertiesWithHistory": self.routing}  # fmt: skip
            answer = self.session.post(self.base + BATCH_READ_PATH, body, bucket="crm")
            for found in (answer or {}).get("results") or []:
                histories[str(found.get("id"))] = found.get("propertiesWithHistory") or {}
        companies = self._company_names(ids) if ids else {}
        return [self._ticket(r, histories.get(str(r.get("id"))), companies.get(str(r.get("id")), ())) for r in results]

    def _company_names(self, ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Ticket id → its companies' names, masked in the text like the live path masks ``company.name``."""
        answer = self.session.post(self.base + ASSOCIATIONS_PATH, {"inputs": [{"id": i} for i in ids]}, bucket="crm")
        linked = {
            str((item.get("from") or {}).get("id")): [str(t.get("toObjectId")) for t in item.get("to") or []]
            for item in (answer or {}).get("results") or [] if isinstance(item, dict)
        }  # fmt: skip
        wanted = list(dict.fromkeys(c for companies in linked.values() for c in companies))
        names: dict[str, str] = {}
        for chunk in range(0, len(wanted), COMPANY_BATCH):
            body = {"inputs": [{"id": c} for c in wanted[chunk : chunk + COMPANY_BATCH]], "properties": ["name"]}
            for found in (self.session.post(self.base + COMPANIES_PATH, body, bucket="crm") or {}).get("results") or []:
                names[str(found.get("id"))] = str((found.get("properties") or {}).get("name") or "").strip()
        return {ticket: tuple(names[c] for c in companies if names.get(c)) for ticket, companies in linked.items()}

    def _ticket(
        self, result: Mapping[str, Any], history: Mapping[str, Any] | None, companies: tuple[str, ...]
    ) -> PulledTicket:
        props = result.get("properties") or {}
        ticket_id = str(result.get("id"))
        created = parse_time(props.get("createdate") or result.get("createdAt"))
        if created is None:
            raise PullError(f"hubspot: ticket {ticket_id} has no readable createdate")
        entries = {name: _ordered(history.get(name)) for name in self.routing} if history is not None else {}
        left_out = "deleted" if history is None else None  # gone between the search and the read
        if left_out is None and not props.get(OWNER):
            left_out = "no_routing"
        return PulledTicket(
            id=ticket_id,
            created_at=created,
            subject=str(props.get("subject") or ""),
            text=str(props.get("content") or ""),
            fields={name: str(props[name]) for name in self.routing[1:] if _set_by_person(props, name, entries)},
            first_assigned_at=_first_person_value_at(entries.get(OWNER, [])),
            rerouted=any(_changed_after_first_set(e) for e in entries.values()),
            left_out=left_out,
            organisations=companies,
        )

    def _progress(self, results: list[dict[str, Any]], window_start: int) -> float:
        created = [parse_time((r.get("properties") or {}).get("createdate")) for r in results]
        latest = max((epoch_ms(c) for c in created if c is not None), default=window_start)
        span = self.until_ms - self.since_ms
        return min(max((latest - self.since_ms) / span, 0.0), 1.0) if span > 0 else 1.0


def _ordered(entries: Any) -> list[dict[str, Any]]:
    """A property's history, oldest first (HubSpot lists it newest first)."""
    valid = [e for e in entries or [] if isinstance(e, dict) and parse_time(e.get("timestamp")) is not None]
    return sorted(valid, key=lambda e: parse_time(e.get("timestamp")) or datetime.min)


def is_person(entry: Mapping[str, Any]) -> bool:
    """A change made by a person (the same rule the write-back uses to keep people's changes)."""
    return bool(entry.get("updatedByUserId")) or entry.get("sourceType") in HUBSPOT_PEOPLE


def _set_by_person(props: Mapping[str, Any], name: str, entries: Mapping[str, list[dict[str, Any]]]) -> bool:
    """The property holds a value, and the change that set it was a person's (not an integration's, a
    workflow's or a form's): a value no person chose is not a human's label."""
    history = entries.get(name)
    if props.get(name) in (None, "") or not history:
        return False
    return is_person(history[-1])


def _first_person_value_at(entries: list[dict[str, Any]]) -> datetime | None:
    for entry in entries:
        if entry.get("value") not in (None, "") and is_person(entry):
            return parse_time(entry.get("timestamp"))
    return None


def _changed_after_first_set(entries: list[dict[str, Any]]) -> bool:
    previous: Any = None
    for entry in entries:
        value = entry.get("value")
        if value in (None, ""):
            continue
        if previous is not None and value != previous and is_person(entry):
            return True
        previous = value
    return False
