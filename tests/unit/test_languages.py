"""A ticket's language: read by the real detector (fastText lid.176), settled against the requester's locale
and the policy's default, used by route rules, and never guessed at by a local model trained on other
languages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import LANGUAGE_DETECTOR, harness, policy, ticket_event
from triage_gate.adapters.local_models import LocalModelCache
from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy
from triage_gate.policy_language import LanguagePolicy
from triage_gate.records import ValidationError
from triage_gate.triage import reasons
from triage_gate.triage.language import Detection, detection_text, language_name, locale_language, settle
from triage_tools.training.languages import describe, training_languages

GERMAN = "Hallo, meine Kreditkarte wurde für die Rechnung vom November zweimal belastet. Bitte erstatten Sie es."
ENGLISH = "My card was charged twice for the November invoice. Please refund the duplicate charge."


def documents(description: str, subject: str, locale: str | None = "en-US") -> dict[tuple[str, str], Any]:
    return {
        ("zendesk", "40211"): {
            "ticket": {"id": 40211, "subject": subject, "description": description},
            "requester": {"locale": locale} if locale else {},
            "organization": {"name": "Acme", "organization_fields": {"tier": "growth"}},
        }
    }


def language_policy(**rules: Any) -> Any:
    """The test policy, its local priority task routed to Claude for languages its model does not know."""
    base = policy()
    workflow = base.workflows["support"].to_data()
    workflow["tasks"]["priority"]["route_rules"] = [{"route": "haiku", "outside_local_languages": True}]
    workflow.update(rules)
    return policy(**workflow)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Rechnung doppelt belastet, bitte um Erstattung", "de"),
        ("No puedo entrar a mi cuenta desde ayer", "es"),
        ("Não consigo entrar na minha conta desde ontem", "pt"),
        ("Impossible de me connecter depuis hier soir", "fr"),
        ("La fattura di novembre è stata addebitata due volte", "it"),
        ("Ik kan sinds gisteren niet meer inloggen op mijn account", "nl"),
    ],
)
def test_the_shipped_detector_reads_short_ticket_text(text: str, code: str) -> None:
    detection = LANGUAGE_DETECTOR.detect(text)

    assert detection is not None
    assert detection.code == code
    assert detection.confidence >= LanguagePolicy().min_confidence


def test_nothing_to_read_is_no_detection_and_digits_are_unsure() -> None:
    assert LANGUAGE_DETECTOR.detect("   \n ") is None
    digits = LANGUAGE_DETECTOR.detect("12345 67890")
    assert digits is not None
    assert digits.confidence < LanguagePolicy().min_confidence


def test_a_confident_reading_wins_over_the_locale_and_an_unsure_one_falls_back_to_it_then_the_default() -> None:
    rules = LanguagePolicy(min_confidence=0.5, default_language="en")

    confident = settle(Detection("pt", 0.97), "en-US", rules)
    unsure = settle(Detection("da", 0.31), "sv_SE", rules)
    nothing = settle(Detection("da", 0.31), None, rules)

    assert (confident.language, confident.source, confident.locale) == ("pt", "detected", "en-US")
    assert (unsure.language, unsure.source, unsure.detected, unsure.confidence) == ("sv", "locale", "da", 0.31)
    assert (nothing.language, nothing.source) == ("en", "default")
    assert settle(None, "not a locale!", rules).source == "default"


def test_locales_and_names() -> None:
    assert [locale_language(x) for x in ("pt-BR", "en_US", "DE", "zh-Hant-TW", "", "x", None, 12)] == [
        "pt", "en", "de", "zh", None, None, None, None,
    ]  # fmt: skip
    assert (language_name("de"), language_name("ceb"), language_name(None)) == ("German", "ceb", "unknown")
    assert detection_text("Subject\nline", "body\n\twith   spaces") == "Subject line body with spaces"


def test_a_german_ticket_goes_to_claude_for_the_task_whose_local_model_knows_only_english() -> None:
    h = harness(language_policy(), documents(GERMAN, "Rechnung doppelt belastet"))
    h.local.trained_languages = frozenset({"en"})
    h.remote.default = {"category": "billing", "category_confidence": 0.93, "priority": "high",
                        "priority_confidence": 0.9, "rationale": "charge"}  # fmt: skip

    record = h.service.process(ticket_event()).record

    assert record is not None
    assert record.language is not None
    assert (record.language.code, record.language.source, record.language.locale) == ("de", "detected", "en-US")
    assert record.tasks["priority"].route == "haiku"
    assert record.tasks["category"].route == "haiku"
    assert h.local.calls == []  # the English model was never asked
    assert reasons.LANGUAGE_UNSUPPORTED not in record.reason_codes


def test_without_an_api_key_a_german_ticket_goes_to_review_never_to_a_local_guess() -> None:
    h = harness(language_policy(), documents(GERMAN, "Rechnung doppelt belastet"))
    h.local.trained_languages = frozenset({"en"})
    h.remote.key_set = False

    record = h.service.process(ticket_event()).record

    assert record is not None
    assert record.action == "review"
    assert reasons.LANGUAGE_UNSUPPORTED in record.reason_codes
    assert {t: (d.label, d.problem) for t, d in record.tasks.items()} == {
        "category": (None, reasons.LANGUAGE_UNSUPPORTED),
        "priority": (None, reasons.LANGUAGE_UNSUPPORTED),
    }
    assert h.local.calls == []
    assert record.fallback == "no_api_key"


def test_an_english_ticket_stays_on_the_local_route() -> None:
    h = harness(language_policy(), documents(ENGLISH, "Charged twice"))
    h.local.trained_languages = frozenset({"en"})

    record = h.service.process(ticket_event()).record

    assert record is not None
    assert record.language is not None
    assert record.language.code == "en"
    assert record.tasks["priority"].route == "local"
    assert [task for task, _ in h.local.calls] == ["priority"]


def test_a_model_that_does_not_say_its_languages_is_taken_to_know_only_the_default_language() -> None:
    h = harness(policy(), documents(GERMAN, "Rechnung doppelt belastet"))  # no route rule: priority stays local
    assert h.local.trained_languages is None

    record = h.service.process(ticket_event()).record

    assert record is not None
    assert record.tasks["priority"].problem == reasons.LANGUAGE_UNSUPPORTED
    assert record.tasks["priority"].label is None
    assert all(task != "priority" for task, _ in h.local.calls)


def test_an_unsure_reading_uses_the_requesters_locale_for_routing() -> None:
    h = harness(language_policy(), documents("ok 12345", "?", locale="de-AT"))
    h.local.trained_languages = frozenset({"en"})

    record = h.service.process(ticket_event()).record

    assert record is not None
    assert record.language is not None
    assert (record.language.code, record.language.source) == ("de", "locale")
    assert record.tasks["priority"].route == "haiku"


def test_the_seed_models_know_english_and_the_cache_says_so() -> None:
    shipped = load_policy(DEFAULT_POLICY_PATH)
    cache = LocalModelCache()
    for workflow in shipped.workflows.values():
        for task in workflow.tasks.values():
            assert task.local_model is not None
            assert cache.languages(str(shipped.model_path(task.local_model))) == frozenset({"en"})


def test_training_records_the_languages_with_enough_rows() -> None:
    texts = [ENGLISH] * 30 + [GERMAN] * 21 + ["Não consigo entrar na minha conta desde ontem"] * 2 + ["12345"]

    languages = training_languages(texts)

    assert languages["supported"] == ["de", "en"]
    assert languages["counts"] == {"en": 30, "de": 21, "pt": 2}
    assert languages["undetermined"] == 1
    assert "pt 2 (too few)" in describe(languages)


def test_a_signal_rule_needs_its_signal_asked_for() -> None:
    workflow = policy().workflows["support"].to_data()
    workflow["rules"]["review_on_signals"] = {"sentiment": ["negative"]}

    with pytest.raises(ValidationError, match=r"signals\.sentiment"):
        policy(**workflow)
    workflow["signals"] = {"sentiment": True}
    assert policy(**workflow).workflows["support"].rules.review_on_signals.sentiment == ["negative"]


@pytest.mark.parametrize(
    "text",
    [
        "ログインできません。パスワードをリセットしてもメールが届きません。至急対応をお願いします。" * 6,
        "我们的账单被重复扣款了两次 请尽快退款。发票号码是INV-2026-1187。" * 6,
        "ไม่สามารถเข้าสู่ระบบได้ตั้งแต่เมื่อวานกรุณาช่วยด่วน" * 6,
    ],
)
def test_text_in_scripts_without_spaces_is_text_and_a_blob_is_still_not(text: str) -> None:
    from triage_gate.policy import Guardrails
    from triage_gate.triage.input_guard import check_input

    assert reasons.NON_TEXT not in check_input(text, Guardrails()).reasons
    blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 40
    assert reasons.NON_TEXT in check_input(blob, Guardrails()).reasons
