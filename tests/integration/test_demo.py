"""`make demo` end to end: every scripted webhook gets the outcome the README promises."""

from __future__ import annotations

import io
import re

from tests.builders import ROOT
from triage_local.demo import STEPS, run_demo


def test_demo_shows_accepted_duplicate_ignored_and_rejected_webhooks(tmp_path):
    out = io.StringIO()

    # Unpaced: `make demo` spaces the export's requests as Zendesk allows (6 s each); the sandbox still limits.
    assert run_demo(ROOT, port=0, out=out, log_path=tmp_path / "demo.log", paced=False) == 0

    webhook_row = re.compile(r"^\s+\d+\s{2}(?P<label>.+?)\s{2,}\d{3}\s{2}")
    lines = {m["label"]: line for line in out.getvalue().splitlines() if (m := webhook_row.match(line))}
    assert len(lines) == len(STEPS)
    assert "200  1 accepted" in lines["Zendesk event: ticket.created"]
    assert "200  1 accepted" in lines["Zendesk trigger: ticket_created"]
    assert "2 accepted, 2 ignored" in lines["HubSpot batch (4 events)"]
    assert "200  1 duplicate" in lines["Zendesk redelivery of the first event"]
    assert "staff_comment" in lines["Zendesk event: agent's internal note"]
    assert "401  rejected: invalid_signature" in lines["Zendesk event signed with a wrong secret"]
    assert "401  rejected: stale_timestamp" in lines["HubSpot batch signed 10 minutes ago"]
    text = out.getvalue()
    decided = {
        line.split()[1]: line
        for line in text.splitlines()
        if line.startswith(("  zendesk ", "  hubspot ")) and ("zendesk-support" in line or "hubspot-tickets" in line)
    }
    assert set(decided) == {"40211", "40198", "40215", "19800231"}
    assert "policy_always_review" in decided["40211"]  # a refund is always a human's call
    assert "shadow  record" in decided["19800231"]  # the HubSpot workflow runs in shadow mode
    assert re.search(r"zendesk-support\s+en \(\d\.\d\d\)", decided["40211"])  # the language each ticket was read in
    assert "DLQs: 0." in text
    assert re.search(r"IAM: enforced, one role per function: \d+ distinct AWS calls by \d+ functions, 0 denied", text)
    # The auto-applied ticket got its fields and note; the reviewer's correction reached its ticket too.
    assert "ai_triaged" in next(line for line in text.splitlines() if line.startswith("  zendesk 40198: "))
    assert "zendesk 40215 now: priority high" in text
    assert "corrected to" in text
    # Day zero: the history is pulled, measured and backtested; the live report compares with the measurement.
    assert "$ triage history pull --source zendesk" in text
    assert re.search(r"seen 6,0\d\d tickets: kept [\d,]+; left out \d+", text)
    assert "$ triage backtest" in text
    assert re.search(r"^auto\s+\d+ \(\d+\.\d%\)", text, re.MULTILINE)
    assert "Next: " in text
    assert "turnaround_minutes: 'measured: zendesk history" in text  # --write-baseline's diff
    assert "$ triage report" in text
    assert re.search(r"turnaround (\d+m|\d+(\.\d)?h): measured: zendesk history", text)  # 89m or 1.5h
    assert "hours recovered" in text
    assert "Rollout (flags:" in text
    log = (tmp_path / "demo.log").read_text()
    assert "webhook event" in log
    assert '"message":"decision"' in log
