"""`triage report` shows the rollout state and the recommendation per workflow (and rollout.json with --out)."""

from __future__ import annotations

import json

from tests.unit.rollout import DECISIONS_TABLE as TABLE
from tests.unit.rollout import hubspot_shadow, store
from triage_tools.cli import main


def test_the_report_ends_with_the_rollout_section_and_writes_rollout_json(flags, decisions, capsys, tmp_path):
    store(decisions, hubspot_shadow(100, agreeing=100))
    out_dir = tmp_path / "report"

    code = main(["report", "--since", "7d", "--table", TABLE, "--flags", str(flags), "--out", str(out_dir)])

    out = capsys.readouterr().out
    assert code == 0
    assert f"Rollout (flags: {flags})" in out
    assert "· default: promote to assist: run: triage rollout promote --workflow hubspot-tickets --to assist" in out
    found = json.loads((out_dir / "rollout.json").read_text(encoding="utf-8"))
    segments = {s["label"]: s for s in found["workflows"]["hubspot-tickets"]["segments"]}
    assert segments["default"]["recommendation"]["action"] == "promote"
    assert segments["default"]["evidence"]["decisions"] == 100


def test_without_a_way_to_read_the_deployed_flags_the_report_says_so_and_still_stands(decisions, capsys):
    code = main(["report", "--since", "7d", "--table", TABLE, "--workflow", "hubspot-tickets"])

    assert code == 0
    assert "Rollout: not shown: a deployed stack's flags are in AppConfig" in capsys.readouterr().out
