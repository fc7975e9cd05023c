"""The internal note's language (workflow ``language.note_language``), its language line and signals, and the
signals written as Zendesk tags (HubSpot has no tags: there they are in the note only)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.writeback_plan.conftest import message, workflow
from triage_gate.messages import DecisionMessage, DecisionSignals
from triage_gate.policy_language import LanguagePolicy
from triage_gate.triage import reasons
from triage_gate.writeback.note_phrases import NOTE_PHRASES, note_language
from triage_gate.writeback.plan import note_text, plan_writeback, signal_tags

NEGATIVE_URGENT = DecisionSignals(sentiment="negative", urgent=True)


def in_language(code: str | None, signals: DecisionSignals | None = None, **changes: Any) -> DecisionMessage:
    return message(**changes).replace(**{"language": code, "signals": signals})


def ticket_policy(agent: str = "en") -> LanguagePolicy:
    return LanguagePolicy(note_language="ticket", agent_language=agent)


# ---------------------------------------------------------------- note_language: ticket
# (language, first line, language line, signal line, the low-confidence reason)
IN_EACH_LANGUAGE = [
    ("en", "AI triage applied:", "Language: en", "Sentiment: negative · Urgent: yes",
     "Needs a human because: the model was not confident enough for this label"),
    ("de", "KI-Triage hat gesetzt:", "Sprache: de", "Stimmung: negativ · Dringend: ja",
     "Braucht einen Menschen, weil: das Modell war sich bei diesem Label nicht sicher genug"),
    ("es", "La clasificación por IA aplicó:", "Idioma: es", "Sentimiento: negativo · Urgente: sí",
     "Necesita una persona porque: el modelo no tenía suficiente confianza en esta etiqueta"),
    ("fr", "Le tri par IA a appliqué :", "Langue: fr", "Sentiment: négatif · Urgent: oui",
     "Demande une personne car : le modèle n'était pas assez sûr de cette étiquette"),
    ("pt", "A triagem por IA aplicou:", "Idioma: pt", "Sentimento: negativo · Urgente: sim",
     "Precisa de uma pessoa porque: o modelo não teve confiança suficiente neste rótulo"),
    ("it", "Il triage IA ha applicato:", "Lingua: it", "Sentimento: negativo · Urgente: sì",
     "Serve una persona perché: il modello non era abbastanza sicuro di questa etichetta"),
    ("nl", "AI-triage heeft toegepast:", "Taal: nl", "Sentiment: negatief · Dringend: ja",
     "Heeft een mens nodig omdat: het model was niet zeker genoeg van dit label"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "head", "language_line", "signal_line", "reason_line"), IN_EACH_LANGUAGE)
def test_note_language_ticket_writes_the_note_in_the_tickets_language(
    code: str, head: str, language_line: str, signal_line: str, reason_line: str
) -> None:
    msg = in_language(code, NEGATIVE_URGENT, reason_codes=[reasons.LOW_CONFIDENCE])

    lines = note_text(msg, language=ticket_policy()).splitlines()

    assert lines[0] == head
    assert lines[1].startswith("- category: bug (")  # task names and labels stay as the taxonomy has them
    assert language_line in lines
    assert signal_line in lines
    assert reason_line in lines
    assert lines[-1].startswith("(triage-gate decision ")  # the reference write-back finds its note by


def test_the_assist_note_and_a_reviewers_label_are_in_the_tickets_language_too() -> None:
    msg = in_language("de", mode="assist").replace(**{"corrected_tasks": ["category"]})

    lines = note_text(msg, language=ticket_policy()).splitlines()

    assert lines[0] == "KI-Triage schlägt vor:"
    assert "- category: bug (von Prüfer gesetzt)" in lines
    assert "- priority: high (kalibrierte Konfidenz 0.91)" in lines


def test_note_language_ticket_falls_back_to_the_agent_language_without_phrases_for_the_ticket() -> None:
    text = note_text(in_language("sv"), language=ticket_policy(agent="nl"))

    assert text.startswith("AI-triage heeft toegepast:")
    assert "Taal: sv" in text.splitlines()


def test_a_ticket_of_undetermined_language_gets_the_agent_language() -> None:
    assert note_language(ticket_policy(agent="fr"), None) == "fr"


# ---------------------------------------------------------------- note_language: agent
def test_note_language_agent_writes_the_agents_language_whatever_the_ticket_is_written_in() -> None:
    agents = LanguagePolicy(note_language="agent", agent_language="es")

    text = note_text(in_language("de", NEGATIVE_URGENT), language=agents)

    assert text.startswith("La clasificación por IA aplicó:")
    assert "Idioma: de" in text.splitlines()  # the ticket's language, said in the note's language
    assert "Sentimiento: negativo · Urgente: sí" in text.splitlines()


def test_the_default_policy_writes_english_with_the_tickets_language_line() -> None:
    text = note_text(in_language("pt"))

    assert text.startswith("AI triage applied:")
    assert "Language: pt" in text.splitlines()


def test_an_agent_language_without_phrases_falls_back_to_english() -> None:
    agents = LanguagePolicy(note_language="agent", agent_language="sv")

    assert note_language(agents, "de") == "en"
    assert note_text(in_language("de"), language=agents).startswith("AI triage applied:")


def test_a_message_from_before_languages_has_no_language_or_signal_line() -> None:
    text = note_text(message(), language=ticket_policy())

    assert text.startswith("AI triage applied:")
    assert "Language" not in text
    assert "Sentiment" not in text


def test_only_the_signals_answered_are_stated() -> None:
    calm = DecisionSignals(sentiment=None, urgent=False)

    text = note_text(in_language("en", calm))

    assert "Urgent: no" in text.splitlines()
    assert "Sentiment" not in text


def test_every_language_has_every_reason_and_sentiment_in_its_own_words() -> None:
    english = NOTE_PHRASES["en"]
    for code, words in NOTE_PHRASES.items():
        assert set(words.reasons) == set(reasons.DESCRIPTIONS), code
        assert set(words.sentiments) == {"negative", "neutral", "positive"}, code
        if code != "en":
            assert words.applied != english.applied, code
            assert all(words.reasons[r] != english.reasons[r] for r in reasons.DESCRIPTIONS), code
    assert sorted(NOTE_PHRASES) == ["de", "en", "es", "fr", "it", "nl", "pt"]


def test_an_unknown_reason_code_is_shown_as_is_in_any_language() -> None:
    text = note_text(in_language("it", reason_codes=["some_new_reason"]), language=ticket_policy())

    assert "Serve una persona perché: some_new_reason" in text.splitlines()


# ---------------------------------------------------------------- the plan: note language and signal tags
def test_the_plan_writes_the_note_in_the_language_the_workflow_asks_for() -> None:
    def ticket_language(wf: dict[str, Any]) -> None:
        wf["language"]["note_language"] = "ticket"

    plan = plan_writeback(in_language("fr"), workflow("zendesk-support", ticket_language))

    assert plan.note is not None
    assert plan.note.startswith("Le tri par IA a appliqué :")


def test_zendesk_auto_adds_the_signal_tags_after_the_label_tags() -> None:
    plan = plan_writeback(in_language("de", NEGATIVE_URGENT), workflow("zendesk-support"))

    assert plan.tags == ["ai_triaged", "ai_bug", "ai_sentiment_negative", "ai_urgent"]


@pytest.mark.parametrize(
    ("signals", "tags"),
    [
        (DecisionSignals(sentiment="positive", urgent=False), ["ai_sentiment_positive"]),
        (DecisionSignals(sentiment="neutral"), ["ai_sentiment_neutral"]),
        (DecisionSignals(urgent=True), ["ai_urgent"]),
        (DecisionSignals(), []),
        (None, []),
    ],
)
def test_signal_tags(signals: DecisionSignals | None, tags: list[str]) -> None:
    assert signal_tags(signals) == tags


def test_assist_mode_writes_no_tags_and_states_the_signals_in_the_note() -> None:
    plan = plan_writeback(in_language("en", NEGATIVE_URGENT, mode="assist"), workflow("zendesk-support"))

    assert plan.tags == []
    assert plan.note is not None
    assert "Sentiment: negative · Urgent: yes" in plan.note.splitlines()


def test_hubspot_has_no_tags_so_the_signals_are_in_the_note_only() -> None:
    msg = in_language(
        "es", NEGATIVE_URGENT, source="hubspot", workflow="hubspot-tickets",
        labels={"category": "billing", "priority": "HIGH"},
    )  # fmt: skip

    plan = plan_writeback(msg, workflow("hubspot-tickets"))

    assert plan.tags == []
    assert not any("sentiment" in name or "urgent" in name for name in plan.fields)
    assert plan.note is not None
    assert "Sentiment: negative · Urgent: yes" in plan.note.splitlines()
    assert "Language: es" in plan.note.splitlines()
