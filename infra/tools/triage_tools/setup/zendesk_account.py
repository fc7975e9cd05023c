"""A Zendesk account as setup sees it: who the token is, its groups, brands and ticket fields, listed so the
policy's ids can be filled in; and the rollout flags' brand ids checked against the account's brands."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from triage_tools.setup.http import AdminHttp, paged

DROPDOWNS = ("tagger", "multiselect")


@dataclass
class ZendeskAccount:
    user: dict[str, Any]
    groups: list[dict[str, Any]]
    brands: list[dict[str, Any]]
    fields: list[dict[str, Any]]

    @property
    def is_admin(self) -> bool:
        return self.user.get("role") == "admin"

    @property
    def custom_fields(self) -> list[dict[str, Any]]:
        return [f for f in self.fields if f.get("removable", True) and f.get("active", True)]


def zendesk_http(base_url: str, email: str, token: str) -> AdminHttp:
    login = base64.b64encode(f"{email}/token:{token}".encode()).decode()
    return AdminHttp("Zendesk", base_url, {"Authorization": f"Basic {login}"})


def who_am_i(http: AdminHttp) -> dict[str, Any]:
    """``users/me``: Zendesk answers an anonymous user (no id) rather than 401 for some bad logins."""
    from triage_tools.setup.http import VendorError

    user = (http.get("/api/v2/users/me.json") or {}).get("user") or {}
    if user.get("id") is None:
        raise VendorError("Zendesk", "GET /api/v2/users/me", 200, "not authenticated (anonymous user)")
    return dict(user)


def read_account(http: AdminHttp) -> ZendeskAccount:
    return ZendeskAccount(
        user=who_am_i(http),
        groups=paged(http, "/api/v2/groups.json", "groups"),
        brands=paged(http, "/api/v2/brands.json", "brands"),
        fields=paged(http, "/api/v2/ticket_fields.json", "ticket_fields"),
    )


def print_account(account: ZendeskAccount, base_url: str, out: TextIO) -> None:
    user = account.user
    print(f"Zendesk {base_url}: authenticated as {user.get('name')} <{user.get('email')}>, role {user.get('role')}",
          file=out)  # fmt: skip
    print(f"Groups ({len(account.groups)}):", file=out)
    for group in account.groups:
        print(f"  {group['id']:>14}  {group.get('name')}", file=out)
    print(f"Brands ({len(account.brands)}):", file=out)
    for brand in account.brands:
        print(f"  {brand['id']:>14}  {brand.get('name')}", file=out)
    custom = account.custom_fields
    print(f"Ticket fields ({len(custom)} custom of {len(account.fields)}):", file=out)
    for field in custom:
        options = [o.get("value") for o in field.get("custom_field_options") or []]
        shown = f" ({field['type']}: {', '.join(str(v) for v in options)})" if options else f" ({field.get('type')})"
        print(f"  {field['id']:>14}  {field.get('title')}{shown}", file=out)


def _brand_conditions(flags: dict[str, Any], names: set[str]) -> Iterator[tuple[str, str, str]]:
    for flag, definition in flags.items():
        rules = definition.get("rules") if isinstance(definition, dict) and flag in names else None
        for rule, body in (rules or {}).items():
            for condition in (body or {}).get("conditions") or []:
                if isinstance(condition, dict) and condition.get("key") == "brand":
                    values = condition.get("value")
                    for value in values if isinstance(values, list) else [values]:
                        yield flag, rule, str(value)


def flag_brand_problems(flags: dict[str, Any], brands: list[dict[str, Any]], flag_names: set[str]) -> list[str]:
    """Rules of the Zendesk workflows' flags (``flag_names``) naming a brand that is neither a brand id nor a brand
    name of this account (a placeholder, or another account's)."""
    known = {str(b["id"]): str(b.get("name")) for b in brands}
    listed = ", ".join(f"{k} ({v})" for k, v in known.items()) or "none"
    return [
        f"flag {flag}, rule {rule!r}: brand {value} is not a brand of this account (its brands: {listed})"
        for flag, rule, value in _brand_conditions(flags, flag_names)
        if value not in known and value not in known.values()
    ]
