"""The gist and the signals over the real path: the Claude adapter and the real SDK against the fake Anthropic API,
which answers the new tool properties from the ticket's words (and still refuses a request it would refuse)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.builders import LANGUAGE_DETECTOR, NOW, FakeLocal, policy, ticket_event
from triage_gate.adapters.claude import ClaudeModel
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.config import VendorSecrets
from triage_gate.policy import Policy
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.prompt import Asks, build_prompt
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
ON: dict[str, Any] = {"language": {"reviewer_gist": True}, "signals": {"sentiment": True, "urgency": True}}
RULES: dict[str, Any] = {
    "always_review": {"category": ["security"]},
    "vip_tiers": ["enterprise"],
    "vip_action": "review",
}
GERMAN = (
    "Dringend: unser Dashboard ist seit heute Morgen komplett ausgefallen und das ganze Team kann nicht arbeiten. "
    "Das ist inakzeptabel, bitte melden Sie sich sofort."
)
ENGLISH = "Thanks for the quick help last week! How do I add a teammate to my workspace?"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeAnthropic, FakeZendesk]]:
    with FakeAnthropic(api_key=API_KEY) as fake_anthropic, FakeZendesk("bot@acme.test", "zd-token") as zendesk:
        zendesk.add_organization(5512, name="Acme", organization_fields={"tier": "growth"})
        zendesk.add_user(9182736450, name="Priya K", email="priya.k@example.com", locale="de-DE")
        zendesk.add_ticket(40211, subject="Dashboard ausgefallen", description=GERMAN, requester_id=9182736450,
                           organization_id=5512)  # fmt: skip
        zendesk.add_ticket(40212, subject="Adding a teammate", description=ENGLISH, requester_id=9182736450,
                           organization_id=5512)  # fmt: skip
        yield fake_anthropic, zendesk


def _decide(fakes: tuple[FakeAnthropic, FakeZendesk], pol: Policy, ticket_id: str = "40211") -> DecisionRecord:
    fake_anthropic, zendesk = fakes
    secrets = StaticSecrets(
        VendorSecrets(ANTHROPIC_API_KEY=API_KEY, ZENDESK_EMAIL="bot@acme.test", ZENDESK_API_TOKEN="zd-token")
    )
    deps = TriageDeps(
        policy=pol, context=VendorContext(secrets, zendesk_base_url=zendesk.url, hubspot_base_url=None),
        remote=ClaudeModel(secrets, pol.prices, fake_anthropic.url), local=FakeLocal(), languages=LANGUAGE_DETECTOR,
        breakers=InMemoryBreakerStore(), budgets=InMemoryBudgetStore(), decisions=InMemoryDecisionStore(),
        claims=InMemoryTicketClaims(), actions=RecordingQueue(), exceptions=RecordingQueue(), clock=lambda: NOW,
    )  # fmt: skip
    event = ticket_event(dedupe_key=f"zendesk:90817263:evt-{ticket_id}", event_id=f"evt-{ticket_id}",
                         ticket_id=ticket_id)  # fmt: skip
    record = TriageService(deps).process(event).record
    assert record is not None
    return record


def _pol(**workflow: Any) -> Policy:
    # Every task on Claude: the local priority model of the builders knows English only.
    tasks = policy().to_data()["workflows"]["support"]["tasks"]
    tasks["priority"]["route"] = "haiku"
    return policy(tasks=tasks, **workflow)


def test_a_german_ticket_gets_an_english_gist_and_signals_from_the_sandbox(fakes):
    record = _decide(fakes, _pol(**ON))

    request = fakes[0].message_requests()[-1]
    properties = request["tools"][0]["input_schema"]["properties"]
    assert {"gist", "sentiment", "urgent"} <= set(properties)
    assert "- ticket language: de (German)" in request["messages"][0]["content"]
    # Headroom for the gist (200) and the two signals (10 each) on top of the route's max_tokens.
    assert request["max_tokens"] == _pol().routes["haiku"].max_tokens + 220
    assert record.language is not None
    assert record.language.code == "de"
    assert record.gist is not None
    assert "German" in record.gist.text
    assert "English" in record.gist.text
    assert (record.gist.language, record.gist.source_language) == ("en", "de")
    assert record.gist.model == "claude-haiku-4-5"
    assert record.gist.cost_usd_estimate == pytest.approx(record.gist.output_tokens_estimate * 5 / 1_000_000)
    assert record.signals is not None
    assert (record.signals.sentiment, record.signals.urgent) == ("negative", True)
    assert reasons.SIGNAL_REVIEW not in record.reason_codes


def test_an_english_ticket_gets_signals_but_no_gist(fakes):
    record = _decide(fakes, _pol(**ON), ticket_id="40212")

    properties = fakes[0].message_requests()[-1]["tools"][0]["input_schema"]["properties"]
    assert "gist" not in properties
    assert record.gist is None
    assert fakes[0].message_requests()[-1]["max_tokens"] == _pol().routes["haiku"].max_tokens + 20
    assert record.signals is not None
    assert (record.signals.sentiment, record.signals.urgent) == ("positive", False)


def test_review_on_signals_sends_the_urgent_ticket_to_a_person(fakes):
    record = _decide(fakes, _pol(**ON, rules={**RULES, "review_on_signals": {"urgent": True}}))

    assert reasons.SIGNAL_REVIEW in record.reason_codes
    assert record.proposed_action == "review"


# ------------------------------------------------------------------ the sandbox through the SDK
def _request(text: str, asks: Asks) -> dict[str, Any]:
    workflow = policy(**ON).workflows["support"]
    prompt = build_prompt("support", workflow, ["category"], "Subject", text, {}, asks=asks)
    return {
        "model": "claude-haiku-4-5", "max_tokens": 400, "system": [{"type": "text", "text": prompt.system}],
        "tools": [prompt.tool], "tool_choice": {"type": "tool", "name": prompt.tool["name"]},
        "messages": [{"role": "user", "content": prompt.user}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "sentiment", "urgent"),
    [
        ("Urgente: la plataforma está caída, es inaceptable.", "negative", True),
        ("Merci beaucoup, tout fonctionne maintenant.", "positive", False),
        ("Wie kann ich eine Rechnung herunterladen?", "neutral", False),
    ],
)
def test_sandbox_answers_the_new_properties_from_the_tickets_words(fakes, text, sentiment, urgent):
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fakes[0].url, max_retries=0, timeout=3)

    message = client.messages.create(**_request(text, Asks(gist_from="es", gist_into="en", sentiment=True,
                                                           urgent=True)))  # fmt: skip

    given = message.content[0].input
    assert (given["sentiment"], given["urgent"]) == (sentiment, urgent)
    assert given["gist"].startswith("Sandbox gist in English of a ticket written in Spanish")
    assert len(given["gist"]) <= 600
    assert given["category"] == "billing"  # the tasks still answer the schema's values


def test_sandbox_adds_nothing_the_schema_does_not_ask_for_and_keeps_a_responders_answers(fakes):
    fake_anthropic = fakes[0]
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fake_anthropic.url, max_retries=0, timeout=3)

    plain = client.messages.create(**_request("Dringend! Alles ist ausgefallen.", Asks())).content[0].input
    fake_anthropic.responder = lambda body: {"category": "bug", "category_confidence": 0.8, "rationale": "r",
                                             "sentiment": "positive"}  # fmt: skip
    filled = client.messages.create(**_request("Dringend! Alles ist ausgefallen.", Asks(sentiment=True, urgent=True)))

    assert not {"gist", "sentiment", "urgent"} & set(plain)
    assert filled.content[0].input == {"category": "bug", "category_confidence": 0.8, "rationale": "r",
                                       "sentiment": "positive", "urgent": True}  # fmt: skip


def test_sandbox_still_refuses_a_request_the_api_refuses(fakes):
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fakes[0].url, max_retries=0, timeout=3)
    request = _request("Dringend!", Asks(sentiment=True, urgent=True))
    request["tool_choice"] = {"type": "tool", "name": "not_a_tool"}

    with pytest.raises(anthropic.BadRequestError, match="not_a_tool"):
        client.messages.create(**request)
