"""Tickets in German, Spanish and Portuguese through the local stack WITH an Anthropic key: detected and
recorded with their language, answered by Claude in their own language with an English gist and the signals
beside the labels, tagged, and shown to reviewers with their language. (Without a key:
tests/integration/test_languages_local.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.between_events.conftest import REQUESTER, ZD_SECRET, Stack, new_ticket

TICKETS = {
    51301: ("de", "Rechnung doppelt belastet",
            "Hallo, meine Kreditkarte wurde für die Rechnung 8812 (invoice) zweimal belastet. Bitte erstatten Sie "
            "den doppelten Betrag."),
    51302: ("es", "No puedo exportar el informe",
            "Cuando intento hacer el export del informe a CSV aparece un error 500. Es urgente, tenemos una "
            "auditoría mañana por la mañana."),
    51303: ("pt", "Acesso indevido à minha conta",
            "Acho que houve um breach: alguém acessou a minha conta ontem à noite e mudou o meu endereço de e-mail."),
}  # fmt: skip


@pytest.fixture(scope="module")
def decided(stack: Stack) -> Stack:
    zendesk = stack.sandboxes.zendesk
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    try:
        for ticket_id, (_code, subject, description) in TICKETS.items():
            new_ticket(stack, ticket_id, subject, description)
        stack.settle()
    finally:
        zendesk.disconnect()
    return stack


@pytest.mark.parametrize("ticket_id", list(TICKETS))
def test_claude_answers_each_ticket_with_its_language_an_english_gist_and_the_signals(
    decided: Stack, ticket_id: int
) -> None:
    code = TICKETS[ticket_id][0]

    [decision] = decided.decisions(ticket_id)

    assert decision.language is not None
    assert (decision.language.code, decision.language.source) == (code, "detected")
    assert {task.model for task in decision.tasks.values()} == {"claude-haiku-4-5"}
    assert decision.gist is not None
    assert (decision.gist.language, decision.gist.source_language, decision.gist.machine_translated) == (
        "en",
        code,
        True,
    )
    assert decision.signals is not None
    assert decision.signals.sentiment in ("negative", "neutral", "positive")
    assert decision.signals.urgent is not None
    # The prompt carried the ticket in its own language, and asked for the gist.
    subject = TICKETS[ticket_id][1].lower()
    requests = decided.sandboxes.anthropic.message_requests()
    [request] = [r for r in requests if subject in json.dumps(r, ensure_ascii=False).lower()]
    assert "gist" in request["tools"][0]["input_schema"]["properties"]


def test_an_applied_ticket_carries_the_signal_tags(decided: Stack) -> None:
    [decision] = decided.decisions(51301)
    assert decision.action == "apply", decision.reason_codes
    assert decision.signals is not None

    tags = set(decided.sandboxes.zendesk.ticket(51301)["tags"])

    assert f"ai_sentiment_{decision.signals.sentiment}" in tags
    assert ("ai_urgent" in tags) is bool(decision.signals.urgent)


def test_the_reviewer_sees_the_language_and_the_machine_translated_gist(decided: Stack) -> None:
    [decision] = decided.decisions(51303)  # "breach": security, always reviewed
    assert decision.action == "review"

    [(_, post)] = [c for c in decided.sandboxes.slack.calls("chat.postMessage") if "51303" in json.dumps(c[1])]
    shown: Any = json.dumps(post, ensure_ascii=False)

    assert "Portuguese (pt)" in shown
    assert "machine-translated" in shown


def test_a_later_comment_in_another_language_neither_re_decides_nor_changes_the_tags(
    stack: Stack, zendesk: Any
) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    german = "Hallo, die Rechnung 9913 (invoice) ist falsch berechnet worden. Bitte korrigieren Sie den Betrag."
    new_ticket(stack, 51304, "Rechnung 9913 falsch", german)
    stack.settle()  # decided, written back, and our own write-back echoed back as ticket_updated
    [decision] = stack.decisions(51304)
    assert decision.action == "apply", decision.reason_codes
    assert decision.language is not None
    assert decision.language.code == "de"
    tags_before = set(zendesk.ticket(51304)["tags"])

    zendesk.add_comment(51304, "Any update on invoice 9913? It is still wrong, this is urgent.", REQUESTER)
    stack.settle()

    assert len(stack.decisions(51304)) == 1  # decided once: the English comment did not re-read or re-route it
    [after] = stack.decisions(51304)
    assert after.language == decision.language
    assert after.signals == decision.signals
    assert set(zendesk.ticket(51304)["tags"]) == tags_before  # no urgent tag from a second answer
    assert stack.model_calls("Rechnung 9913") == 1
    assert len(stack.ai_notes(51304)) == 1
