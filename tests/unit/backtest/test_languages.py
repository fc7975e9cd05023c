"""The backtest by language, on hand-worked decisions: every figure is worked out in the comments."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.builders import HISTORY_START, seed_history, write_history
from triage_gate.proportions import wilson_lower_bound, wilson_upper_bound
from triage_tools.backtest.languages import by_language
from triage_tools.backtest.replay import Decided
from triage_tools.cli import main
from triage_tools.history.files import HistoryTicket
from triage_tools.reports.languages import BACKTEST_HEADER, backtest_rows, language_task_rows

BAR = 0.95
TASKS = ["category", "priority"]


def _decided(n: int, language: str | None, *, applied: bool, right: bool = True, reasons: tuple[str, ...] = (),
             cost: float = 0.0) -> Decided:  # fmt: skip
    ticket = HistoryTicket(
        id=str(n), created_at=HISTORY_START + timedelta(days=n % 7), subject="", text="x",
        labels={"category": "billing", "priority": "high"}, unmapped={}, first_assigned_at=None, rerouted=False,
    )  # fmt: skip
    predicted: dict[str, str | None] = {"category": "billing" if right else "bug", "priority": "high"}
    if "language_unsupported" in reasons:
        predicted = {"category": None, "priority": None}
    confidence: dict[str, float | None] = {"category": 0.9, "priority": 0.9}
    return Decided(ticket, applied, predicted, confidence, reasons, 1.0, cost, language=language)


def _window() -> list[Decided]:
    return [
        # en: 5 tickets; 4 applied (3 right, 1 wrong), 1 review that is right
        *(_decided(i, "en", applied=True) for i in range(3)),
        _decided(3, "en", applied=False),
        _decided(4, "en", applied=True, right=False),
        # de: 3 tickets, all to review, no label (language_unsupported), 0.01 each
        *(_decided(10 + i, "de", applied=False, reasons=("language_unsupported",), cost=0.01) for i in range(3)),
        # a decision without a language: "unknown", never dropped
        _decided(20, None, applied=False, reasons=("low_confidence",)),
    ]


def test_each_language_gets_coverage_precision_with_wilson_and_reviews_per_week():
    table = by_language(_window(), TASKS, BAR, weeks=2.0)

    assert [(e["language"], e["tickets"]) for e in table] == [("en", 5), ("de", 3), ("unknown", 1)]
    en, de, unknown = table
    assert en["confident"] == 4
    assert en["coverage"] == pytest.approx(0.8)
    assert en["precision"]["n"] == 4
    assert en["precision"]["correct"] == 3
    assert en["precision"]["wilson_low"] == pytest.approx(wilson_lower_bound(3, 4))
    assert en["precision"]["wilson_high"] == pytest.approx(wilson_upper_bound(3, 4))
    assert en["precision"]["verdict"] == "below, not proven"  # 75 % < 95 %, interval still reaches it
    assert en["agreement"]["correct"] == 4
    assert en["agreement"]["n"] == 5
    assert en["reviews"] == 1
    assert en["reviews_per_week"] == pytest.approx(0.5)
    assert en["tasks"]["category"]["agreement"] == pytest.approx(0.8)
    assert en["tasks"]["priority"]["applied"]["correct"] == 4
    assert de["confident"] == 0
    assert de["coverage"] == 0.0
    assert de["precision"]["verdict"] == "none"
    assert de["agreement"]["correct"] == 0
    assert de["reviews_per_week"] == pytest.approx(1.5)
    assert de["language_unsupported"] == 3
    assert de["cost_usd"] == pytest.approx(0.03)
    assert unknown["name"] == "unknown"
    assert unknown["language_unsupported"] == 0
    assert sum(e["reviews_per_week"] for e in table) == pytest.approx(5 / 2.0)  # the modes' figure, split


def test_rows_show_the_wilson_interval_and_tasks_become_columns():
    table = by_language(_window(), TASKS, BAR, weeks=2.0)

    rows = backtest_rows(table)
    assert len(rows[0]) == len(BACKTEST_HEADER)
    assert rows[0][0] == "en (English)"
    assert rows[0][3] == "4"
    assert rows[0][4] == "80.0%"
    assert rows[0][5].startswith("75.0% (")
    assert rows[0][5].endswith(", n=4)")
    assert rows[1][5] == "-"
    assert rows[1][6] == "1.5"
    header, task_rows = language_task_rows(table)
    assert header == ["language", "category: agreement", "category: applied precision", "priority: agreement",
                      "priority: applied precision"]  # fmt: skip
    assert task_rows[1][1] == "0.0%"  # de: no label came out for category


GERMAN = (
    "Hallo, seit dem letzten Update stürzt der Export als CSV jedes Mal ab, sobald ich mehr als dreißig Tage "
    "auswähle. Können Sie sich das bitte dringend ansehen? Vielen Dank und freundliche Grüße"
)


def test_the_backtest_report_slices_the_decided_window_by_language(tmp_path, capsys):
    # 1,500 English tickets (960 train, 240 calibrate, 300 decided); five decided ones are written in German.
    tickets = seed_history(1500)
    for i in range(1400, 1405):
        tickets[i] = replace(tickets[i], subject="Export stürzt ab", text=GERMAN)
    history = write_history(tmp_path / "history", tickets)
    out = tmp_path / "report"

    assert main(["backtest", str(history), "--workflow", "zendesk-support", "--out", str(out)]) == 0

    result = json.loads((out / "backtest.json").read_text())
    table = {entry["language"]: entry for entry in result["languages"]}
    assert set(table) == {"en", "de"}
    assert table["en"]["tickets"] == 295
    assert table["de"]["tickets"] == 5
    assert table["de"]["confident"] == 0  # the model trained on English never applies German
    assert table["de"]["language_unsupported"] == 5
    assert table["en"]["confident"] == result["modes"]["auto"]["applied"]
    assert sum(e["reviews_per_week"] for e in result["languages"]) == pytest.approx(
        result["modes"]["auto"]["reviews_per_week"]
    )
    text = capsys.readouterr().out
    assert "By language (the language each decision counted" in text
    assert next(line for line in text.splitlines() if line.startswith("de (German)")).split()[2] == "5"
    assert "<td>de (German)</td><td>5</td>" in (out / "report.html").read_text()
