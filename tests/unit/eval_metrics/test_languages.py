"""`triage eval` by language: hand-counted rows through the slicing function, the summary and the report."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.eval_metrics.conftest import LABELS, row
from triage_tools.evaluation.languages import by_language, language_unsupported_rows
from triage_tools.evaluation.metrics import summary
from triage_tools.reports.eval import render_html, terminal_summary

UNSUPPORTED = ("language_unsupported",)


def _rows() -> list:
    return [
        # en: 3 rows, 2 auto-applied (1 right, 1 wrong), 1 review that is right; cost 0.001 each
        replace(row("1", "billing", "billing", 0.95, auto=True), language="en"),
        replace(row("2", "bug", "billing", 0.9, auto=True), language="en"),
        replace(row("3", "access", "access", 0.5, reasons=("low_confidence",)), language="en"),
        # de: 4 rows, none applied, no label (language_unsupported on 3, one also low confidence); cost 0.002 each
        *(replace(row(f"d{i}", "bug", None, None, reasons=UNSUPPORTED, cost=0.002), language="de") for i in range(3)),
        replace(row("d3", "bug", "bug", 0.4, reasons=("low_confidence",), cost=0.002), language="de"),
        # no language on the record: counted as unknown, never dropped
        row("u", "billing", "billing", 0.99, auto=True, cost=0.0),
    ]


def test_each_language_has_its_own_figures_ordered_by_volume():
    table = by_language(_rows())

    assert [(e["language"], e["tickets"]) for e in table] == [("de", 4), ("en", 3), ("unknown", 1)]
    de, en, unknown = table
    assert de["name"] == "German"
    assert en["name"] == "English"
    assert unknown["name"] == "unknown"
    assert en["accuracy"] == pytest.approx(2 / 3)
    assert en["coverage"] == pytest.approx(2 / 3)
    assert en["n_auto"] == 2
    assert en["precision_auto"] == pytest.approx(0.5)
    assert en["reviews"] == 1
    assert en["language_unsupported"] == 0
    assert en["cost_usd"] == pytest.approx(0.003)
    assert en["cost_per_ticket"] == pytest.approx(0.001)
    assert de["accuracy"] == pytest.approx(0.25)
    assert de["coverage"] == 0.0
    assert de["precision_auto"] is None
    assert de["reviews"] == 4
    assert de["language_unsupported"] == 3
    assert de["cost_usd"] == pytest.approx(0.008)
    assert unknown["precision_auto"] == 1.0
    assert sum(e["tickets"] for e in table) == len(_rows())


def test_ties_in_volume_are_ordered_by_code_and_no_rows_give_no_table():
    rows = [replace(row("a", "bug", "bug", 0.9), language="pt"), replace(row("b", "bug", "bug", 0.9), language="es")]

    assert [e["language"] for e in by_language(rows)] == ["es", "pt"]
    assert by_language([]) == []
    assert language_unsupported_rows(_rows()) == 3


def test_the_summary_and_both_reports_carry_the_by_language_table():
    result = summary(_rows(), LABELS, name="run")

    assert [e["language"] for e in result["by_language"]] == ["de", "en", "unknown"]
    assert result["language_unsupported"] == 3
    text = terminal_summary(result, [])
    assert "By language (run):" in text
    de_line = next(line for line in text.splitlines() if line.startswith("de (German)"))
    assert de_line.split()[2:7] == ["4", "25.0%", "0.0%", "-", "4"]
    assert "language_unsupported: 3 rows" in text
    page = render_html(result, [])
    assert "<h2>By language</h2>" in page
    assert "<td>en (English)</td><td>3</td><td>66.7%</td>" in page
