"""Write-back end to end: the harness shared by this package's tests.

WritebackService with the real Zendesk/HubSpot writers against the loopback fakes, and WritebackFunction's
handler against moto (template's DecisionsTable, ActionsQueue and ActionsDlq). Vendor-retry sleeps are
recorded, not slept, in every test here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from triage_gate.adapters import vendor_http
from triage_gate.adapters.vendor_writers import HubSpotWriter, ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.messages import TicketSnapshot
from triage_gate.policy import Policy, load_policy
from triage_gate.triage.decision import DecisionRecord, TaskDecision, decision_message
from triage_gate.writeback.plan import decision_ref
from triage_gate.writeback.service import WritebackService
from triage_local.sandboxes import FakeHubSpot, FakeZendesk
from triage_tools.memory import InMemoryDecisionStore, StaticSecrets

ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "writeback@example.com", "zd-writeback-token", "hs-writeback-token"
ZD_TICKET, HS_TICKET = 40198, 19800231
GROUPS = (36002117, 36002118, 36002119, 36002120, 36002121)
CATEGORY_FIELD, OTHER_FIELD = 360011112222, 360099990000
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- helpers
class RecordedSleeps:
    """Stands in for the `time` module inside vendor_http: real monotonic clock, sleeps recorded, not slept."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.monotonic = time.monotonic

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def decision(
    *,
    source: str = "zendesk",
    mode: str = "auto",
    action: str = "apply",
    labels: dict[str, tuple[str, float]] | None = None,
    event_id: str = "01J9ZK3M6Y",
    snapshot: TicketSnapshot | None = None,
) -> DecisionRecord:
    """A decision record as TriageFunction stores it for the shipped policy's workflows."""
    zendesk = source == "zendesk"
    if labels is None:
        labels = {"category": ("bug", 0.91), "priority": ("high", 0.66)} if zendesk else {
            "category": ("billing", 0.88), "priority": ("HIGH", 0.71)}  # fmt: skip
    ticket, account = (str(ZD_TICKET), "90817263") if zendesk else (str(HS_TICKET), "4471")
    tasks = {
        task: TaskDecision(label=label, reported_confidence=min(conf + 0.05, 1.0), calibrated_confidence=conf,
                           threshold=0.5, route="haiku", model="claude-haiku-4-5")
        for task, (label, conf) in labels.items()
    }  # fmt: skip
    return DecisionRecord(
        decision_id=f"{source}:{account}:{event_id}", correlation_id=f"{source}:{ticket}", source=source,
        account_id=account, ticket_id=ticket, event_id=event_id, event_type="ticket.created",
        workflow="zendesk-support" if zendesk else "hubspot-tickets", policy_version="2026-11-27.1",
        policy_sha256="0" * 64, prompt_version="classify-v1", created_at=CREATED, occurred_at=CREATED,
        mode=mode, action=action, proposed_action="apply", input_hash="0" * 64, tasks=tasks,  # type: ignore[arg-type]
        snapshot=snapshot,
    )  # fmt: skip


def as_read(zendesk: FakeZendesk) -> TicketSnapshot:
    """The Zendesk ticket as a decision reads it now (its stamp: what the update is conditional on)."""
    ticket = zendesk.ticket(ZD_TICKET)
    return TicketSnapshot(updated_at=ticket["updated_at"], created_at=ticket["created_at"])


def ticket_updates(zendesk: FakeZendesk) -> list[dict[str, Any]]:
    return [r.json["ticket"] for r in zendesk.requests if r.method == "PUT" and r.path.endswith(f"/{ZD_TICKET}.json")]


def notes_with_ref(zendesk: FakeZendesk, record: DecisionRecord) -> list[dict[str, Any]]:
    ref = decision_ref(record.decision_id)
    return [c for c in zendesk.comments_for(ZD_TICKET) if ref in c["body"]]


def vendor_calls(sandbox: Any, method: str | None = None) -> list[str]:
    return [f"{r.method} {r.path}" for r in sandbox.requests if method is None or r.method == method]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def shipped_policy() -> Policy:
    return load_policy()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> RecordedSleeps:
    recorder = RecordedSleeps()
    monkeypatch.setattr(vendor_http, "time", recorder)
    return recorder


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as fake:
        for group in GROUPS:
            fake.add_group(group)
        fake.add_user(501, name="Ada", email="ada@acme.test")
        fake.add_ticket(
            ZD_TICKET, subject="Export fails", description="Export to CSV fails with error 500", priority="normal",
            type="incident", group_id=36002119, tags=["vip", "web_form"], requester_id=501,
            custom_fields=[{"id": OTHER_FIELD, "value": "keep-me"}],
        )  # fmt: skip
        yield fake


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(HS_TOKEN) as fake:
        fake.allow_properties("ai_triage_category")
        fake.add_ticket(HS_TICKET, subject="Invoice question", content="Where is my PO?", hs_ticket_priority="LOW")
        yield fake


@pytest.fixture
def ledger() -> InMemoryDecisionStore:
    return InMemoryDecisionStore()


@pytest.fixture
def service(
    shipped_policy: Policy, zendesk: FakeZendesk, hubspot: FakeHubSpot, ledger: InMemoryDecisionStore
) -> WritebackService:
    secrets = StaticSecrets(
        VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN, HUBSPOT_ACCESS_TOKEN=HS_TOKEN)  # type: ignore[arg-type]
    )
    writers: dict[str, Any] = {
        "zendesk": ZendeskWriter(secrets, zendesk.url),
        "hubspot": HubSpotWriter(secrets, hubspot.url),
    }
    return WritebackService(shipped_policy, writers, ledger)


@pytest.fixture
def deliver(service: WritebackService, ledger: InMemoryDecisionStore) -> Callable[..., Any]:
    """Store the decision (as TriageFunction did), then hand its ActionsQueue message to write-back."""

    def run(record: DecisionRecord, seconds: float = 30.0) -> Any:
        ledger.create(record)
        return service.process(decision_message(record), time.monotonic() + seconds)

    return run
