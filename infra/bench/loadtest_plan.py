"""The load test's burst: signed Zendesk and HubSpot webhooks, 10% exact re-sends and 5% invalid, and the
tickets behind them seeded in the vendor sandboxes."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage_local import demo_data
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ZD_ACCOUNT = 90817263
HS_PORTAL = 48213377
ZD_FIRST_TICKET = 60_001
HS_FIRST_TICKET = 88_000_001
HUBSPOT_TYPES = {"ticket.creation": "ticket.created", "ticket.propertyChange": "ticket.property_changed"}

# (subject, description, comment) per kind of ticket; the local model classifies from these.
TEXTS = (
    ("Charged twice for invoice {n}", "My card was charged twice for invoice INV-{n} this morning. Please refund "
     "the duplicate charge.", "Still see two charges for INV-{n} on my statement."),
    ("Export to CSV stops at 10,000 rows", "When I export report {n} to CSV the file always ends at row 10000.",
     "Still happening after the update: export {n} ends at row 10000."),
    ("Can't log in after enabling two-factor", "I enabled two-factor authentication and now every code is "
     "rejected, so I am locked out of account {n}.", "Still locked out, the reset link does not arrive."),
    ("How do I add a user to my workspace?", "Where in settings can I invite a new teammate to workspace {n}?",
     "Found the settings page but the invite button is greyed out."),
    ("Dashboard is very slow", "The analytics dashboard takes over a minute to load for project {n} since "
     "yesterday.", "It is even slower today, pages time out."),
    ("Please cancel our subscription", "We want to cancel subscription {n} at the end of this billing period.",
     "Any update on the cancellation request?"),
    ("Feature request: dark mode", "It would be great to have a dark mode in the web app, our team {n} asks.",
     "Adding a +1 from three more colleagues."),
    ("API returns 500 on /v2/orders", "Since this morning every call to /v2/orders returns HTTP 500 for "
     "tenant {n}.", "Errors continue, this blocks our integration."),
)  # fmt: skip
HS_TEXTS = (
    ("Quote for {n} more seats", "We want to add {n} seats before renewal; please send a quote."),
    ("Invoice address is wrong", "Invoice {n} shows our old address, please reissue it."),
    ("Considering other vendors", "Renewal {n} is coming and we are evaluating alternatives given the price."),
    ("Integration with Salesforce", "Does your product sync deal stage {n} with Salesforce?"),
)


@dataclass
class Request:
    """One HTTP delivery: its events (source, normalised event type, ticket id) and how it is sent."""

    source: str
    kind: str  # "valid", "duplicate", "bad_signature", "malformed"
    events: list[tuple[str, str, str]]
    build: Any = None  # () -> bytes, called at send time (so timestamps are the send time)
    original: Request | None = None  # for duplicates: the request re-sent byte for byte
    body: bytes | None = None
    sent: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0
    error: str | None = None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Plan:
    """The burst: Zendesk singles and HubSpot batches, 10% re-sends and 5% invalid, in a shuffled order."""

    def __init__(self, total: int, rng: random.Random) -> None:
        self.rng = rng
        self.zd_template = json.loads(Sample.load(EVENTS / "ingest__zendesk_ticket_created.json").body)
        self.zd_comment = json.loads(Sample.load(EVENTS / "ingest__zendesk_comment_added.json").body)
        self.hs_template = json.loads(Sample.load(EVENTS / "ingest__hubspot_batch.json").body)
        self.zd_tickets: list[int] = []  # created so far (comments go to these)
        self.hs_tickets: list[int] = []
        self.requests: list[Request] = []
        self._event_ids = iter(range(5_000_000_000, 6_000_000_000))
        invalid_budget = round(total * 0.05)
        duplicate_budget = round(total * 0.10)
        fresh_budget = total - invalid_budget - duplicate_budget
        zd_fresh = fresh_budget // 2
        hs_fresh = fresh_budget - zd_fresh
        fresh: list[Request] = [self._zendesk() for _ in range(zd_fresh)]
        while hs_fresh > 0:
            size = min(hs_fresh, rng.randint(10, 50))
            if 0 < hs_fresh - size < 10:  # keep every batch at 10 or more events
                size = hs_fresh
            fresh.append(self._hubspot(size))
            hs_fresh -= size
        invalid: list[Request] = []
        if invalid_budget >= 20:  # one whole HubSpot batch signed with the wrong secret
            invalid.append(self._hubspot(10, kind="bad_signature"))
            invalid_budget -= 10
        for i in range(invalid_budget):
            invalid.append(self._zendesk(kind="bad_signature" if i % 2 == 0 else "malformed"))
        duplicates: list[Request] = []
        candidates = fresh[:]
        rng.shuffle(candidates)
        while duplicate_budget > 0 and candidates:
            original = candidates.pop()
            if len(original.events) > duplicate_budget:
                continue
            duplicates.append(Request(original.source, "duplicate", list(original.events), original=original))
            duplicate_budget -= len(original.events)
        # Originals first (in a random order), re-sends and invalid ones spread over the second half.
        rng.shuffle(fresh)
        half = len(fresh) // 2
        tail = fresh[half:] + duplicates + invalid
        rng.shuffle(tail)
        # A re-send must follow its original: move any original that landed after its duplicate forward.
        order = fresh[:half] + tail
        position = {id(r): i for i, r in enumerate(order)}
        for dup in duplicates:
            assert dup.original is not None
            if position[id(dup.original)] > position[id(dup)]:
                order.remove(dup.original)
                order.insert(0, dup.original)
                position = {id(r): i for i, r in enumerate(order)}
        self.requests = order

    # ------------------------------------------------------------------ Zendesk
    def _zendesk(self, kind: str = "valid") -> Request:
        rng = self.rng
        roll = rng.random()
        if kind == "valid" and self.zd_tickets and roll < 0.30:
            return self._zd_comment(rng.choice(self.zd_tickets), staff=roll < 0.03)
        ticket = ZD_FIRST_TICKET + len(self.zd_tickets)
        if kind == "valid":
            self.zd_tickets.append(ticket)
        else:
            ticket = rng.choice(self.zd_tickets) if self.zd_tickets else ZD_FIRST_TICKET
        subject, description, _ = TEXTS[ticket % len(TEXTS)]
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))

        def build() -> bytes:
            body = dict(self.zd_template)
            detail = dict(body["detail"], id=str(ticket), subject=subject.format(n=ticket))
            detail.update(description=description.format(n=ticket), created_at=_now_iso(), updated_at=_now_iso())
            detail.update(requester_id=str(_requester(ticket)), organization_id=str(_organization(ticket)))
            body.update(id=event_id, time=_now_iso(), subject=f"zen:ticket:{ticket}", detail=detail)
            raw = json.dumps(body).encode()
            return raw[: len(raw) // 2] if kind == "malformed" else raw

        return Request("zendesk", kind, [("zendesk", "ticket.created", str(ticket))], build)

    def _zd_comment(self, ticket: int, *, staff: bool) -> Request:
        _, _, comment_text = TEXTS[ticket % len(TEXTS)]
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        comment_id = str(next(self._event_ids))

        def build() -> bytes:
            body = dict(self.zd_comment)
            detail = dict(body["detail"], id=str(ticket), requester_id=str(_requester(ticket)), updated_at=_now_iso())
            author = {"id": "900001", "is_staff": True, "name": "Agent"} if staff else {
                "id": str(_requester(ticket)), "is_staff": False, "name": "Customer"}  # fmt: skip
            comment = {"id": comment_id, "body": comment_text.format(n=ticket), "is_public": not staff,
                       "author": author}  # fmt: skip
            body.update(id=event_id, time=_now_iso(), subject=f"zen:ticket:{ticket}", detail=detail)
            body["event"] = {"comment": comment}
            return json.dumps(body).encode()

        return Request("zendesk", "valid", [("zendesk", "ticket.comment_added", str(ticket))], build)

    # ------------------------------------------------------------------ HubSpot
    def _hubspot(self, size: int, kind: str = "valid") -> Request:
        rng = self.rng
        specs: list[tuple[str, int, int]] = []  # (subscriptionType, objectId, eventId)
        for _ in range(size):
            roll = rng.random()
            if roll < 0.05:
                specs.append(("contact.creation", 77_000_000 + next(self._event_ids) % 1_000_000, 0))
            elif roll < 0.15 and self.hs_tickets:
                specs.append(("ticket.propertyChange", rng.choice(self.hs_tickets), 0))
            else:
                ticket = HS_FIRST_TICKET + len(self.hs_tickets)
                self.hs_tickets.append(ticket)
                specs.append(("ticket.creation", ticket, 0))
        specs = [(t, o, next(self._event_ids)) for t, o, _ in specs]

        def build() -> bytes:
            occurred = int(time.time() * 1000)
            batch = []
            for subscription_type, object_id, event_id in specs:
                item = dict(
                    self.hs_template[0] if subscription_type != "ticket.propertyChange" else self.hs_template[1]
                )
                item.update(eventId=event_id, objectId=object_id, occurredAt=occurred, portalId=HS_PORTAL,
                            subscriptionType=subscription_type)  # fmt: skip
                if subscription_type == "ticket.propertyChange":
                    item.update(propertyName="hs_ticket_priority", propertyValue="HIGH")
                batch.append(item)
            return json.dumps(batch).encode()

        events = [("hubspot", HUBSPOT_TYPES.get(t, t), str(o)) for t, o, _ in specs]
        return Request("hubspot", kind, events, build)


def _organization(ticket: int) -> int:
    return 5512 if ticket % 5 else 5530  # every fifth requester is at the enterprise customer (VIP → review)


def _requester(ticket: int) -> int:
    return 7_000_000 + ticket


def seed(sandboxes: Sandboxes, plan: Plan) -> None:
    demo_data.seed(sandboxes)
    zendesk, hubspot = sandboxes.zendesk, sandboxes.hubspot
    for ticket in plan.zd_tickets or [ZD_FIRST_TICKET]:
        requester = _requester(ticket)
        zendesk.add_user(requester, name=f"Customer {ticket}", email=f"c{ticket}@example.test",
                         organization_id=_organization(ticket))  # fmt: skip
        subject, description, _ = TEXTS[ticket % len(TEXTS)]
        zendesk.add_ticket(ticket, subject=subject.format(n=ticket), description=description.format(n=ticket),
                           requester_id=requester, organization_id=_organization(ticket), priority="normal",
                           status="new", tags=["web_form"])  # fmt: skip
    for ticket in plan.hs_tickets:
        subject, content = HS_TEXTS[ticket % len(HS_TEXTS)]
        hubspot.add_ticket(ticket, subject=subject.format(n=ticket % 97), content=content.format(n=ticket % 97),
                           hs_pipeline="0", hs_pipeline_stage="1", hs_ticket_priority="MEDIUM")  # fmt: skip
        hubspot.associate(ticket, 88001)
    # The fakes must not be the bottleneck: no account, per-ticket or per-channel rate limits.
    zendesk.account_window.limit = None
    zendesk.ticket_updates_per_10_minutes = None
    hubspot.window.limit = None
    sandboxes.slack.per_channel_per_second = None


def flags_document() -> dict[str, Any]:
    """Zendesk in auto (decisions applied), HubSpot in shadow (recorded only)."""
    return {
        "mode.zendesk-support": {"default": "auto", "boolean_type": False, "rules": {}},
        "mode.hubspot-tickets": {"default": "shadow", "boolean_type": False, "rules": {}},
    }
