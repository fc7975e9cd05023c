"""The language model loads while the help desk answers: ``prepare`` starts the load in the background and
``detect`` uses it, waits for it, or loads the model itself (and raises) when the background load failed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from tests.builders import harness, ticket_event, zendesk_documents
from triage_gate.adapters.language_detector import FastTextLanguageDetector
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.service import TriageService

ENGLISH = "My card was charged twice for the November invoice. Please refund the duplicate charge."


def test_prepare_loads_the_model_in_the_background_and_detect_uses_it() -> None:
    detector = FastTextLanguageDetector()
    assert not detector.loaded

    detector.prepare()
    thread = detector._loading
    assert thread is not None
    assert thread.name == "language-model-load"
    thread.join(timeout=30)

    assert detector.loaded
    model = detector._model
    detection = detector.detect(ENGLISH)
    assert detection is not None
    assert detection.code == "en"
    assert detector._model is model  # not loaded a second time


def test_prepare_starts_one_load_however_often_it_is_called() -> None:
    detector = FastTextLanguageDetector()
    detector.prepare()
    first = detector._loading
    detector.prepare()
    detector.prepare()

    assert detector._loading is first
    assert first is not None
    first.join(timeout=30)
    detector.prepare()  # loaded: nothing to start
    assert detector._loading is first


def test_detect_during_a_background_load_waits_for_it_and_reads_the_same_as_a_fresh_detector() -> None:
    detector = FastTextLanguageDetector()
    detector.prepare()

    detection = detector.detect(ENGLISH)  # very likely while the load is still running

    assert detection == FastTextLanguageDetector().detect(ENGLISH)


def test_detect_without_prepare_loads_the_model_itself() -> None:
    detector = FastTextLanguageDetector()

    detection = detector.detect("Rechnung doppelt belastet, bitte um Erstattung")

    assert detection is not None
    assert detection.code == "de"
    assert detector._loading is None


def test_a_failed_background_load_is_raised_by_detect_not_lost(tmp_path: Path) -> None:
    detector = FastTextLanguageDetector(tmp_path / "missing.ftz")
    detector.prepare()
    assert detector._loading is not None
    detector._loading.join(timeout=30)
    assert not detector.loaded

    with pytest.raises(ValueError, match=r"missing\.ftz"):
        detector.detect(ENGLISH)
    with pytest.raises(ValueError, match=r"missing\.ftz"):  # every ticket meets it, not only the first
        detector.detect(ENGLISH)


def test_the_service_starts_the_load_before_it_waits_for_the_ticket_context() -> None:
    """The context fetch waits (up to 10 s) for the model to be loaded. Were the load started after the
    fetch, or only by detect, the fetch would wait in vain and the test fail."""
    detector = FastTextLanguageDetector()
    h = harness(documents={("zendesk", "40211"): zendesk_documents()})
    seen: dict[str, Any] = {}

    class SlowHelpDesk:
        def fetch(self, source: str, account_id: str, ticket_id: str, fields: Any, timeout: float) -> Any:
            seen["loading_at_fetch"] = detector._loading is not None
            waited = 0.0
            while not detector.loaded and waited < 10:
                threading.Event().wait(0.01)
                waited += 0.01
            seen["loaded_during_fetch"] = detector.loaded
            return h.context.fetch(source, account_id, ticket_id, fields, timeout)

    deps: TriageDeps = replace(h.service.deps, languages=detector, context=SlowHelpDesk())
    outcome = TriageService(deps).process(ticket_event())

    assert outcome.status == "decided"
    assert seen == {"loading_at_fetch": True, "loaded_during_fetch": True}
    assert outcome.record is not None
    assert outcome.record.language is not None
    assert outcome.record.language.detected == "en"
