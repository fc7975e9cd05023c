"""Builders shared by the test suites.

Intake: samples from events/, signed requests, an IntakeService with in-memory fakes.
Triage: a small policy, scripted models, a TriageService harness with in-memory stores, queued TicketEvents.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from triage_gate.adapters.language_detector import FastTextLanguageDetector
from triage_gate.config import IngestSettings, VendorSecrets
from triage_gate.errors import ModelUnavailable
from triage_gate.http import WebhookRequest
from triage_gate.intake import signatures
from triage_gate.intake.service import IntakeService
from triage_gate.messages import TicketEvent
from triage_gate.policy import Policy, Route, Task
from triage_gate.triage.answers import ModelResult, parse_tool_input
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.prompt import Prompt
from triage_gate.triage.service import TriageService
from triage_tools.memory import (
    InMemoryBreakerStore,
    InMemoryBudgetStore,
    InMemoryDecisionStore,
    InMemoryDedupeStore,
    InMemoryEventQueue,
    InMemoryTicketClaims,
    RecordingQueue,
    StaticContext,
    StaticSecrets,
)

# ---------------------------------------------------------------- intake
ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
SHARED_DATA = ROOT.parent / "shared" / "data"

ZENDESK_SECRET = "zd-test-signing-secret"
HUBSPOT_SECRET = "hs-test-client-secret"
HUBSPOT_URL = "https://hooks.example.test/webhooks/hubspot"


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of an events/ sample (API Gateway v2 envelope)."""
    return copy.deepcopy(json.loads((EVENTS_DIR / name).read_text(encoding="utf-8")))


def event_with_body(name: str, body: Any) -> dict[str, Any]:
    event = load_event(name)
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def sign_zendesk(event: dict[str, Any], secret: str = ZENDESK_SECRET, now: datetime | None = None) -> dict[str, Any]:
    body = event.get("body", "").encode("utf-8")
    headers = signatures.signed_zendesk_headers(secret, body, now or datetime.now(UTC))
    event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event


def sign_hubspot(
    event: dict[str, Any], secret: str = HUBSPOT_SECRET, url: str = HUBSPOT_URL, now: datetime | None = None
) -> dict[str, Any]:
    body = event.get("body", "").encode("utf-8")
    headers = signatures.signed_hubspot_headers(secret, url, body, now or datetime.now(UTC))
    event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event


def make_settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "triage_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/triage",
        "dedupe_table_name": "dedupe",
        "hubspot_webhook_url": HUBSPOT_URL,
    }
    values.update(overrides)
    return IngestSettings(**values)


def make_secrets(**overrides: str) -> VendorSecrets:
    values = {"ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET, "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET}
    values.update(overrides)
    return VendorSecrets.from_mapping(values)


def make_service(
    settings: IngestSettings | None = None, secrets: VendorSecrets | None = None, clock: Any = None
) -> tuple[IntakeService, InMemoryDedupeStore, InMemoryEventQueue]:
    dedupe, queue = InMemoryDedupeStore(), InMemoryEventQueue()
    kwargs = {"clock": clock} if clock else {}
    service = IntakeService(
        settings or make_settings(), StaticSecrets(secrets or make_secrets()), dedupe, queue, **kwargs
    )
    return service, dedupe, queue


# ---------------------------------------------------------------- triage
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def policy(**workflow_overrides: Any) -> Policy:
    labels = {
        "billing": {"description": "Invoices and charges"},
        "bug": {"description": "Something is broken"},
        "security": {"description": "Breaches and data deletion"},
    }
    workflow: dict[str, Any] = {
        "source": "zendesk",
        "mode": "auto",
        "classify_events": ["ticket.created", "ticket.comment_added"],
        "context": {
            "fields": ["ticket.subject", "organization.name"],
            "customer_tier_field": "organization.organization_fields.tier",
        },
        "tasks": {
            "category": {
                "labels": labels,
                "route": "haiku",
                "local_model": "models/category.json",
                "thresholds": {"default": 0.7, "per_label": {"security": 0.9}},
            },
            "priority": {
                "labels": {"low": {"description": "Can wait"}, "high": {"description": "Blocked"}},
                "route": "local",
                "local_model": "models/priority.json",
            },
        },
        "rules": {"always_review": {"category": ["security"]}, "vip_tiers": ["enterprise"], "vip_action": "review"},
        "daily_budget_usd": 1.0,
        "review": {"channel": "#review"},
    }
    workflow.update(workflow_overrides)
    return Policy.from_data(
        {
            "version": "test-1",
            "prompt_version": "p1",
            "prices": {"claude-haiku-4-5": {"input": 1, "output": 5}},
            "routes": {"local": {"kind": "local"}, "haiku": {"kind": "claude", "model": "claude-haiku-4-5"}},
            "circuit_breaker": {"failure_threshold": 2, "window_seconds": 60, "open_seconds": 30},
            "workflows": {"support": workflow},
            "base_dir": "/policy",
        }
    )


@dataclass
class ScriptedRemote:
    """A RemoteModel whose answers are scripted: a dict (tool input) or an exception kind string."""

    script: list[Any] = field(default_factory=list)
    default: dict[str, Any] = field(
        default_factory=lambda: {"category": "billing", "category_confidence": 0.93, "rationale": "charge"}
    )
    key_set: bool = True
    prompts: list[Prompt] = field(default_factory=list)

    def enabled(self) -> bool:
        return self.key_set

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        self.prompts.append(prompt)
        step = self.script.pop(0) if self.script else self.default
        if isinstance(step, str):
            raise ModelUnavailable(f"scripted {step}", kind=step)
        answers = parse_tool_input(step, tasks, list(tasks))
        usage = {"input": 1000, "output": 50}
        return ModelResult(route_name, route.model or "", answers, step.get("rationale"), step, usage, 0.00125, 12.0)


@dataclass
class FakeLocal:
    answers: dict[str, tuple[str, float]] = field(
        default_factory=lambda: {"category": ("bug", 0.82), "priority": ("high", 0.9)}
    )
    calls: list[tuple[str, str]] = field(default_factory=list)
    trained_languages: frozenset[str] | None = None  # None: the model does not say (the default language only)

    def classify(self, workflow: str, task: str, model_path: str, text: str) -> tuple[str, float]:
        self.calls.append((task, text))
        return self.answers[task]

    def languages(self, model_path: str) -> frozenset[str] | None:
        return self.trained_languages


# The real detector (fastText's lid.176.ftz), loaded once for the whole session.
LANGUAGE_DETECTOR = FastTextLanguageDetector()


@dataclass
class Harness:
    service: TriageService
    remote: ScriptedRemote
    local: FakeLocal
    context: StaticContext
    decisions: InMemoryDecisionStore
    actions: RecordingQueue
    exceptions: RecordingQueue
    breakers: InMemoryBreakerStore
    budgets: InMemoryBudgetStore
    clock: list[datetime]
    claims: InMemoryTicketClaims


def harness(pol: Policy | None = None, documents: dict[tuple[str, str], dict[str, Any]] | None = None) -> Harness:
    clock = [NOW]
    remote, local = ScriptedRemote(), FakeLocal()
    context = StaticContext(documents if documents is not None else {("zendesk", "40211"): zendesk_documents()})
    decisions, actions, exceptions = InMemoryDecisionStore(), RecordingQueue(), RecordingQueue()
    breakers, budgets, claims = InMemoryBreakerStore(), InMemoryBudgetStore(), InMemoryTicketClaims()
    deps = TriageDeps(
        policy=pol or policy(), context=context, remote=remote, local=local, breakers=breakers, budgets=budgets,
        decisions=decisions, claims=claims, actions=actions, exceptions=exceptions, clock=lambda: clock[0],
        languages=LANGUAGE_DETECTOR,
    )  # fmt: skip
    return Harness(
        TriageService(deps), remote, local, context, decisions, actions, exceptions, breakers, budgets, clock, claims
    )


def zendesk_documents(tier: str = "growth", description: str | None = None) -> dict[str, Any]:
    return {
        "ticket": {
            "id": 40211,
            "subject": "Charged twice for the November invoice",
            "description": description or "My card was charged twice for invoice INV-2026-1187. Please refund.",
        },
        "requester": {"locale": "en-US"},
        "organization": {"name": "Acme", "organization_fields": {"tier": tier}},
    }


def ticket_event(name: str = "ingest__zendesk_ticket_created.json", **changes: Any) -> TicketEvent:
    """A TicketEvent exactly as intake would queue it for an events/ sample."""
    service, _, queue = make_service()
    service.handle_zendesk(WebhookRequest.from_apigw_v2(sign_zendesk(load_event(name))))
    event = queue.messages[0]
    return event.replace(**changes) if changes else event


def advance(h: Harness, seconds: float) -> None:
    h.clock[0] = h.clock[0] + timedelta(seconds=seconds)


Tick = Callable[[Harness, float], None]


# ------------------------------------------------------------------ personal data that must be masked
def luhn_complete(digits: str) -> str:
    """`digits` with the check digit that makes a valid card number (Luhn)."""
    for check in "0123456789":
        candidate = digits + check
        total = 0
        for i, char in enumerate(reversed(candidate)):
            n = int(char)
            if i % 2 == 1:
                n = n * 2 - 9 if n > 4 else n * 2
            total += n
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def iban(country: str, bban: str) -> str:
    """A valid IBAN (mod-97 check digits) for a country code and account number."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def grouped(value: str, sep: str) -> str:
    """In groups of four, the way people write cards and IBANs."""
    return sep.join(value[i : i + 4] for i in range(0, len(value), 4))


# ---------------------------------------------------------------- history (`triage history pull`'s DIR, for backtests)
HISTORY_START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # a Monday


def seed_history(
    count: int,
    *,
    start: datetime = HISTORY_START,
    every: timedelta = timedelta(hours=1),
    rerouted_every: int = 10,
    wrong_label_every: int | None = None,
) -> list[Any]:
    """``count`` HistoryTickets made from infra/seed/zendesk-support.csv, oldest first, one per ``every``: the seed
    text with the ticket's number appended (so no two texts repeat), its category and priority as the human's
    final labels, a person assigning it 30 + 7·(i % 10) minutes after creation, every ``rerouted_every``-th one
    re-routed. With ``wrong_label_every``, every such ticket's final category is another label than its text
    says (so a model cannot be right on it)."""
    import csv as _csv

    from triage_tools.history.files import HistoryTicket

    with (ROOT / "infra" / "seed" / "zendesk-support.csv").open(newline="", encoding="utf-8") as handle:
        seeds = list(_csv.DictReader(handle))
    categories = sorted({row["category"] for row in seeds})
    tickets = []
    for i in range(count):
        row = seeds[(i * 7) % len(seeds)]
        category = row["category"]
        if wrong_label_every and i % wrong_label_every == wrong_label_every - 1:
            category = categories[(categories.index(category) + 1) % len(categories)]
        created = start + every * i
        tickets.append(
            HistoryTicket(
                id=str(50_000 + i), created_at=created, subject=f"Ticket {i}", text=f"{row['text']} (case {i})",
                labels={"category": category, "priority": row["priority"]}, unmapped={},
                first_assigned_at=created + timedelta(minutes=30 + 7 * (i % 10)), rerouted=i % rerouted_every == 0,
            )
        )  # fmt: skip
    return tickets


def history_baseline(tickets: list[Any], *, workflow: str = "zendesk-support", **changes: Any) -> dict[str, Any]:
    """A baseline.json for ``tickets`` (nearest-rank p50/p90 of creation → first assignment, re-routing rate)."""
    import math

    minutes = sorted((t.first_assigned_at - t.created_at).total_seconds() / 60 for t in tickets if t.first_assigned_at)

    def rank(p: int) -> float | None:
        return minutes[max(1, math.ceil(p * len(minutes) / 100)) - 1] if minutes else None

    rerouted = sum(1 for t in tickets if t.rerouted)
    rate = rerouted / len(tickets) if tickets else None
    baseline: dict[str, Any] = {
        "source": "zendesk", "workflow": workflow, "since": "2026-06-01", "until": "2026-09-01",
        "pulled_at": "2026-09-01T00:00:00+00:00", "seen": len(tickets) + 3, "kept": len(tickets),
        "left_out": {"deleted": 2, "merged": 1}, "unmapped": {},
        "turnaround_minutes": {"n": len(minutes), "p50": rank(50), "p90": rank(90)},
        "rerouting": {"n": len(tickets), "rerouted": rerouted, "rate": rate}, "weeks": [],
        "roi_baseline": {"turnaround_minutes": rank(50), "error_rate": rate},
    }  # fmt: skip
    baseline.update(changes)
    return baseline


def write_history(
    directory: Path,
    tickets: list[Any],
    *,
    tasks: tuple[str, ...] = ("category", "priority"),
    baseline: dict[str, Any] | None = None,
) -> Path:
    """DIR/tickets.csv (newest first: the contract promises no order) and DIR/baseline.json; returns DIR."""
    import csv as _csv

    from triage_tools.history.files import BASELINE_FILE, TICKETS_FILE, ticket_columns

    directory.mkdir(parents=True, exist_ok=True)
    with (directory / TICKETS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = _csv.DictWriter(handle, ticket_columns(tasks))
        writer.writeheader()
        writer.writerows(t.row(tasks) for t in reversed(tickets))
    (directory / BASELINE_FILE).write_text(json.dumps(baseline or history_baseline(tickets)), encoding="utf-8")
    return directory
