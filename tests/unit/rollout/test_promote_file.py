"""`triage rollout promote` / `status` on the local flags file: the bar, its refusal, --force --reason recorded,
roll backs always allowed, widening a percentage; decisions read from a DecisionsTable (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.rollout import DECISIONS_TABLE, HOUR_AGO, applied, hubspot_shadow, store
from triage_tools.cli import main
from triage_tools.rollout.audit import AuditEntry

TABLE = DECISIONS_TABLE
CANARY = "10% of tickets on auto"


def promote(flags: Path, *extra: str) -> int:
    return main(
        ["rollout", "promote", "--workflow", "hubspot-tickets", "--table", TABLE, "--flags", str(flags), *extra]
    )


def audit(flags: Path) -> list[AuditEntry]:
    path = flags.with_name("flags.audit.jsonl")
    return (
        [AuditEntry.from_json(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def mode(flags: Path, rule: str | None = None) -> Any:
    feature = json.loads(flags.read_text(encoding="utf-8"))["mode.hubspot-tickets"]
    return feature["rules"][rule] if rule else feature["default"]


def test_a_promotion_the_evidence_does_not_support_is_refused_and_nothing_changes(flags, decisions, capsys):
    store(decisions, hubspot_shadow(100, agreeing=90))  # 90 %: Wilson lower bound 82.6 % < 95 %
    before = flags.read_text(encoding="utf-8")

    code = promote(flags, "--to", "assist")

    err = capsys.readouterr().err
    assert code == 1
    assert "refused: mode.hubspot-tickets: 'default' shadow -> assist does not meet the promotion bar" in err
    assert "shadow agreement lower bound 82.6% < 95.0% (1 - error_tolerance 0.05)" in err
    assert "--force --reason TEXT" in err
    assert flags.read_text(encoding="utf-8") == before
    assert audit(flags) == []


def test_force_with_a_reason_makes_the_change_and_the_audit_trail_says_it_was_forced(flags, decisions, capsys):
    store(decisions, hubspot_shadow(100, agreeing=90))

    code = promote(flags, "--to", "assist", "--force", "--reason", "pilot team signed off", "--actor", "maria")

    assert code == 0
    assert mode(flags) == "assist"
    [entry] = audit(flags)
    assert (entry.actor, entry.kind, entry.from_mode, entry.to_mode, entry.segment) == (
        "maria", "promotion", "shadow", "assist", "default",
    )  # fmt: skip
    assert entry.forced
    assert entry.reason == "pilot team signed off"
    assert entry.unmet == ["shadow agreement lower bound 82.6% < 95.0% (1 - error_tolerance 0.05)"]
    assert (entry.evidence["decisions"], entry.evidence["shadow_agreements"]) == (100, 90)
    assert entry.result == {"file": str(flags)}
    assert "promoted (FORCED)" in capsys.readouterr().out


def test_force_without_a_reason_is_a_usage_error(flags, decisions, capsys):
    assert promote(flags, "--to", "assist", "--force") == 2
    assert "--force needs --reason" in capsys.readouterr().err


def test_a_promotion_the_evidence_supports_is_made_and_recorded_unforced(flags, decisions):
    store(decisions, hubspot_shadow(100, agreeing=100))  # lower bound 96.3 % >= 95 %

    assert promote(flags, "--to", "assist") == 0

    assert mode(flags) == "assist"
    [entry] = audit(flags)
    assert (entry.forced, entry.unmet, entry.actor) == (False, [], "ops-lead")


def test_rolling_back_is_always_allowed(flags, decisions):
    assert promote(flags, "--to", "shadow", "--segment", CANARY) == 0  # no evidence at all

    assert mode(flags, CANARY)["when_match"] == "shadow"
    [entry] = audit(flags)
    assert (entry.kind, entry.from_mode, entry.to_mode, entry.forced) == ("roll_back", "auto", "shadow", False)


def test_widening_the_auto_percentage_on_evidence_moves_its_range(flags, decisions):
    store(decisions, applied(100, overridden=0, rule=CANARY, workflow="hubspot-tickets", created=HOUR_AGO))

    assert promote(flags, "--to", "auto", "--segment", CANARY, "--share", "25") == 0

    assert mode(flags, CANARY)["conditions"][0]["value"] == {"BASE": 100, "START": 0, "END": 24}
    [entry] = audit(flags)
    assert (entry.kind, entry.share_before, entry.share_after) == ("widening", 10.0, 25.0)


def test_status_shows_each_segment_its_recommendation_and_the_last_changes(flags, decisions, capsys):
    store(decisions, hubspot_shadow(100, agreeing=100))
    assert promote(flags, "--to", "shadow", "--segment", CANARY, "--reason", "alarm noise on the canary") == 0
    capsys.readouterr()

    assert (
        main(["rollout", "status", "--workflow", "hubspot-tickets", "--table", TABLE, "--flags", str(flags), "--json"])
        == 0
    )

    found = json.loads(capsys.readouterr().out)
    segments = {s["label"]: s for s in found["workflows"]["hubspot-tickets"]["segments"]}
    assert segments["default"]["recommendation"]["action"] == "promote"
    assert segments["default"]["recommendation"]["command"] == (
        "triage rollout promote --workflow hubspot-tickets --to assist --segment default"
    )
    assert segments["default"]["evidence"]["shadow_agreement_lower"] == pytest.approx(100 / (100 + 1.959964**2))
    assert segments[CANARY]["mode"] == "shadow"
    [change] = found["audit"]["last_changes"]
    assert (change["reason"], change["kind"]) == ("alarm noise on the canary", "roll_back")
    assert set(found["workflows"]) == {"hubspot-tickets"}


def test_status_in_the_terminal(flags, decisions, capsys):
    store(decisions, hubspot_shadow(100, agreeing=90))

    assert main(["rollout", "status", "--table", TABLE, "--flags", str(flags)]) == 0

    out = capsys.readouterr().out
    assert f"Rollout (flags: {flags})" in out
    assert "hubspot-tickets: last 28 days; bar 95.0% (1 - error_tolerance 0.05), Wilson 95%" in out
    assert "· default: hold: shadow agreement lower bound 82.6% < 95.0%" in out
    assert "none recorded" in out


def test_unknown_workflow_rule_or_missing_flags_are_clear_errors(flags, decisions, capsys, tmp_path):
    assert (
        main(["rollout", "promote", "--workflow", "nope", "--to", "auto", "--table", TABLE, "--flags", str(flags)]) == 2
    )
    assert "no workflow 'nope'" in capsys.readouterr().err
    assert promote(flags, "--to", "auto", "--segment", "half of them") == 2
    assert "to add a percentage rule, give --share" in capsys.readouterr().err
    assert promote(tmp_path / "missing.json", "--to", "auto") == 1
    assert "no flags file at" in capsys.readouterr().err


def test_without_readable_decisions_a_roll_back_still_goes_through_and_a_promotion_does_not(flags, decisions, capsys):
    missing = ["--table", "no-such-table"]
    base = ["rollout", "promote", "--workflow", "hubspot-tickets", "--flags", str(flags), *missing]

    assert main([*base, "--to", "assist"]) == 1
    assert main([*base, "--to", "shadow", "--segment", CANARY]) == 0

    err = capsys.readouterr().err
    assert "cannot read the decisions" in err
    assert "the decisions could not be read" in err
