"""TriageService with the real Claude adapter and the real SDK against the fake Anthropic API on loopback,
and the real Zendesk context adapter against the fake Zendesk API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tests.builders import LANGUAGE_DETECTOR, NOW, FakeLocal, policy, ticket_event
from triage_gate.adapters.claude import ClaudeModel
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.config import VendorSecrets
from triage_gate.policy import Policy
from triage_gate.triage import reasons
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.service import TriageService
from triage_local.sandboxes import FakeAnthropic, FakeZendesk
from triage_tools.memory import (
    InMemoryBreakerStore,
    InMemoryBudgetStore,
    InMemoryDecisionStore,
    InMemoryTicketClaims,
    RecordingQueue,
    StaticSecrets,
)

API_KEY = "sk-ant-test-key"
DESCRIPTION = (
    "Hi, my card 4111 1111 1111 1111 was charged twice for invoice INV-2026-1187. "
    "Reach me at priya.k@example.com or +44 20 7946 0958."
)


@dataclass
class Stack:
    service: TriageService
    anthropic: FakeAnthropic
    zendesk: FakeZendesk
    decisions: InMemoryDecisionStore
    breakers: InMemoryBreakerStore


@pytest.fixture
def fakes() -> Iterator[tuple[FakeAnthropic, FakeZendesk]]:
    with FakeAnthropic(api_key=API_KEY) as anthropic, FakeZendesk(email="bot@acme.test", api_token="zd-token") as zd:
        zd.add_organization(5512, name="Acme", organization_fields={"tier": "growth"})
        zd.add_user(9182736450, name="Priya K", email="priya.k@example.com", locale="en-US")
        for n in range(5):  # ticket 40211 + n: one ticket per event (a ticket is decided once)
            zd.add_ticket(
                40211 + n,
                subject="Charged twice for the November invoice",
                description=DESCRIPTION,
                requester_id=9182736450,
                organization_id=5512,
            )
        yield anthropic, zd


def _policy(timeout: float = 3.0, **workflow: Any) -> Policy:
    base = policy(**workflow)
    routes = {
        **base.routes,
        "haiku": base.routes["haiku"].replace(**{"timeout_seconds": timeout, "max_retries": 1}),
    }
    return base.replace(**{"routes": routes})


def _stack(fakes: tuple[FakeAnthropic, FakeZendesk], pol: Policy | None = None, key: str = API_KEY) -> Stack:
    anthropic, zendesk = fakes
    secrets = StaticSecrets(
        VendorSecrets(ANTHROPIC_API_KEY=key, ZENDESK_EMAIL="bot@acme.test", ZENDESK_API_TOKEN="zd-token")
    )
    pol = pol or _policy()
    decisions, breakers = InMemoryDecisionStore(), InMemoryBreakerStore()
    deps = TriageDeps(
        policy=pol,
        context=VendorContext(secrets, zendesk_base_url=zendesk.url, hubspot_base_url=None),
        remote=ClaudeModel(secrets, pol.prices, anthropic.url),
        local=FakeLocal(),
        languages=LANGUAGE_DETECTOR,
        breakers=breakers,
        budgets=InMemoryBudgetStore(),
        decisions=decisions,
        claims=InMemoryTicketClaims(),
        actions=RecordingQueue(),
        exceptions=RecordingQueue(),
        clock=lambda: NOW,
    )
    return Stack(TriageService(deps), anthropic, zendesk, decisions, breakers)


def _event(n: int = 0):  # type: ignore[no-untyped-def]
    return ticket_event(dedupe_key=f"zendesk:90817263:evt-{n}", event_id=f"evt-{n}", ticket_id=str(40211 + n))


def test_good_tool_call_is_applied_with_tokens_cost_and_context(fakes):
    stack = _stack(fakes)
    stack.anthropic.script(
        {"input": {"category": "billing", "category_confidence": 0.92, "rationale": "double charge"}}
    )

    record = stack.service.process(_event()).record

    assert (record.action, record.labels["category"]) == ("apply", "billing")
    assert record.tasks["category"].model == "claude-haiku-4-5"
    assert record.tokens["input"] > 0
    assert record.tokens["output"] > 0
    assert record.cost_usd > 0
    assert record.context_fields["organization.name"] == "[NAME]"  # the names the context gives are masked
    [request] = stack.anthropic.message_requests()
    assert request["model"] == "claude-haiku-4-5"
    assert request["tool_choice"]["type"] == "tool"
    tool = request["tools"][0]
    assert tool["input_schema"]["properties"]["category"]["enum"] == ["billing", "bug", "security"]
    assert "cache_control" not in request["system"][0]  # the prefix is below the model's cache minimum


def test_the_model_never_receives_raw_pii(fakes):
    stack = _stack(fakes)

    stack.service.process(_event())

    sent = stack.anthropic.sent_text()
    for secret in ("priya.k@example.com", "4111 1111 1111 1111", "7946 0958", "Priya K"):
        assert secret not in sent
    assert "[EMAIL]" in sent
    assert "[CARD]" in sent


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("malformed", reasons.MALFORMED_OUTPUT),
        ("text_only", reasons.MODEL_OUTPUT_INCOMPLETE),  # stop_reason end_turn: no finished tool call
        ("out_of_taxonomy", reasons.LABEL_NOT_IN_TAXONOMY),
        ("low_confidence", reasons.LOW_CONFIDENCE),
    ],
)
def test_bad_answers_go_to_review_with_their_reason(fakes, step, reason):
    stack = _stack(fakes)
    stack.anthropic.script(step)

    record = stack.service.process(_event()).record

    assert record.action == "review"
    assert reason in record.reason_codes


@pytest.mark.parametrize(
    ("step", "fallback"),
    [
        (("status", 529), "model_error:http_529"),
        (("status", 500), "model_error:http_500"),
        (("status", 429, {"retry-after": "30"}), "model_error:http_429"),
    ],
)
def test_api_errors_fall_back_to_the_local_model(fakes, step, fallback):
    stack = _stack(fakes)
    stack.anthropic.script(step, step)  # the retry fails too

    record = stack.service.process(_event()).record

    assert record.fallback == fallback
    assert record.tasks["category"].model == "local"


def test_short_retry_after_is_honoured_then_the_call_succeeds(fakes):
    stack = _stack(fakes)
    stack.anthropic.script(("status", 429, {"retry-after": "0"}), "ok")

    record = stack.service.process(_event()).record

    assert record.fallback is None
    assert len(stack.anthropic.message_requests()) == 2


def test_a_hang_past_the_timeout_falls_back(fakes):
    stack = _stack(fakes, _policy(timeout=0.5))
    stack.anthropic.script(("hang", 3), ("hang", 3))

    record = stack.service.process(_event()).record

    assert record.fallback == "model_error:timeout"


def test_wrong_api_key_is_an_error_not_a_silent_default(fakes):
    stack = _stack(fakes, key="sk-ant-wrong")

    record = stack.service.process(_event()).record

    assert record.fallback == "model_error:http_401"
    assert record.tasks["category"].model == "local"


def test_breaker_opens_after_repeated_failures_and_closes_after_a_good_probe(fakes):
    stack = _stack(fakes)
    stack.anthropic.script(*[("status", 529)] * 4)  # two events x (call + retry)

    first = stack.service.process(_event(1)).record
    second = stack.service.process(_event(2)).record
    third = stack.service.process(_event(3)).record

    assert [r.fallback for r in (first, second, third)] == [
        "model_error:http_529",
        "model_error:http_529",
        "circuit_open",
    ]
    assert len(stack.anthropic.message_requests()) == 4  # the open breaker made no call
    state = stack.breakers.load("breaker#claude-haiku-4-5")
    assert state.open_until > NOW.timestamp()

    later = NOW.timestamp() + 31
    stack.service.deps.clock = lambda: datetime.fromtimestamp(later, tz=NOW.tzinfo)
    probe = stack.service.process(_event(4)).record
    assert probe.fallback is None
    assert stack.breakers.load("breaker#claude-haiku-4-5").open_until == 0


def test_zendesk_outage_is_context_unavailable_and_classification_proceeds(fakes):
    # No rule needs the context here (a VIP rule that sends a tier to review would fail closed to review).
    stack = _stack(fakes, _policy(rules={"vip_tiers": ["enterprise"], "vip_action": "apply_if_confident"}))
    stack.zendesk.fail_next(503)

    record = stack.service.process(_event()).record

    assert record.context_error
    assert record.action == "apply"
