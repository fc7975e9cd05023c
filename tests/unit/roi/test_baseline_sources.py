"""`triage report` says where each baseline figure came from: measured (`triage backtest --write-baseline`) or
stated in the policy — in the terminal, the HTML page (escaped) and roi.json."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.unit.roi.conftest import W48, applied
from triage_gate.policy import RoiBaseline
from triage_gate.roi.totals import WorkflowTotals, totals
from triage_gate.roi.weeks import WeekStats, weekly
from triage_tools.reports.roi import baseline_sources, terminal, write_html

MEASURED = RoiBaseline(
    manual_minutes_per_ticket=4,
    turnaround_minutes=131.5,
    error_rate=0.0712,
    sources={
        "turnaround_minutes": "measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets, p50 <first> assignment",
        "error_rate": "measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets, re-routed: 343 of 4812",
    },
)


def _stats() -> tuple[list[WeekStats], dict[str, WorkflowTotals]]:
    stats = weekly([applied(W48 + timedelta(days=1), 12)], {"support": MEASURED})
    return stats, totals(stats)


def test_each_figure_with_its_source():
    assert baseline_sources(MEASURED) == [
        "manual triage per ticket 4 min: stated in the policy",
        "turnaround 2.2h: measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets, p50 <first> assignment",
        "error rate 7.1%: measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets, re-routed: 343 of 4812",
    ]
    assert baseline_sources(None) == []


def test_terminal_html_and_json_name_the_sources(tmp_path: Path):
    stats, summary = _stats()
    baselines = {"support": MEASURED}

    text = terminal(stats, summary, baselines)
    page_path = write_html(tmp_path, stats, summary, baselines)

    assert (
        "Baseline figures:\n  manual triage per ticket 4 min: stated in the policy\n  turnaround 2.2h: measured" in text
    )
    page = page_path.read_text()
    assert "<h3>Baseline figures</h3>" in page
    assert "p50 &lt;first&gt; assignment" in page
    assert "<first>" not in page
    data = json.loads((tmp_path / "roi.json").read_text())
    assert data["baselines"]["support"]["error_rate"] == {"value": 0.0712, "source": MEASURED.sources["error_rate"]}
    assert data["baselines"]["support"]["manual_minutes_per_ticket"]["source"] == "stated in the policy"


def test_without_baselines_the_report_is_as_before(tmp_path: Path):
    stats, summary = _stats()
    assert "Baseline figures" not in terminal(stats, summary)
    write_html(tmp_path, stats, summary)
    assert "baselines" not in json.loads((tmp_path / "roi.json").read_text())
