"""Zendesk's cursor-based Incremental Ticket Export, read to ``end_of_stream``, a page at a time.

``GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>`` then ``?cursor=<after_cursor>``, with
``include=metric_sets,users,organizations``: each ticket's metric set gives the first assignment
(``initially_assigned_at``) and the re-routing (``group_stations`` > 1); the requester's and organisation's
names are masked in the text as the live path masks them. The export lists every ticket updated since
``start_time`` (deleted ones too, with status ``deleted``), ordered by update time, so one updated again
during the pull appears twice: the pull keeps its last version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from triage_tools.history.mapping import CUSTOM_FIELD_PREFIX, field_text
from triage_tools.history.source import Page, PulledTicket, parse_time
from triage_tools.history.transport import PullError, VendorSession

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SIDELOADS = "metric_sets,users,organizations"
BUCKET = "incremental_export"
MERGED_TAG = "closed_by_merge"  # Zendesk closes a ticket merged into another and tags it so
ROUTING_FIELDS = ("group_id", "priority", "type")
LEFT_OUT_REASONS = ("deleted", "merged", "ai_triaged", "no_routing")


class ZendeskHistory:
    """The export from ``since`` to now; ``marker_tag`` marks tickets Triage Gate itself routed (left out)."""

    name = "zendesk"
    left_out_reasons: tuple[str, ...] = LEFT_OUT_REASONS

    def __init__(
        self,
        session: VendorSession,
        base_url: str,
        *,
        since: datetime,
        now: datetime,
        marker_tag: str,
        per_page: int | None = None,
    ) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + EXPORT_PATH
        self.since, self.now = since, now
        self.marker_tag = marker_tag
        self.per_page = per_page
        self.notes = [
            "zendesk: first assignment = the metric set's initially_assigned_at; re-routed = group_stations > 1",
        ]

    def close(self) -> None:
        self.session.close()

    def pages(self, position: Mapping[str, Any] | None) -> Iterator[Page]:
        params = {"cursor": str(position["cursor"])} if position else {"start_time": str(int(self.since.timestamp()))}
        while True:
            params["include"] = SIDELOADS
            if self.per_page:
                params["per_page"] = str(self.per_page)
            body = self.session.get(self.url, bucket=BUCKET, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("tickets"), list):
                raise PullError("zendesk: the export page has no `tickets` list")
            sideloads = _Sideloads(body)
            tickets = [self._ticket(t, sideloads) for t in body["tickets"] if isinstance(t, dict)]
            cursor = body.get("after_cursor")
            last = bool(body.get("end_of_stream"))
            if not last and not cursor:
                raise PullError("zendesk: the export page has no after_cursor before end_of_stream")
            resume = {"cursor": cursor} if cursor else dict(position or {})
            yield Page(tickets, resume, 1.0 if last else self._progress(body["tickets"]), last)
            if last:
                return
            params, position = {"cursor": str(cursor)}, resume

    def _progress(self, raw: list[Any]) -> float:
        """How far the export's update-time cursor has moved from ``since`` towards now."""
        stamps = [_update_time(t) for t in raw if isinstance(t, dict)]
        latest = max((s for s in stamps if s is not None), default=None)
        span = (self.now - self.since).total_seconds()
        if latest is None or span <= 0:
            return 0.0
        return min(max((latest - self.since).total_seconds() / span, 0.0), 1.0)

    def _ticket(self, raw: dict[str, Any], sideloads: _Sideloads) -> PulledTicket:
        ticket_id = str(raw.get("id"))
        created = parse_time(raw.get("created_at"))
        if created is None:
            raise PullError(f"zendesk: ticket {ticket_id} has no readable created_at")
        metrics = sideloads.metric_sets.get(ticket_id, {})
        return PulledTicket(
            id=ticket_id,
            created_at=created,
            subject=str(raw.get("subject") or ""),
            text=str(raw.get("description") or ""),
            fields=routing_fields(raw),
            first_assigned_at=parse_time(metrics.get("initially_assigned_at")),
            rerouted=int(metrics.get("group_stations") or 0) > 1,
            left_out=self._left_out(raw),
            names=sideloads.name_of("users", raw.get("requester_id")),
            organisations=sideloads.name_of("organizations", raw.get("organization_id")),
        )

    def _left_out(self, raw: Mapping[str, Any]) -> str | None:
        tags = {str(t) for t in raw.get("tags") or []}
        if raw.get("status") == "deleted":
            return "deleted"
        if MERGED_TAG in tags:
            return "merged"
        if self.marker_tag in tags:
            return "ai_triaged"  # Triage Gate routed it: not a human's routing
        if raw.get("group_id") in (None, ""):
            return "no_routing"
        return None


def routing_fields(raw: Mapping[str, Any]) -> dict[str, str]:
    """The ticket's routing fields that hold a value, flat (custom fields as ``custom_fields.<id>``)."""
    fields = {name: field_text(raw[name]) for name in ROUTING_FIELDS if raw.get(name) not in (None, "")}
    for item in raw.get("custom_fields") or []:
        if isinstance(item, dict) and item.get("value") not in (None, ""):
            fields[f"{CUSTOM_FIELD_PREFIX}{item.get('id')}"] = field_text(item["value"])
    return fields


def _update_time(raw: Mapping[str, Any]) -> datetime | None:
    generated = raw.get("generated_timestamp")
    if isinstance(generated, int):
        return parse_time(str(generated * 1000))
    return parse_time(raw.get("updated_at"))


class _Sideloads:
    """A page's sideloaded metric sets (by ticket id), users and organisations (by id)."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.metric_sets = {str(m.get("ticket_id")): m for m in body.get("metric_sets") or [] if isinstance(m, dict)}
        self._names = {
            kind: {str(item.get("id")): str(item.get("name") or "") for item in body.get(kind) or []
                   if isinstance(item, dict)}
            for kind in ("users", "organizations")
        }  # fmt: skip

    def name_of(self, kind: str, item_id: Any) -> tuple[str, ...]:
        name = self._names[kind].get(str(item_id), "").strip() if item_id is not None else ""
        return (name,) if name else ()
