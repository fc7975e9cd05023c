"""Ticket context from the Zendesk and HubSpot APIs: only the fields the policy names, short timeouts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from urllib3.exceptions import HTTPError

from triage_gate.adapters.vendor_http import HttpClient, segment
from triage_gate.errors import ContextUnavailable
from triage_gate.ports import SecretsProvider

# Always read: the decision's snapshot (write-back is conditional on the ticket as read here).
HUBSPOT_STAMP_PROPERTIES = {"subject", "content", "createdate", "hs_lastmodifieddate"}


class VendorContext:
    def __init__(self, secrets: SecretsProvider, *, zendesk_base_url: str | None, hubspot_base_url: str | None) -> None:
        self._secrets = secrets
        self._zendesk = (zendesk_base_url or "").rstrip("/")
        self._hubspot = (hubspot_base_url or "").rstrip("/")
        self._client = HttpClient()

    def fetch(
        self, source: str, account_id: str, ticket_id: str, fields: Sequence[str], timeout: float
    ) -> dict[str, Any]:
        try:
            if source == "zendesk":
                return self._zendesk_ticket(ticket_id, timeout)
            return self._hubspot_ticket(ticket_id, fields, timeout)
        except HTTPError as exc:
            raise ContextUnavailable(f"{source} API unreachable: {type(exc).__name__}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ContextUnavailable(f"{source} API answered an unexpected shape: {type(exc).__name__}") from exc

    def _get(self, url: str, timeout: float, **kwargs: Any) -> Any:
        response = self._client.send("GET", url, timeout=(min(1.0, timeout), timeout), **kwargs)
        if response.status_code != 200:
            raise ContextUnavailable(f"{url.split('?')[0]} answered {response.status_code}")
        return response.json()

    def _zendesk_ticket(self, ticket_id: str, timeout: float) -> dict[str, Any]:
        secrets = self._secrets.get()
        if not (self._zendesk and secrets.ZENDESK_EMAIL and secrets.ZENDESK_API_TOKEN):
            raise ContextUnavailable("Zendesk API not configured (ZENDESK_BASE_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN)")
        auth = (f"{secrets.ZENDESK_EMAIL.get_secret_value()}/token", secrets.ZENDESK_API_TOKEN.get_secret_value())
        data = self._get(
            f"{self._zendesk}/api/v2/tickets/{segment(ticket_id)}.json",
            timeout,
            params={"include": "users,organizations"},
            auth=auth,
        )
        ticket = data["ticket"]
        users = {str(u.get("id")): u for u in data.get("users") or []}
        organizations = {str(o.get("id")): o for o in data.get("organizations") or []}
        return {
            "ticket": ticket,
            "requester": users.get(str(ticket.get("requester_id")), {}),
            "organization": organizations.get(str(ticket.get("organization_id")), {}),
        }

    def _hubspot_ticket(self, ticket_id: str, fields: Sequence[str], timeout: float) -> dict[str, Any]:
        token = self._secrets.get().HUBSPOT_ACCESS_TOKEN
        if not (self._hubspot and token):
            raise ContextUnavailable("HubSpot API not configured (HUBSPOT_BASE_URL, HUBSPOT_ACCESS_TOKEN)")
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        wanted = _properties(fields, "ticket") | HUBSPOT_STAMP_PROPERTIES
        ticket = self._get(
            f"{self._hubspot}/crm/v3/objects/tickets/{segment(ticket_id)}",
            timeout,
            params={"properties": ",".join(sorted(wanted)), "associations": "companies"},
            headers=headers,
        )
        company: dict[str, Any] = {}
        links = ((ticket.get("associations") or {}).get("companies") or {}).get("results") or []
        company_properties = _properties(fields, "company") | {"name"}  # the name is masked in the text
        if links and company_properties:
            company = self._get(
                f"{self._hubspot}/crm/v3/objects/companies/{segment(links[0]['id'])}",
                timeout,
                params={"properties": ",".join(sorted(company_properties))},
                headers=headers,
            ).get("properties", {})
        return {"ticket": ticket.get("properties", {}), "company": company}


def _properties(fields: Sequence[str], root: str) -> set[str]:
    return {f.split(".", 2)[1] for f in fields if f.startswith(f"{root}.") and f.count(".") >= 1}
