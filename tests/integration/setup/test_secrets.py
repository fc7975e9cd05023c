"""`triage setup secrets --from FILE`: every key into the stack's secret, merged; unknown and missing keys refused;
values never printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.setup.conftest import SECRETS, STACK, Deployed, secrets_file, triage


def test_all_keys_are_stored_and_a_second_run_changes_nothing(deployed: Deployed, tmp_path: Path, capsys) -> None:
    source = secrets_file(tmp_path, SECRETS)
    code, out, err = triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK)
    assert code == 0, err
    assert deployed.secret() == SECRETS
    assert re.search(r"SLACK_BOT_TOKEN +set", out)
    assert re.search(r"ZENDESK_WEBHOOK_SECRET +not set yet: `triage setup zendesk` stores it", out)
    code, out, _ = triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK)
    assert code == 0
    assert out.rstrip().endswith(": no change")
    assert out.count("unchanged") == len(SECRETS)


def test_values_are_never_echoed(deployed: Deployed, tmp_path: Path, capsys) -> None:
    source = secrets_file(tmp_path, SECRETS)
    outputs = [triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK, *extra)
               for extra in ((), ("--dry-run",))]  # fmt: skip
    bad = secrets_file(tmp_path, {**SECRETS, "SLACK_BOT_TOKEN": "not-a-bot-token-VALUE"}, "bad.env")
    outputs.append(triage(capsys, "setup", "secrets", "--from", str(bad), "--stack", STACK))
    printed = "".join(out + err for _, out, err in outputs)
    for value in [*SECRETS.values(), "not-a-bot-token-VALUE"]:
        assert value not in printed
    assert "SLACK_BOT_TOKEN must be the bot token" in printed


def test_an_unknown_key_is_refused_and_nothing_is_written(deployed: Deployed, tmp_path: Path, capsys) -> None:
    source = secrets_file(tmp_path, {**SECRETS, "SLACK_BOT_TOKN": "xoxb-typo"})
    code, _, err = triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK)
    assert code == 2
    assert "unknown key(s): SLACK_BOT_TOKN (did you mean SLACK_BOT_TOKEN?)" in err
    assert deployed.secret() == {}


def test_a_missing_required_key_is_refused_unless_the_secret_has_it(deployed: Deployed, tmp_path: Path,
                                                                    capsys) -> None:  # fmt: skip
    partial = {k: v for k, v in SECRETS.items() if k != "ANTHROPIC_API_KEY"}
    code, _, err = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, partial)), "--stack", STACK)
    assert code == 2
    assert "leaves required key(s) without a value: ANTHROPIC_API_KEY" in err
    assert deployed.secret() == {}
    deployed.put_secret({"ANTHROPIC_API_KEY": "sk-ant-already-there", "EXTRA_KEY": "x"})
    code, out, _ = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, partial)), "--stack", STACK)
    assert code == 0
    assert "ANTHROPIC_API_KEY" in out
    assert "kept (already in the secret)" in out
    assert "EXTRA_KEY" in out
    assert "kept, but no function reads it" in out
    assert deployed.secret() == {**SECRETS, "ANTHROPIC_API_KEY": "sk-ant-already-there", "EXTRA_KEY": "x"}


def test_dry_run_writes_nothing_and_json_files_work(deployed: Deployed, tmp_path: Path, capsys) -> None:
    source = tmp_path / "vendor.json"
    source.write_text(json.dumps(SECRETS), encoding="utf-8")
    code, out, _ = triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK, "--dry-run")
    assert code == 0
    assert "would be set" in out
    assert "nothing written" in out
    assert deployed.secret() == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ZENDESK_EMAIL=\n", "empty value for ZENDESK_EMAIL"),
        ("this is not a pair\n", "expected KEY=VALUE"),
        ("ZENDESK_EMAIL=a@b.c\nZENDESK_EMAIL=d@e.f\n", "ZENDESK_EMAIL is given twice"),
        ('{"ZENDESK_EMAIL": 5}', "object of string values"),
    ],
)
def test_malformed_files_are_usage_errors(deployed: Deployed, tmp_path: Path, capsys, text: str,
                                          message: str) -> None:  # fmt: skip
    source = tmp_path / "vendor.env"
    source.write_text(text, encoding="utf-8")
    code, _, err = triage(capsys, "setup", "secrets", "--from", str(source), "--stack", STACK)
    assert code == 2
    assert message in err


def test_an_unknown_stack_says_how_to_fix_it(deployed: Deployed, tmp_path: Path, capsys) -> None:
    code, _, err = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, SECRETS)),
                          "--stack", "no-such-stack")  # fmt: skip
    assert code == 1
    assert "cannot describe stack no-such-stack" in err


def test_all_eight_keys_go_in_when_the_file_has_them(deployed: Deployed, tmp_path: Path, capsys) -> None:
    eight = {**SECRETS, "ZENDESK_WEBHOOK_SECRET": "zd-signing-secret-value"}
    code, out, _ = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, eight)), "--stack", STACK)
    assert code == 0
    assert deployed.secret() == eight
    assert len(eight) == 8
    assert "zd-signing-secret-value" not in out


def test_every_missing_key_is_named(deployed: Deployed, tmp_path: Path, capsys) -> None:
    partial = {"ZENDESK_EMAIL": "admin@acme.test", "ZENDESK_API_TOKEN": "zd-token"}
    code, _, err = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, partial)), "--stack", STACK)
    assert code == 2
    named = err.split("without a value: ", 1)[1].split(" (", 1)[0]
    assert named.split(", ") == [
        "HUBSPOT_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "HUBSPOT_ACCESS_TOKEN", "ANTHROPIC_API_KEY",
    ]  # fmt: skip
    assert "zd-token" not in err
    assert deployed.secret() == {}
