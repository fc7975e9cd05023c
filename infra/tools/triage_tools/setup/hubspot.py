"""HubSpot as setup sees it: the private app token's scopes, the policy's custom ticket properties, and the
webhook subscriptions the developer app needs.

- Scopes: ``POST /oauth/v2/private-apps/get/access-token-info`` with ``{"tokenKey": TOKEN}`` (no scope needed)
  answers ``{userId, hubId, appId, scopes}``. :data:`REQUIRED_SCOPES` says what the functions' HubSpot calls
  need: read and update tickets and define their properties (``tickets``, or the granular
  ``crm.objects.tickets.read`` + ``.write``), read the ticket's company for context
  (``crm.objects.companies.read``), and create and find the write-back's note (HubSpot's notes API reference
  lists ``crm.objects.contacts.read`` / ``.write`` for notes).
- Properties (CRM Properties API, ``/crm/v3/properties/tickets``): each name in
  ``writeback.hubspot_custom_properties`` becomes an enumeration (``select``) whose options are the values the
  policy writes into it, in the ``triage_gate`` property group. When the taxonomy changes, new values are added
  and values no longer written are hidden (kept: old tickets hold them). HubSpot's own properties the policy
  writes must already offer its values: a missing one is reported.
- Webhooks: a private app token cannot create subscriptions (they are edited in the app's settings): the
  settings are printed.
"""

from __future__ import annotations

from typing import Any

from triage_gate.policy import Policy
from triage_tools.setup.changes import Changes
from triage_tools.setup.http import AdminHttp

# scope → (what needs it, scopes that grant the same instead)
REQUIRED_SCOPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": (
        "read and update tickets, create the custom ticket properties",
        ("crm.objects.tickets.read", "crm.objects.tickets.write"),
    ),
    "crm.objects.companies.read": ("read the ticket's company for context (tier, revenue)", ()),
    "crm.objects.contacts.read": ("find the write-back's note on a ticket (the notes search)", ()),
    "crm.objects.contacts.write": ("add the write-back's note to a ticket (the notes API)", ()),
}
TOKEN_INFO = "/oauth/v2/private-apps/get/access-token-info"
GROUP = {"name": "triage_gate", "label": "Triage Gate", "displayOrder": -1}
PROPERTIES = "/crm/v3/properties/tickets"


def hubspot_http(base_url: str, token: str) -> AdminHttp:
    return AdminHttp("HubSpot", base_url, {"Authorization": f"Bearer {token}"})


def token_info(http: AdminHttp, token: str) -> dict[str, Any]:
    return dict(http.request("POST", TOKEN_INFO, json={"tokenKey": token}) or {})


def missing_scopes(info: dict[str, Any]) -> list[str]:
    """The required scopes the token has neither itself nor all of its granular equivalents of."""
    granted = set(info.get("scopes") or [])
    return [
        scope
        for scope, (_, instead) in REQUIRED_SCOPES.items()
        if scope not in granted and not (instead and set(instead) <= granted)
    ]


def scope_fix(scope: str) -> str:
    why, instead = REQUIRED_SCOPES[scope]
    alternative = f" (or {' + '.join(instead)})" if instead else ""
    return f"scope {scope}{alternative} is missing: needed to {why}"


def written_values(policy: Policy) -> dict[str, list[str]]:
    """Property → the values the policy's HubSpot write-back puts into it, in taxonomy order."""
    values: dict[str, list[str]] = {}
    for workflow in policy.workflows.values():
        for labels in workflow.writeback.hubspot.values():
            for target in labels.values():
                for name, value in target.properties.items():
                    if value not in values.setdefault(name, []):
                        values[name].append(value)
    return values


def custom_properties(policy: Policy) -> list[str]:
    declared = [p for w in policy.workflows.values() for p in w.writeback.hubspot_custom_properties]
    return list(dict.fromkeys(declared))


def _label(name: str) -> str:
    text = name.replace("_", " ").capitalize()
    return "AI" + text[2:] if text.lower().startswith("ai ") else text


def desired_property(name: str, values: list[str]) -> dict[str, Any]:
    options = [{"label": v.replace("_", " ").capitalize(), "value": v, "displayOrder": i, "hidden": False}
               for i, v in enumerate(values)]  # fmt: skip
    return {
        "name": name, "label": _label(name), "groupName": GROUP["name"], "type": "enumeration",
        "fieldType": "select", "options": options, "formField": False,
        "description": "Set by Triage Gate's write-back (managed by `triage setup hubspot`).",
    }  # fmt: skip


def ensure_group(http: AdminHttp, changes: Changes) -> None:
    found = http.request("GET", f"{PROPERTIES}/groups/{GROUP['name']}", allow=(404,))
    if found.get("status") == 404:
        changes.change("created", f"property group {GROUP['name']!r}")
        if not changes.dry_run:
            http.request("POST", f"{PROPERTIES}/groups", json=GROUP)
    else:
        changes.unchanged(f"property group {GROUP['name']!r}")


def ensure_property(http: AdminHttp, desired: dict[str, Any], changes: Changes) -> None:
    name = desired["name"]
    current = http.request("GET", f"{PROPERTIES}/{name}", allow=(404,))
    if current.get("status") == 404:
        changes.change("created", f"ticket property {name!r} ({len(desired['options'])} options)")
        if not changes.dry_run:
            http.request("POST", PROPERTIES, json=desired)
        return
    if current.get("type") != "enumeration":
        changes.problem(f"ticket property {name!r} exists as type {current.get('type')!r}, not an enumeration: "
                        "rename it in the policy or delete it in HubSpot (Settings → Properties)")  # fmt: skip
        return
    options = _merged_options(current.get("options") or [], desired["options"])
    added = [o["value"] for o in options if o["value"] not in {c["value"] for c in current.get("options") or []}]
    hidden = [o["value"] for o in options if o["hidden"] and not _was_hidden(current, o["value"])]
    if not added and not hidden:
        changes.unchanged(f"ticket property {name!r}")
        return
    said = [f"added {', '.join(added)}"] if added else []
    said += [f"hid {', '.join(hidden)} (no longer in the taxonomy)"] if hidden else []
    changes.change("updated", f"ticket property {name!r}: {'; '.join(said)}")
    if not changes.dry_run:
        http.request("PATCH", f"{PROPERTIES}/{name}", json={"options": options})


def _was_hidden(current: dict[str, Any], value: str) -> bool:
    return any(o.get("value") == value and o.get("hidden") for o in current.get("options") or [])


def _merged_options(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The wanted options (visible), then the current ones no longer wanted (hidden, so old tickets keep them)."""
    wanted_values = {o["value"] for o in wanted}
    kept = [{**o, "hidden": True} for o in current if o.get("value") not in wanted_values]
    return [*wanted, *({k: v for k, v in o.items() if k in ("label", "value", "displayOrder", "hidden")} for o in kept)]


def check_standard_property(http: AdminHttp, name: str, values: list[str], changes: Changes) -> None:
    """HubSpot's own property must offer every value the policy writes (they cannot be added by us)."""
    current = http.request("GET", f"{PROPERTIES}/{name}", allow=(404,))
    if current.get("status") == 404:
        changes.problem(f"ticket property {name!r} does not exist in this portal: fix the policy's write-back")
        return
    if current.get("type") != "enumeration":
        changes.unchanged(f"ticket property {name!r} (free text)")
        return
    offered = {o.get("value") for o in current.get("options") or []}
    missing = [v for v in values if v not in offered]
    if missing:
        changes.problem(f"ticket property {name!r} has no option {', '.join(missing)}: add them in HubSpot "
                        "(Settings → Properties → Ticket properties) or change the policy's write-back")  # fmt: skip
    else:
        changes.unchanged(f"ticket property {name!r} (offers every value the policy writes)")


def watched_properties(policy: Policy) -> list[str]:
    """What a ``ticket.propertyChange`` subscription should watch: the ticket fields read for context and the
    properties the write-back sets (a person changing them is an override to record)."""
    names: list[str] = []
    for workflow in policy.workflows.values():
        if workflow.source != "hubspot":
            continue
        names += [f.removeprefix("ticket.") for f in workflow.context.fields if f.startswith("ticket.")]
        names += [n for labels in workflow.writeback.hubspot.values() for t in labels.values() for n in t.properties]
    return list(dict.fromkeys(names))
