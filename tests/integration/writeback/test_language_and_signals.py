"""Signals and the ticket's language on the vendors: Zendesk gets the signal tags through ``additional_tags``
(never ``tags``) and a note in the language the workflow asks for; HubSpot, which has no tags, gets them in
the note."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.writeback.conftest import (
    HS_TICKET,
    ZD_EMAIL,
    ZD_TICKET,
    ZD_TOKEN,
    as_read,
    decision,
    notes_with_ref,
    ticket_updates,
)
from triage_gate.adapters.vendor_writers import ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.policy import Policy
from triage_gate.triage.decision import DecisionRecord, LanguageFacts, Signals, decision_message
from triage_gate.writeback.service import WritebackService
from triage_local.sandboxes import FakeZendesk
from triage_tools.memory import InMemoryDecisionStore, StaticSecrets


def in_language(record: DecisionRecord, code: str, signals: Signals | None) -> DecisionRecord:
    language = LanguageFacts(code=code, source="detected", detected=code, confidence=0.96)
    return record.replace(**{"language": language, "signals": signals})


def notes_in_ticket_language(policy: Policy) -> Policy:
    """The shipped policy with zendesk-support's note in the ticket's language."""
    support = policy.workflows["zendesk-support"]
    language = support.language.replace(**{"note_language": "ticket"})
    workflows = {**policy.workflows, "zendesk-support": support.replace(**{"language": language})}
    return policy.replace(**{"workflows": workflows})


def test_zendesk_adds_the_signal_tags_with_the_others_and_keeps_the_agents_tags(deliver, zendesk):
    record = in_language(decision(snapshot=as_read(zendesk)), "de", Signals(sentiment="negative", urgent=True))

    assert deliver(record).status == "applied"

    [update] = ticket_updates(zendesk)
    assert "tags" not in update
    assert update["additional_tags"] == ["ai_triaged", "ai_bug", "ai_sentiment_negative", "ai_urgent"]
    assert set(zendesk.ticket(ZD_TICKET)["tags"]) == {
        "vip", "web_form", "ai_triaged", "ai_bug", "ai_sentiment_negative", "ai_urgent",
    }  # fmt: skip
    [note] = notes_with_ref(zendesk, record)
    lines = note["body"].splitlines()
    assert lines[0] == "AI triage applied:"  # the shipped policy: the agents' language (en)
    assert "Language: de" in lines
    assert "Sentiment: negative · Urgent: yes" in lines


def test_zendesk_writes_no_urgent_tag_for_a_ticket_that_is_not_urgent(deliver, zendesk):
    deliver(in_language(decision(), "en", Signals(sentiment="positive", urgent=False)))

    [update] = ticket_updates(zendesk)
    assert update["additional_tags"] == ["ai_triaged", "ai_bug", "ai_sentiment_positive"]


def test_zendesk_note_in_the_tickets_language_when_the_workflow_asks(
    shipped_policy: Policy, zendesk: FakeZendesk
) -> None:
    secrets = StaticSecrets(VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN))  # type: ignore[arg-type]
    writers: dict[str, Any] = {"zendesk": ZendeskWriter(secrets, zendesk.url)}
    ledger = InMemoryDecisionStore()
    service = WritebackService(notes_in_ticket_language(shipped_policy), writers, ledger)
    record = in_language(decision(), "pt", Signals(sentiment="neutral", urgent=False))
    ledger.create(record)

    assert service.process(decision_message(record), time.monotonic() + 30).status == "applied"

    [note] = notes_with_ref(zendesk, record)
    lines = note["body"].splitlines()
    assert lines[0] == "A triagem por IA aplicou:"
    assert "- category: bug (confiança calibrada 0.91)" in lines  # the label as the taxonomy has it
    assert "Idioma: pt" in lines
    assert "Sentimento: neutro · Urgente: não" in lines


def test_hubspot_has_no_tags_the_signals_are_in_its_note(deliver, hubspot):
    record = in_language(decision(source="hubspot"), "es", Signals(sentiment="negative", urgent=True))

    assert deliver(record).status == "applied"

    [patch] = [r for r in hubspot.requests if r.method == "PATCH"]
    assert not any("sentiment" in p or "urgent" in p or "tag" in p for p in patch.json["properties"])
    [note] = hubspot.notes_for(HS_TICKET)
    body = note["properties"]["hs_note_body"]
    assert "Language: es" in body.splitlines()
    assert "Sentiment: negative · Urgent: yes" in body.splitlines()
