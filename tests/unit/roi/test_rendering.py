"""Rendering the ROI figures: the terminal report, the HTML report, the Slack digest."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.unit.roi.conftest import BASELINE, BASELINES, W45, W48, applied, record, reviewed
from triage_gate.roi.digest import slack_digest
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import WeekStats, weekly
from triage_tools.reports.roi import terminal, write_html

# --------------------------------------------------------------------------------------------- rendering


def _mixed_stats() -> tuple[list[WeekStats], dict[str, dict[str, Any]]]:
    records = [
        applied(W45 + timedelta(days=1), 12, cost=0.002),
        reviewed(W48 + timedelta(days=1), "correct", seconds=900, reason_codes=["low_confidence"]),
        reviewed(W48 + timedelta(days=1), "escalate", seconds=60, reason_codes=["vip_customer"]),
        applied(W48 + timedelta(days=2), 45),
        record(workflow="sales", created=W48, mode="shadow", action="record", findings=[{"kind": "shadow_agreement"}]),
    ]
    stats = weekly(records, BASELINES)
    return stats, totals(stats)


def test_terminal_report() -> None:
    stats, summary = _mixed_stats()
    text = terminal(stats, summary)
    assert "support  2026-W45 .. 2026-W48" in text
    assert re.search(r"^2026-W46\s+0\s+0\s+0\s+0\s+0\s+-", text, re.MULTILINE)  # the gap week is a row
    assert "12m vs 4.0h" in text
    assert "Top escalation reasons:" in text
    assert "low_confidence" in text
    assert "vip_customer" in text
    assert "Reviewer throughput:" in text
    assert "U0ALICE" in text
    assert "sales" in text
    assert "100.0% agree" in text
    assert terminal([], {}) == "No decisions in the period.\n"


def test_html_report_escapes_and_draws(tmp_path: Path) -> None:
    hostile = '<b onclick="x">&support'
    records = [
        applied(W45 + timedelta(days=1), 12, workflow=hostile),
        reviewed(
            W48 + timedelta(days=1),
            "escalate",
            seconds=60,
            workflow=hostile,
            reason_codes=["<img src=x>"],
            reviewer='"><script>alert(1)</script>',
        ),
    ]
    stats = weekly(records, {hostile: BASELINE})
    path = write_html(tmp_path / "out", stats, totals(stats))
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") >= 4
    assert "<script" not in page
    assert "<img" not in page
    assert "<b " not in page
    assert "&lt;b onclick=&quot;x&quot;&gt;&amp;support" in page
    assert "&lt;img src=x&gt;" in page
    assert "2026-W46" in page  # the gap week is in the table
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    payload = json.loads((tmp_path / "out" / "roi.json").read_text(encoding="utf-8"))
    assert [w["week"] for w in payload["weeks"]] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert payload["totals"][hostile]["escalations_by_reason"] == {"<img src=x>": 1}


def test_html_report_without_decisions(tmp_path: Path) -> None:
    page = write_html(tmp_path, [], {}).read_text(encoding="utf-8")
    assert "No decisions in the period." in page
    assert json.loads((tmp_path / "roi.json").read_text(encoding="utf-8")) == {"weeks": [], "totals": {}}


def _assert_slack_limits(text: str, blocks: list[dict[str, Any]]) -> None:
    assert text
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
    json.dumps(blocks)


def test_slack_digest_content() -> None:
    stats, summary = _mixed_stats()
    text, blocks = slack_digest(summary, stats, workflow="support", period="the last 4 weeks")
    _assert_slack_limits(text, blocks)
    assert text.startswith("Triage Gate ROI for support (the last 4 weeks): 4 decisions")
    assert blocks[0]["type"] == "header"
    rendered = json.dumps(blocks)
    assert "Hours recovered" in rendered
    assert "`low_confidence`: 1" in rendered
    assert "<@U0ALICE>: 2" in rendered
    assert "2026-W46" in rendered  # the gap week is in the week-by-week table

    _, shadow_blocks = slack_digest(summary, stats, workflow="sales", period="the last 4 weeks")
    assert "agreement 100.0%" in json.dumps(shadow_blocks)


def test_slack_digest_limits_and_escaping() -> None:
    name = "<!channel> & " + "w" * 300
    records = []
    for i in range(60):  # 60 weeks, 200 reason codes, 150 reviewers
        created = W48 - timedelta(weeks=i)
        codes = [f"reason_{i}_{j}_" + "x" * 40 for j in range(4)]
        records.append(
            reviewed(created, "escalate", workflow=name, reason_codes=codes, reviewer=f"U{i:04d}<>", seconds=60)
        )
        records.append(reviewed(created, "approve", workflow=name, reviewer=f"U{i + 100:04d}", seconds=60))
        records.append(applied(created, 10, workflow=name))
    stats = weekly(records, {name: BASELINE})
    text, blocks = slack_digest(totals(stats), stats, workflow=name, period="<period>")
    _assert_slack_limits(text, blocks)
    rendered = json.dumps(blocks)
    mrkdwn = [json.dumps(b) for b in blocks if b["type"] != "header"]  # plain_text never parses mentions
    assert not any("<!channel>" in part or "<period>" in part for part in mrkdwn)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp;" in rendered
    assert "U0000&lt;&gt;" in rendered  # not a Slack id: escaped, not a mention
    assert "more reason codes" in rendered


def test_slack_digest_without_decisions() -> None:
    text, blocks = slack_digest({}, [], workflow="support", period="the last 7 days")
    _assert_slack_limits(text, blocks)
    assert "no decisions" in text
