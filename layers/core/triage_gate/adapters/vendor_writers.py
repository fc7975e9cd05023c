"""Write-back to Zendesk (API-token basic auth) and HubSpot (private-app bearer token).

Zendesk: one Update Ticket call per decision — fields, ``additional_tags`` (never ``tags``, which replaces
the agent's list) and the internal note together, conditional on ``safe_update`` + ``updated_stamp``.
Who set a field comes from the ticket's audits. HubSpot: the properties (PATCH) and a note associated
with the ticket; who set a property comes from its history; our note is found by CRM search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from triage_gate.adapters.vendor_http import VendorHttp, segment
from triage_gate.errors import TransientVendorError, UpdateConflict
from triage_gate.ports import SecretsProvider
from triage_gate.writeback.plan import CUSTOM_FIELD, HumanChange, WritePlan, zendesk_ticket_fields
from triage_gate.writeback.ports import TicketState

NOTE_TO_TICKET = 228  # HubSpot-defined association type: note → ticket
MAX_AUDIT_PAGES = 20
# HubSpot property-history sources that are a person at a screen (not an import, workflow or integration).
HUBSPOT_PEOPLE = frozenset({"CRM_UI", "MOBILE_IOS", "MOBILE_ANDROID"})


class ZendeskWriter:
    conditional = True

    def __init__(self, secrets: SecretsProvider, base_url: str | None) -> None:
        self._secrets = secrets
        self._base = (base_url or "").rstrip("/")
        self._http = VendorHttp("zendesk")
        self._me: str | None = None

    def _auth(self) -> tuple[str, str]:
        secrets = self._secrets.get()
        if not (self._base and secrets.ZENDESK_EMAIL and secrets.ZENDESK_API_TOKEN):
            raise TransientVendorError(
                "Zendesk write-back not configured (ZENDESK_BASE_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN)"
            )
        return f"{secrets.ZENDESK_EMAIL.get_secret_value()}/token", secrets.ZENDESK_API_TOKEN.get_secret_value()

    def _get(self, url: str, deadline: float) -> Any:
        return self._http.request("GET", url, deadline, auth=self._auth()).json()

    def read(
        self, plan: WritePlan, *, since: str | None, note_ref: str, look_for_note: bool, deadline: float
    ) -> TicketState:
        ticket = self._get(f"{self._base}/api/v2/tickets/{segment(plan.ticket_id)}.json", deadline)["ticket"]
        audits, complete = self._audits(plan.ticket_id, deadline)
        changes = zendesk_human_changes(audits, set(plan.fields), self._user_id(deadline), since)
        if not complete:  # cannot tell who set what: leave every field alone (fail closed)
            changes = {name: HumanChange(name, None, "unknown") for name in plan.fields} | changes
        has_note = look_for_note and any(note_ref in body for body in _comment_bodies(audits))
        return TicketState(str(ticket.get("updated_at") or "") or None, changes, has_note)

    def update(self, plan: WritePlan, stamp: str | None, deadline: float) -> None:
        ticket: dict[str, Any] = zendesk_ticket_fields(plan.fields)
        if plan.tags:
            ticket["additional_tags"] = list(plan.tags)
        if plan.note:
            ticket["comment"] = {"body": plan.note, "public": False}
        if stamp:
            ticket.update(safe_update=True, updated_stamp=stamp)
        url = f"{self._base}/api/v2/tickets/{segment(plan.ticket_id)}.json"
        # A conditional update is safe to repeat: if the first one landed, the repeat answers 409.
        response = self._http.request(
            "PUT", url, deadline, auth=self._auth(), json={"ticket": ticket}, ok=(200, 409),
            repeatable=bool(stamp) or not plan.note,
        )  # fmt: skip
        if response.status_code == 409:
            raise UpdateConflict(f"zendesk: ticket {plan.ticket_id} changed since {stamp}", status=409)

    def _user_id(self, deadline: float) -> str:
        """Our API user: changes it made are ours, never a human's."""
        if self._me is None:
            self._me = str(self._get(f"{self._base}/api/v2/users/me.json", deadline)["user"]["id"])
        return self._me

    def _audits(self, ticket_id: str, deadline: float) -> tuple[list[dict[str, Any]], bool]:
        """(audits oldest first, whether all were read)."""
        url: str | None = f"{self._base}/api/v2/tickets/{segment(ticket_id)}/audits.json"
        audits: list[dict[str, Any]] = []
        for _ in range(MAX_AUDIT_PAGES):
            if url is None:
                return audits, True
            page = self._get(url, deadline)
            audits.extend(a for a in page.get("audits") or [] if isinstance(a, dict))
            url = page.get("next_page")
        return audits, url is None


def zendesk_human_changes(
    audits: list[dict[str, Any]], planned: set[str], me: str, since: str | None
) -> dict[str, HumanChange]:
    """Planned fields a person changed after the ticket was created (and after ``since``, when given)."""
    changes: dict[str, HumanChange] = {}
    after = _parse_time(since)
    for audit in audits[1:]:  # the first audit is the ticket's creation
        author = str(audit.get("author_id"))
        if author == me or not author.isdigit():  # ours, or the system (-1: triggers, automations)
            continue
        if after is not None and (_parse_time(audit.get("created_at")) or after) <= after:
            continue
        for event in audit.get("events") or []:
            name = _zendesk_field(event) if isinstance(event, dict) else None
            if name in planned:
                changes[name] = HumanChange(name, event.get("value"), author, audit.get("created_at"))
    return changes


def _zendesk_field(event: Mapping[str, Any]) -> str | None:
    if event.get("type") != "Change":
        return None
    name = str(event.get("field_name") or "")
    return f"{CUSTOM_FIELD}{name}" if name.isdigit() else name


def _comment_bodies(audits: Iterable[dict[str, Any]]) -> Iterable[str]:
    for audit in audits:
        for event in audit.get("events") or []:
            if isinstance(event, dict) and event.get("type") == "Comment":
                yield str(event.get("body") or event.get("html_body") or "")


class HubSpotWriter:
    conditional = False  # HubSpot has no conditional update: the ticket is read right before each write

    def __init__(self, secrets: SecretsProvider, base_url: str | None) -> None:
        self._secrets = secrets
        self._base = (base_url or "").rstrip("/")
        self._http = VendorHttp("hubspot")

    def _headers(self) -> dict[str, str]:
        token = self._secrets.get().HUBSPOT_ACCESS_TOKEN
        if not (self._base and token):
            raise TransientVendorError("HubSpot write-back not configured (HUBSPOT_BASE_URL, HUBSPOT_ACCESS_TOKEN)")
        return {"Authorization": f"Bearer {token.get_secret_value()}"}

    def read(
        self, plan: WritePlan, *, since: str | None, note_ref: str, look_for_note: bool, deadline: float
    ) -> TicketState:
        names = ",".join(sorted(plan.fields))
        params = {"properties": ",".join(filter(None, (names, "hs_lastmodifieddate")))}
        if names:
            params["propertiesWithHistory"] = names
        url = f"{self._base}/crm/v3/objects/tickets/{segment(plan.ticket_id)}"
        data = self._http.request("GET", url, deadline, headers=self._headers(), params=params).json()
        changes = hubspot_human_changes(data.get("propertiesWithHistory") or {}, since)
        has_note = look_for_note and self._note_exists(plan.ticket_id, note_ref, deadline)
        return TicketState((data.get("properties") or {}).get("hs_lastmodifieddate"), changes, has_note)

    def update(self, plan: WritePlan, stamp: str | None, deadline: float) -> None:
        if plan.fields:
            url = f"{self._base}/crm/v3/objects/tickets/{segment(plan.ticket_id)}"
            self._http.request("PATCH", url, deadline, headers=self._headers(), json={"properties": plan.fields})
        if plan.note:
            self._add_note(plan, deadline)

    def _add_note(self, plan: WritePlan, deadline: float) -> None:
        body: dict[str, Any] = {
            "properties": {"hs_timestamp": datetime.now(UTC).isoformat(), "hs_note_body": plan.note},
            "associations": [
                {
                    "to": {"id": plan.ticket_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_TICKET}],
                }
            ],
        }
        url = f"{self._base}/crm/v3/objects/notes"
        self._http.request("POST", url, deadline, headers=self._headers(), json=body, repeatable=False)

    def _note_exists(self, ticket_id: str, ref: str, deadline: float) -> bool:
        """CRM search on the ticket's notes for the decision reference (only after an interrupted attempt)."""
        query = {
            "filterGroups": [{"filters": [
                {"propertyName": "associations.ticket", "operator": "EQ", "value": ticket_id},
                {"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": ref},
            ]}],
            "properties": ["hs_note_body"],
            "limit": 10,
        }  # fmt: skip
        url = f"{self._base}/crm/v3/objects/notes/search"
        found = self._http.request("POST", url, deadline, headers=self._headers(), json=query).json()
        return any(ref in str((r.get("properties") or {}).get("hs_note_body") or "") for r in found.get("results", []))


def hubspot_human_changes(history: Mapping[str, Any], since: str | None) -> dict[str, HumanChange]:
    """Properties a person set after the ticket was created (and after ``since``, when given)."""
    changes: dict[str, HumanChange] = {}
    after = _parse_time(since)
    for name, entries in history.items():
        ordered = sorted((e for e in entries or [] if isinstance(e, dict)), key=lambda e: str(e.get("timestamp")))
        for entry in ordered[1:]:  # the oldest value is the ticket's creation
            person = entry.get("updatedByUserId") or entry.get("sourceType") in HUBSPOT_PEOPLE
            at = _parse_time(entry.get("timestamp"))
            if person and (after is None or (at is not None and at > after)):
                by = str(entry.get("updatedByUserId") or entry.get("sourceId") or "")
                changes[name] = HumanChange(name, entry.get("value"), by or None, entry.get("timestamp"))
    return changes


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
