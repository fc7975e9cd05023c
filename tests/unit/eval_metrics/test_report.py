"""`triage eval` report: the terminal summary, the regression gate, the HTML page and summary.json."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.unit.eval_metrics.conftest import LABELS, LOW, ROWS, row
from triage_tools.evaluation.metrics import (
    majority_baseline,
    summary,
)
from triage_tools.reports.eval import gate, terminal_summary, write_html

# --------------------------------------------------------------------------------------------- report


def _candidate() -> dict[str, Any]:
    return summary(ROWS, LABELS, name="haiku v2")


def _local() -> dict[str, Any]:
    rows = [row(r.row_id, r.truth, r.truth if r.row_id != "r3" else "bug", 0.6, auto=True) for r in ROWS]
    return summary(rows, LABELS, name="local model")


def test_terminal_summary_side_by_side() -> None:
    text = terminal_summary(_candidate(), [_local(), {**majority_baseline(ROWS), "name": "majority class"}])
    header = text.splitlines()[0]
    assert header.index("haiku v2") < header.index("local model") < header.index("majority class")
    accuracy_line = next(line for line in text.splitlines() if line.startswith("accuracy"))
    assert accuracy_line.split() == ["accuracy", "60.0%", "90.0%", "40.0%"]
    ece_line = next(line for line in text.splitlines() if line.startswith("ECE"))
    assert ece_line.split()[-1] == "-"  # the majority baseline has no confidences
    assert "75.0% (n=4)" in text
    assert "p95 latency" in text
    assert "1000 ms" in text
    assert "$0.00120" in text
    billing = next(line for line in text.splitlines() if line.startswith("billing"))
    assert billing.split() == ["billing", "0.667", "0.500", "0.571", "4"]
    reasons = text[text.index("Top reason codes") :].splitlines()
    assert reasons[2].split() == ["low_confidence", "4", "40.0%"]


def test_gate_passes() -> None:
    candidate = {"name": "new", "n": 100, "coverage": 0.4, "precision_auto": 0.97, "n_auto": 40}
    baseline = {"name": "old", "n": 100, "coverage": 0.5, "precision_auto": 0.98, "n_auto": 50}
    assert gate(candidate, baseline, tolerance=0.05, margin=0.02) == []
    # exactly at the boundaries still passes: 0.95 == 1 - 0.05 and 0.97 - 0.95 == 0.02
    at_edge = {**candidate, "precision_auto": 0.95}
    assert gate(at_edge, {**baseline, "precision_auto": 0.97}, tolerance=0.05, margin=0.02) == []
    # nothing auto-applied on either side: nothing to judge
    none = {"name": "new", "n": 100, "coverage": 0.0, "precision_auto": None, "n_auto": 0}
    assert gate(none, {**none, "name": "old"}, tolerance=0.05, margin=0.02) == []


def test_gate_blocks_precision_below_tolerance() -> None:
    candidate = {"name": "new", "n": 100, "coverage": 0.4, "precision_auto": 0.9, "n_auto": 40}
    baseline = {"name": "old", "coverage": 0.4, "precision_auto": 0.9, "n_auto": 40}
    (reason,) = gate(candidate, baseline, tolerance=0.05, margin=0.02)
    assert reason == (
        "Auto-applied precision 90.00% (36/40 correct) is below the required 95.00% (error tolerance 5.00%)."
    )


def test_gate_blocks_precision_below_the_baseline_by_more_than_the_margin() -> None:
    candidate = {"name": "new", "n": 100, "coverage": 0.4, "precision_auto": 0.96, "n_auto": 50}
    baseline = {"name": "old", "coverage": 0.4, "precision_auto": 0.99, "n_auto": 40}
    (reason,) = gate(candidate, baseline, tolerance=0.05, margin=0.02)
    assert reason == (
        "Auto-applied precision 96.00% is 3.00 points below the baseline old's 99.00%, more than the allowed "
        "margin of 2.00 points."
    )


def test_gate_blocks_coverage_dropping_to_zero() -> None:
    candidate = {"name": "new", "n": 100, "coverage": 0.0, "precision_auto": None, "n_auto": 0}
    baseline = {"name": "old", "coverage": 0.42, "precision_auto": 0.99, "n_auto": 42}
    (reason,) = gate(candidate, baseline, tolerance=0.05, margin=0.02)
    assert reason == (
        "Coverage dropped to 0% (nothing auto-applied out of 100 tickets) while the baseline old auto-applied "
        "42.00% of tickets."
    )


def test_gate_reports_every_reason_and_reads_a_whole_summary_json() -> None:
    candidate = {"name": "new", "n": 100, "coverage": 0.4, "precision_auto": 0.8, "n_auto": 40}
    stored = {"candidate": {"name": "old", "coverage": 0.5, "precision_auto": 0.99, "n_auto": 50}, "baselines": []}
    reasons = gate(candidate, stored, tolerance=0.05, margin=0.02)
    assert len(reasons) == 2
    assert "below the required 95.00%" in reasons[0]
    assert "19.00 points below the baseline old's 99.00%" in reasons[1]
    with pytest.raises(ValueError, match="tolerance"):
        gate(candidate, stored, tolerance=1.5, margin=0.02)


def test_write_html_and_summary_json(tmp_path: Path) -> None:
    candidate, local, majority = _candidate(), _local(), {**majority_baseline(ROWS), "name": "majority class"}
    out = tmp_path / "eval" / "run1"
    path = write_html(out, candidate, [local, majority])
    assert path == out / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 4  # reliability, curve, per-label F1, reason codes
    assert '<table class="heat">' in page  # the confusion matrix
    for text in ("billing", "access", "low_confidence", "haiku v2", "local model", "majority class", "policy"):
        assert text in page
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing external
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL):
        ET.fromstring(svg)  # noqa: S314 - our own output: each chart is well-formed XML
    stored = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert stored == {"candidate": candidate, "baselines": [local, majority]}


def test_html_escapes_labels_names_and_reason_codes(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    rows = [
        row("a", evil, evil, 0.9, auto=True, reasons=('<img src=x onerror="boom">',)),
        row("b", evil, "bug", 0.6, reasons=LOW),
        row("c", "bug", "bug", 0.8, auto=True),
    ]
    candidate = summary(rows, [evil, "bug"], name='A&B "<b>"')
    page = write_html(tmp_path, candidate, []).read_text(encoding="utf-8")
    assert evil not in page
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A&amp;B &quot;&lt;b&gt;&quot;" in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL):
        ET.fromstring(svg)  # noqa: S314 - our own output
    assert math.isclose(json.loads((tmp_path / "summary.json").read_text())["candidate"]["accuracy"], 2 / 3)
