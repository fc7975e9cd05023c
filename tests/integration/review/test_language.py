"""A ticket in another language through review: the posted and the escalated message show its language, the
machine-translated gist and the signals; the reviewer's answer carries language and signals to write-back."""

from __future__ import annotations

import pytest

from tests.integration.review.conftest import ESCALATIONS, REVIEW, Review, shown
from triage_gate.messages import DecisionSignals
from triage_gate.triage.decision import DecisionRecord, LanguageFacts, ReviewerGist, Signals

GIST = "Charged twice for the November invoice; asks for one charge to be refunded."


@pytest.fixture
def german(record: DecisionRecord) -> DecisionRecord:
    return record.replace(**{
        "language": LanguageFacts(code="de", source="detected", detected="de", confidence=0.97, locale="de-DE"),
        "gist": ReviewerGist(text=GIST, language="en", source_language="de", model="claude-haiku-4-5"),
        "signals": Signals(sentiment="negative", urgent=True, model="claude-haiku-4-5"),
    })  # fmt: skip


def test_the_posted_case_shows_language_gist_and_signals(review: Review, german: DecisionRecord, slack) -> None:
    assert review.post(german) == "posted"

    [message] = slack.messages(REVIEW)
    text = shown(message)
    assert "Language: German (de) · detected 0.97 · requester locale de-DE" in text
    assert "English gist — machine-translated by claude-haiku-4-5, not checked by a person:" in text
    assert GIST in text
    assert "Sentiment: negative · Urgent: yes" in text


def test_the_escalation_post_shows_the_language_too(review: Review, german: DecisionRecord, slack) -> None:
    review.post(german)

    review.click("escalate", german, user="UBOB")
    assert review.work() == ["escalate"]

    [escalated] = slack.messages(ESCALATIONS)
    assert "Language: German (de)" in shown(escalated)
    assert GIST in shown(escalated)


def test_the_reviewers_answer_carries_language_and_signals_to_write_back(
    review: Review, german: DecisionRecord
) -> None:
    review.post(german)

    review.click("approve", german)
    assert review.work() == ["approve"]

    [applied] = review.applied()
    assert applied.authority == "reviewer"
    assert applied.language == "de"
    assert applied.signals == DecisionSignals(sentiment="negative", urgent=True)
