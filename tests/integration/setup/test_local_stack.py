"""The admin's path on the local stack (`make local`: no --stack), with the real functions behind its URLs: `setup
secrets` fills the local secret, `setup zendesk` connects the Zendesk sandbox to the runner and stores its
signing secret, a ticket created in Zendesk then reaches the runner signed with it, and `doctor` finds every URL
answering as it should (its unsigned probes are refused by the real functions, with the secret they read)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import ROOT
from tests.integration.setup.conftest import secrets_file, triage
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes

SECRETS = {
    "HUBSPOT_CLIENT_SECRET": "local-hs-client-secret",
    "SLACK_SIGNING_SECRET": "local-slack-signing-secret",
    "SLACK_BOT_TOKEN": "xoxb-local-setup",
    "ZENDESK_EMAIL": "admin@local.test",
    "ZENDESK_API_TOKEN": "local-zd-token",
    "HUBSPOT_ACCESS_TOKEN": "pat-local-hubspot",
    "ANTHROPIC_API_KEY": "sk-ant-local-setup",
}


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRunner, Sandboxes]]:
    sandboxes = Sandboxes(
        zendesk_email=SECRETS["ZENDESK_EMAIL"], zendesk_token=SECRETS["ZENDESK_API_TOKEN"],
        hubspot_token=SECRETS["HUBSPOT_ACCESS_TOKEN"], anthropic_key=SECRETS["ANTHROPIC_API_KEY"],
        slack_token=SECRETS["SLACK_BOT_TOKEN"],
    )  # fmt: skip
    flags = tmp_path_factory.mktemp("flags") / "flags.json"
    flags.write_text("{}", encoding="utf-8")
    with sandboxes:
        sandboxes.zendesk.users[sandboxes.zendesk.agent_id]["role"] = "admin"
        for channel in ("#support-triage-review", "#revops-triage-review", "#triage-escalations"):
            sandboxes.slack.add_channel(channel)
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
        environ.update({**sandboxes.env(), "FLAGS_FILE": str(flags)})  # no vendor secret: the admin stores it
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ)
        with LocalRunner(config, log=io.StringIO()) as runner:
            yield runner, sandboxes


def test_the_admins_path_on_the_local_stack(
    local_stack: tuple[LocalRunner, Sandboxes], tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, sandboxes = local_stack
    for name, value in sandboxes.env().items():  # the shell the admin runs `triage` in, as for `make local`
        monkeypatch.setenv(name, value)
    for name in (*SECRETS, "ZENDESK_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLAGS_FILE", runner.config.environ["FLAGS_FILE"])
    url = ("--url", runner.base_url)

    # (no doctor before the secret is stored: a warm function would keep the empty secret for 5 minutes)
    code, out, err = triage(capsys, "setup", "secrets", "--from", str(secrets_file(tmp_path, SECRETS)), *url)
    assert code == 0, out + err
    assert f"the local stack ({runner.base_url})" in out
    code, out, err = triage(capsys, "setup", "zendesk", *url)
    assert code == 0, out + err
    assert f"created webhook 'Triage Gate (local)' → {runner.base_url}/webhooks/zendesk" in out
    assert triage(capsys, "setup", "zendesk", *url)[1].rstrip().endswith("Zendesk: no change")
    assert triage(capsys, "setup", "hubspot", *url)[0] == 0

    sandboxes.zendesk.add_ticket(8101, notify=True, subject="Where is my invoice?")
    accepted = _wait_for_accepted(runner)
    assert accepted >= 1  # the runner took the delivery: signed with the secret setup stored

    code, out, err = triage(capsys, "doctor", *url)
    assert code == 0, out + err
    for name in ("zendesk webhook url", "hubspot webhook url", "slack interactions url"):
        line = next(line for line in out.splitlines() if f"] {name} " in line)
        assert line.startswith("[OK  ]"), out
        assert "refuses unsigned requests (401)" in line
    assert "[SKIP] alarm subscription" in out  # the local stack has no alarms


def _wait_for_accepted(runner: LocalRunner, timeout: float = 30.0) -> int:
    """How many Zendesk events the runner's intake accepted (its TriageFunction's invocations start then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        invoked = runner.health()["functions"].get("TriageFunction", {}).get("invocations", 0)
        if invoked:
            return int(invoked)
        time.sleep(0.2)
    return 0
