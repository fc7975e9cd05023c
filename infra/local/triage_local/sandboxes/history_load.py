"""Put a generated history into FakeZendesk / FakeHubSpot, with the fields a person set, as the desk shows them.

The fields follow the workflow's write-back mapping, the way a team using the same fields would have set
them by hand: Zendesk group, type, priority and (on most tickets) the category custom field; HubSpot
owner (one team of owners per category), category and priority properties (and, on most tickets, the
policy's custom category property). A re-routed ticket was first given the wrong team's fields. Zendesk
keeps the result in each ticket's metric set (``initially_assigned_at``, ``group_stations``…); HubSpot in
the properties' history (who set what, when).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from triage_gate.policy import ZENDESK_TYPES, Workflow, load_policy
from triage_local.sandboxes.history import SETTLED, GeneratedTicket, History
from triage_local.sandboxes.zendesk_rules import stamp

if TYPE_CHECKING:
    from triage_local.sandboxes.hubspot import FakeHubSpot
    from triage_local.sandboxes.zendesk import FakeZendesk

ZENDESK_FIRST_ID, HUBSPOT_FIRST_ID = 100_000, 5_000_000
GENERAL_GROUP = 36_002_199  # the team's catch-all group, which no label maps to
AGENTS = tuple(range(900_101, 900_113))
REQUESTER_FIRST_ID, ORGANISATION_FIRST_ID = 700_000, 800
OWNER_FIRST_ID, HUMAN_USER_ID = 51_000, 4_410_001


def zendesk_id(ticket: GeneratedTicket) -> int:
    return ZENDESK_FIRST_ID + ticket.number


def hubspot_id(ticket: GeneratedTicket) -> str:
    return str(HUBSPOT_FIRST_ID + ticket.number)


def default_workflow(source: str) -> Workflow:
    """The shipped policy's workflow for ``source``."""
    return next(w for w in load_policy().workflows.values() if w.source == source)


# Zendesk ----------------------------------------------------------------------------------------------------------
def load_zendesk(fake: FakeZendesk, history: History, workflow: Workflow | None = None) -> None:
    """Requesters, organisations, tickets, their metric sets, and the updates that land during an export."""
    workflow = workflow or default_workflow("zendesk")
    people = _people(history.tickets)
    for organisation, org_id in people.organisations.items():
        fake.add_organization(org_id, name=organisation)
    for name, (user_id, org_id) in people.requesters.items():
        email = f"{name.lower().replace(' ', '.')}@customer.example"
        fake.add_user(user_id, name=name, email=email, organization_id=org_id)
    for ticket in history.tickets:
        ticket_id = zendesk_id(ticket)
        user_id, org_id = people.requesters[ticket.requester]
        fields = {
            "created_at": stamp(ticket.created_at), "updated_at": stamp(ticket.updated_at),
            "subject": ticket.subject, "description": ticket.text, "requester_id": user_id,
            "submitter_id": user_id, "organization_id": org_id, "status": _zendesk_status(ticket, history.now),
            "assignee_id": AGENTS[ticket.number % len(AGENTS)] if ticket.first_assigned_at else None,
            "tags": ["closed_by_merge"] if ticket.fate == "merged" else [],
            "via": {"channel": ("email", "web", "email")[ticket.number % 3]},
            **(zendesk_category_fields(workflow, ticket, ticket.category) if ticket.fate != "unrouted" else {}),
            **_zendesk_priority(workflow, ticket),
        }  # fmt: skip
        fake.add_ticket(ticket_id, age=history.now - ticket.created_at, **fields)
        fake.export.set_metrics(ticket_id, _metric_set(ticket_id, ticket))
        _schedule_later(fake, workflow, ticket, history.now)


def zendesk_category_fields(workflow: Workflow, ticket: GeneratedTicket, category: str) -> dict[str, Any]:
    """Group, type and (when the person filled it) the category custom field for ``category``."""
    labels = workflow.writeback.zendesk.get("category", {})
    mapped = labels.get(category)
    free_types = [t for t in ZENDESK_TYPES if t not in {f.type for f in labels.values()}]
    chosen_type = mapped.type if mapped and mapped.type else free_types[ticket.number % len(free_types)]
    custom = mapped.custom_fields if mapped and "custom" in ticket.fills else {}
    return {
        "group_id": mapped.group_id if mapped and mapped.group_id else GENERAL_GROUP,
        "type": chosen_type if "type" in ticket.fills else None,
        "custom_fields": [{"id": field_id, "value": value} for field_id, value in custom.items()],
    }


def _zendesk_priority(workflow: Workflow, ticket: GeneratedTicket) -> dict[str, Any]:
    mapped = workflow.writeback.zendesk.get("priority", {}).get(ticket.priority)
    return {"priority": mapped.priority} if mapped and mapped.priority and "priority" in ticket.fills else {}


def _zendesk_status(ticket: GeneratedTicket, now: datetime) -> str:
    if ticket.fate == "deleted":
        return "deleted"
    if ticket.fate == "merged":
        return "closed"  # Zendesk closes a ticket merged into another (and tags it closed_by_merge)
    if ticket.solved_at is not None:
        return "closed" if now - ticket.solved_at > timedelta(days=4) else "solved"
    return "open" if ticket.first_assigned_at else "new"


def _metric_set(ticket_id: int, ticket: GeneratedTicket) -> dict[str, Any]:
    first, reply = ticket.first_assigned_at, None
    if first is not None:
        reply = int((first - ticket.created_at).total_seconds() // 60) + 5
    stations = 0 if ticket.fate == "unrouted" else 1 + (ticket.rerouted_from is not None)
    return {
        "id": 5_000_000 + ticket.number, "created_at": stamp(ticket.created_at),
        "updated_at": stamp(ticket.updated_at), "group_stations": stations,
        "assignee_stations": (1 + (ticket.rerouted_from is not None)) if first else 0, "reopens": 0,
        "replies": 1 if first else 0, "initially_assigned_at": stamp(first) if first else None,
        "assigned_at": stamp(ticket.rerouted_at or first) if first else None,
        "solved_at": stamp(ticket.solved_at) if ticket.solved_at else None,
        "reply_time_in_minutes": {"calendar": reply, "business": reply},
    }  # fmt: skip


def _schedule_later(fake: FakeZendesk, workflow: Workflow, ticket: GeneratedTicket, now: datetime) -> None:
    ticket_id = zendesk_id(ticket)
    if ticket.later == "solved":
        fake.export.update_after_export(ticket_id, {"solved_at": stamp(now - SETTLED)}, status="solved")
    elif ticket.later == "deleted":
        fake.export.update_after_export(ticket_id, status="deleted")
    elif ticket.later == "rerouted" and ticket.later_category:
        stations = 2 + (ticket.rerouted_from is not None)
        fields = zendesk_category_fields(workflow, ticket, ticket.later_category)
        fake.export.update_after_export(ticket_id, {"group_stations": stations}, **fields)


class _People:
    def __init__(self) -> None:
        self.organisations: dict[str, int] = {}
        self.requesters: dict[str, tuple[int, int]] = {}


def _people(tickets: Iterable[GeneratedTicket]) -> _People:
    people = _People()
    for ticket in tickets:
        org_id = people.organisations.setdefault(ticket.organisation, ORGANISATION_FIRST_ID + len(people.organisations))
        people.requesters.setdefault(ticket.requester, (REQUESTER_FIRST_ID + len(people.requesters), org_id))
    return people


# HubSpot ----------------------------------------------------------------------------------------------------------
def load_hubspot(fake: FakeHubSpot, history: History, workflow: Workflow | None = None) -> None:
    """Tickets with their properties' history. Deleted and merged ones are gone (HubSpot archives them)."""
    workflow = workflow or default_workflow("hubspot")
    fake.allow_properties(*workflow.writeback.hubspot_custom_properties, "hubspot_owner_id")
    companies = _people(history.tickets).organisations
    with fake.lock:
        for name, company_id in companies.items():
            fake.add_company(company_id, name=name, domain=f"{name.split()[0].lower()}.example")
        for ticket in history.tickets:
            if ticket.final_fate in ("deleted", "merged"):
                continue
            changes = _hubspot_changes(workflow, ticket, history)
            ticket_id = hubspot_id(ticket)
            created, updated = _iso(ticket.created_at), changes.last_change or _iso(ticket.created_at)
            properties = {"hs_object_id": ticket_id, "createdate": created, "hs_lastmodifieddate": updated,
                          **changes.current()}  # fmt: skip
            fake.tickets[ticket_id] = {"id": ticket_id, "properties": properties, "createdAt": created,
                                       "updatedAt": updated, "archived": False}  # fmt: skip
            fake.history[ticket_id] = changes.by_property
            fake.associations[ticket_id] = [str(companies[ticket.organisation])]


class _Changes:
    """Each property's history, oldest first, as FakeHubSpot keeps it."""

    def __init__(self) -> None:
        self.by_property: dict[str, list[dict[str, Any]]] = {}
        self.last_change: str | None = None

    def set(self, name: str, value: str, at: datetime, *, person: bool = True, source: str = "CRM_UI") -> None:
        who = {"sourceType": source, "sourceId": f"userId:{HUMAN_USER_ID}", "updatedByUserId": HUMAN_USER_ID}
        if not person:
            who = {"sourceType": source, "sourceId": "enrollmentId:31337"}
        self.by_property.setdefault(name, []).append({"value": value, "timestamp": _iso(at), **who})
        self.last_change = max(self.last_change or "", _iso(at))

    def current(self) -> dict[str, str]:
        return {name: entries[-1]["value"] for name, entries in self.by_property.items()}


def _hubspot_changes(workflow: Workflow, ticket: GeneratedTicket, history: History) -> _Changes:
    changes = _Changes()
    for name, value in (("subject", ticket.subject), ("content", ticket.text), ("hs_pipeline", "0"),
                        ("hs_pipeline_stage", "1")):  # fmt: skip
        changes.set(name, value, ticket.created_at, person=False, source="EMAIL")
    if ticket.fate == "unrouted":
        return changes
    first = ticket.first_assigned_at
    if first is None:  # a workflow gave it an owner; a person set the fields, nobody assigned it
        changes.set("hubspot_owner_id", _owner(history, ticket, ticket.category), ticket.created_at + timedelta(
            minutes=2), person=False, source="AUTOMATION_PLATFORM")  # fmt: skip
        _route(changes, workflow, ticket, ticket.category, ticket.created_at + timedelta(minutes=5))
        return changes
    _route(changes, workflow, ticket, ticket.rerouted_from or ticket.category, first, history)
    changes.set("hs_pipeline_stage", "2", first)
    if ticket.rerouted_at is not None:
        _route(changes, workflow, ticket, ticket.category, ticket.rerouted_at, history)
    if ticket.later == "rerouted" and ticket.later_category:
        late = min(ticket.updated_at + timedelta(minutes=30), history.now - SETTLED)
        _route(changes, workflow, ticket, ticket.later_category, late, history)
    if ticket.solved_at is not None or ticket.later == "solved":
        changes.set("hs_pipeline_stage", "4", ticket.solved_at or history.now - SETTLED)
    return changes


def _route(
    changes: _Changes, workflow: Workflow, ticket: GeneratedTicket, category: str, at: datetime,
    history: History | None = None,
) -> None:  # fmt: skip
    """A person routes the ticket as ``category``: owner (when ``history`` is given), category, priority."""
    if history is not None:
        changes.set("hubspot_owner_id", _owner(history, ticket, category), at)
    custom = set(workflow.writeback.hubspot_custom_properties)
    mapped = workflow.writeback.hubspot.get("category", {}).get(category)
    for name, value in (mapped.properties if mapped else {}).items():
        if name not in custom or "custom" in ticket.fills:
            changes.set(name, value, at)
    priority = workflow.writeback.hubspot.get("priority", {}).get(ticket.priority)
    if priority is not None and "priority" in ticket.fills and "hs_ticket_priority" not in changes.by_property:
        changes.set("hs_ticket_priority", priority.properties.get("hs_ticket_priority", ticket.priority), at)


def _owner(history: History, ticket: GeneratedTicket, category: str) -> str:
    """One team of three owners per category."""
    team = history.labels.index(category) if category in history.labels else len(history.labels)
    return str(OWNER_FIRST_ID + team * 10 + ticket.number % 3)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
