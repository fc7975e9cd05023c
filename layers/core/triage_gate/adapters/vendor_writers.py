"""Write-back to Zendesk (API-token basic auth) and HubSpot (private-app bearer token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from triage_gate.adapters.vendor_http import VendorHttp
from triage_gate.errors import TransientVendorError
from triage_gate.ports import SecretsProvider
from triage_gate.writeback.plan import WritePlan

NOTE_TO_TICKET = 228  # HubSpot-defined association type: note → ticket
MAX_COMMENT_PAGES = 5


class ZendeskWriter:
    def __init__(self, secrets: SecretsProvider, base_url: str | None) -> None:
        self._secrets = secrets
        self._base = (base_url or "").rstrip("/")
        self._http = VendorHttp("zendesk")

    def _auth(self) -> tuple[str, str]:
        secrets = self._secrets.get()
        if not (self._base and secrets.ZENDESK_EMAIL and secrets.ZENDESK_API_TOKEN):
            raise TransientVendorError(
                "Zendesk write-back not configured (ZENDESK_BASE_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN)"
            )
        return f"{secrets.ZENDESK_EMAIL.get_secret_value()}/token", secrets.ZENDESK_API_TOKEN.get_secret_value()

    def apply_fields(self, plan: WritePlan, deadline: float) -> None:
        auth = self._auth()
        ticket_url = f"{self._base}/api/v2/tickets/{plan.ticket_id}.json"
        if plan.fields:
            self._http.request("PUT", ticket_url, deadline, auth=auth, json={"ticket": plan.fields})
        if plan.tags:
            # The tags endpoint adds; the ticket's `tags` field would replace the agent's tags.
            tags_url = f"{self._base}/api/v2/tickets/{plan.ticket_id}/tags.json"
            self._http.request("PUT", tags_url, deadline, auth=auth, json={"tags": plan.tags})

    def has_note(self, plan: WritePlan, ref: str, deadline: float) -> bool:
        url: str | None = f"{self._base}/api/v2/tickets/{plan.ticket_id}/comments.json?sort_order=desc"
        for _ in range(MAX_COMMENT_PAGES):  # newest first: our note is recent
            if url is None:
                return False
            page = self._http.request("GET", url, deadline, auth=self._auth()).json()
            if any(ref in (c.get("body") or "") for c in page.get("comments", [])):
                return True
            url = page.get("next_page")
        return False

    def add_note(self, plan: WritePlan, deadline: float) -> None:
        body = {"ticket": {"comment": {"body": plan.note, "public": False}}}
        url = f"{self._base}/api/v2/tickets/{plan.ticket_id}.json"
        self._http.request("PUT", url, deadline, auth=self._auth(), json=body, repeatable=False)


class HubSpotWriter:
    def __init__(self, secrets: SecretsProvider, base_url: str | None) -> None:
        self._secrets = secrets
        self._base = (base_url or "").rstrip("/")
        self._http = VendorHttp("hubspot")

    def _headers(self) -> dict[str, str]:
        token = self._secrets.get().HUBSPOT_ACCESS_TOKEN
        if not (self._base and token):
            raise TransientVendorError("HubSpot write-back not configured (HUBSPOT_BASE_URL, HUBSPOT_ACCESS_TOKEN)")
        return {"Authorization": f"Bearer {token.get_secret_value()}"}

    def apply_fields(self, plan: WritePlan, deadline: float) -> None:
        if plan.fields:
            url = f"{self._base}/crm/v3/objects/tickets/{plan.ticket_id}"
            self._http.request("PATCH", url, deadline, headers=self._headers(), json={"properties": plan.fields})

    def has_note(self, plan: WritePlan, ref: str, deadline: float) -> bool:
        # HubSpot offers no cheap lookup of a ticket's notes by content; an interrupted attempt may
        # leave one duplicate note (the properties themselves are idempotent).
        return False

    def add_note(self, plan: WritePlan, deadline: float) -> None:
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
