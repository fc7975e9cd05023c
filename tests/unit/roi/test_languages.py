"""`triage report` by language: hand-counted decision sets sliced by ``record.language.code``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.unit.roi.conftest import BASELINES, W48, applied, record, reviewed
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly
from triage_gate.triage.decision import DecisionRecord, LanguageFacts
from triage_tools.reports.roi import render_html, terminal, write_html
from triage_tools.reports.roi_languages import by_language, html_sections, terminal_sections

DAY = W48 + timedelta(days=1)


def _in(language: str | None, item: DecisionRecord) -> DecisionRecord:
    if language is None:
        return item
    facts = LanguageFacts(code=language, source="detected", detected=language, confidence=0.98)
    return item.replace(**{"language": facts})


def _records() -> list[DecisionRecord]:
    return [
        # en: 3 decisions; 2 auto-applied (0.002 each), 1 sent to review and approved
        _in("en", applied(DAY, 5, cost=0.002)),
        _in("en", applied(DAY, 5, cost=0.002)),
        _in("en", reviewed(DAY, "approve", seconds=60)),
        # de: 2 decisions, both to review for language_unsupported, still pending
        *(_in("de", record(created=DAY, action="review", reason_codes=["language_unsupported"])) for _ in range(2)),
        # decided before languages were read: unknown
        _in(None, applied(DAY, 5, cost=0.01)),
        # another workflow, and one before the period: neither in the support rows
        _in("en", applied(DAY, 5, workflow="sales")),
        _in("fr", applied(W48 - timedelta(weeks=2), 5)),
    ]


def test_decisions_applied_reviewed_and_cost_per_language():
    table = by_language(_records(), BASELINES, since=W48)

    assert list(table) == ["sales", "support"]
    assert [(e["language"], e["decisions"]) for e in table["support"]] == [("en", 3), ("de", 2), ("unknown", 1)]
    en, de, unknown = table["support"]
    assert (en["auto_applied"], en["sent_to_review"], en["applied_after_review"]) == (2, 1, 1)
    assert en["review_rate"] == pytest.approx(1 / 3)
    assert en["tickets"] == 3
    assert en["cost_usd"] == pytest.approx(0.004)
    assert en["cost_per_ticket"] == pytest.approx(0.004 / 3)
    assert (de["auto_applied"], de["sent_to_review"], de["review_rate"], de["language_unsupported"]) == (0, 2, 1.0, 2)
    assert unknown["name"] == "unknown"
    assert unknown["auto_applied"] == 1
    # the language rows add up to the workflow's own period totals
    support = totals(weekly(_records(), BASELINES, since=W48, workflow="support"))["support"]
    for key in ("decisions", "auto_applied", "applied_after_review"):
        assert sum(e[key] for e in table["support"]) == support[key]


def test_the_workflow_filter_and_no_period_start():
    assert list(by_language(_records(), BASELINES, workflow="sales")) == ["sales"]
    every = by_language(_records(), BASELINES)["support"]
    assert [e["language"] for e in every] == ["en", "de", "fr", "unknown"]


def test_the_terminal_html_and_json_show_the_by_language_table(tmp_path):
    stats = weekly(_records(), BASELINES, since=W48)
    summary = totals(stats)
    languages = by_language(_records(), BASELINES, since=W48)

    text = terminal(stats, summary, BASELINES, languages)
    assert "support by language:" in text
    de_line = next(line for line in text.splitlines() if line.startswith("de (German)"))
    assert de_line.split()[2:8] == ["2", "2", "0", "2", "100.0%", "0"]
    assert "<h2>By language</h2>" in render_html(stats, summary, languages=languages)
    write_html(tmp_path, stats, summary, BASELINES, languages)
    saved = json.loads((tmp_path / "roi.json").read_text())
    assert [e["language"] for e in saved["by_language"]["support"]] == ["en", "de", "unknown"]
    assert "by language:" not in terminal(stats, summary, BASELINES)  # without languages: the report as before


def test_the_signals_claude_answered_are_counted_per_language_and_shown():
    from triage_gate.triage.decision import Signals

    records = _records()
    records[0] = records[0].replace(**{"signals": Signals(sentiment="negative", urgent=True, model="m")})
    records[1] = records[1].replace(**{"signals": Signals(sentiment="neutral", urgent=False, model="m")})
    records[3] = records[3].replace(**{"signals": Signals(sentiment="negative", urgent=None, model="m")})

    table = by_language(records, BASELINES, since=W48)

    en, de, unknown = table["support"]
    assert en["signals"] == {"answered": 2, "negative": 1, "neutral": 1, "positive": 0, "urgent": 1}
    assert de["signals"] == {"answered": 1, "negative": 1, "neutral": 0, "positive": 0, "urgent": 0}
    assert unknown["signals"]["answered"] == 0
    shown = "\n".join(terminal_sections(table))
    assert "signals: negative 2 · neutral 1 · positive 0 · urgent 1 (3 decisions answered them" in shown
    assert "signals:" in html_sections(table)
