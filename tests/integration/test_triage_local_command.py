"""`triage local` (what `make local` runs) as a user runs it: a process with vendor sandboxes, the README's
"work the queue from the terminal" against them, and SIGTERM stopping every child it started.

One `triage local` process serves this module; the last test stops it with SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.builders import EVENTS_DIR, ROOT
from triage_local import demo_data
from triage_tools.cli import main as triage

SECRETS = {
    "ZENDESK_WEBHOOK_SECRET": "zd-secret",
    "HUBSPOT_CLIENT_SECRET": "hs-secret",
    "SLACK_SIGNING_SECRET": "sl-secret",
}
VENDOR_VARIABLES = ("ZENDESK_BASE_URL", "HUBSPOT_BASE_URL", "SLACK_API_URL", "ANTHROPIC_BASE_URL")
CREDENTIALS = ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "HUBSPOT_ACCESS_TOKEN", "SLACK_BOT_TOKEN", "ANTHROPIC_API_KEY")
ZENDESK_AUTH = (f"{demo_data.ZENDESK_EMAIL}/token", demo_data.ZENDESK_TOKEN)
STARTUP_SECONDS = 90
TEMPLATE = ROOT / "template.yaml"


@dataclass
class LocalProcess:
    proc: subprocess.Popen[str]
    base_url: str
    vendors: dict[str, tuple[str, str]]  # name -> (sandbox|real, url)
    log: Path

    def url(self, vendor: str) -> str:
        return self.vendors[vendor][1]


def _environ() -> dict[str, str]:
    drop = ("AWS_ENDPOINT", "TRIAGE_", *VENDOR_VARIABLES, *CREDENTIALS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **SECRETS, "FLAGS_FILE": str(ROOT / "infra" / "local" / "flags.json"), "PYTHONUNBUFFERED": "1"}


def _read_announcement(lines: queue.Queue[str | None]) -> tuple[str, dict[str, tuple[str, str]]]:
    """The stack's URL and the vendor lines `triage local` prints once it is up."""
    deadline = time.monotonic() + STARTUP_SECONDS
    base_url, vendors, in_vendors = "", {}, False
    while len(vendors) < 4:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "triage local exited before it was up"
        if "local stack on " in line:
            base_url = line.split(" on ", 1)[1].split(" ", 1)[0]
        elif line.startswith("Vendors"):
            in_vendors = True
        elif in_vendors:
            name, kind, url = line.split()[:3]
            vendors[name] = (kind, url)
    return base_url, vendors


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left to collect


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads the process tree from /proc")
    workdir = tmp_path_factory.mktemp("local")
    log = workdir / "functions.log"
    command = [sys.executable, "-m", "triage_tools.cli", "local", "--port", "0", "--template", str(TEMPLATE)]
    with log.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(command, env=_environ(), stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=workdir)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps the pipe drained while the tests run
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    children: set[int] = set()
    try:
        base_url, vendors = _read_announcement(lines)
        children = _descendants(proc.pid)
        yield LocalProcess(proc, base_url, vendors, log)
    finally:
        children |= _descendants(proc.pid) if proc.poll() is None else set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in children:  # only what this fixture started, and only if a test left it running
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_every_vendor_is_a_sandbox_when_no_base_url_is_given(local: LocalProcess) -> None:
    assert {name: kind for name, (kind, _) in local.vendors.items()} == {
        "zendesk": "sandbox", "hubspot": "sandbox", "slack": "sandbox", "anthropic": "sandbox",
    }  # fmt: skip
    assert all(url.startswith("http://127.0.0.1:") for _, url in local.vendors.values())


def test_the_sandboxes_answer_with_the_demo_accounts(local: LocalProcess) -> None:
    ticket = requests.get(f"{local.url('zendesk')}/api/v2/tickets/40211.json", auth=ZENDESK_AUTH, timeout=5)
    hubspot = requests.get(
        f"{local.url('hubspot')}/crm/v3/objects/tickets/19800231",
        headers={"Authorization": f"Bearer {demo_data.HUBSPOT_TOKEN}"}, timeout=5,
    )  # fmt: skip
    slack = requests.post(f"{local.url('slack')}auth.test", data={"token": demo_data.SLACK_TOKEN}, timeout=5)
    anthropic = requests.post(f"{local.url('anthropic')}/v1/messages", json={}, timeout=5)

    assert ticket.json()["ticket"]["subject"] == "Charged twice for the November invoice"
    assert hubspot.status_code == 200
    assert slack.json()["ok"] is True
    assert (anthropic.status_code, anthropic.json()["error"]["type"]) == (401, "authentication_error")


def _sandbox_ticket(local: LocalProcess, ticket_id: int) -> dict[str, object]:
    response = requests.get(f"{local.url('zendesk')}/api/v2/tickets/{ticket_id}.json", auth=ZENDESK_AUTH, timeout=5)
    ticket: dict[str, object] = response.json()["ticket"]
    return ticket


def _eventually(check, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f}s"
        time.sleep(0.5)
    return found


def test_work_the_queue_from_the_terminal_against_the_sandboxes(
    local: LocalProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = SECRETS["ZENDESK_WEBHOOK_SECRET"]
    for sample in ("ingest__zendesk_ticket_created.json", "ingest__zendesk_comment_added.json"):
        assert triage(["send", str(EVENTS_DIR / sample), "--url", local.base_url, "--secret", secret]) == 0
    capsys.readouterr()

    def waiting() -> str | None:
        assert triage(["review", "list", "--url", local.base_url]) == 0
        out = capsys.readouterr().out
        return out if "zendesk #40211" in out else None

    def written_back() -> list[str] | None:  # 40198 (a bug, auto mode), on another worker: it may finish later
        tags = _sandbox_ticket(local, 40198)["tags"]
        return tags if isinstance(tags, list) and "ai_triaged" in tags else None

    listed = _eventually(waiting, "the refund case (40211) reaching the review queue")
    assert "ai_triaged" in _eventually(written_back, "40198's write-back to the sandboxed Zendesk")
    assert "1 case(s) waiting" in listed
    decision_id = listed.splitlines()[0].strip()

    approve = ["review", "approve", decision_id, "--url", local.base_url, "--user", "U0REVIEWER"]
    assert triage([*approve, "--secret", SECRETS["SLACK_SIGNING_SECRET"]]) == 0

    def approved_tags() -> list[str] | None:
        tags = _sandbox_ticket(local, 40211)["tags"]
        return tags if isinstance(tags, list) and "ai_refund" in tags else None

    assert "ai_triaged" in _eventually(approved_tags, "the approved refund label reaching 40211")
    capsys.readouterr()
    assert triage(["review", "list", "--url", local.base_url]) == 0
    assert "0 case(s) waiting" in capsys.readouterr().out
    log = local.log.read_text(encoding="utf-8")
    assert "failed on receive" not in log  # no record failed on its way


def test_sigterm_stops_every_child_as_ctrl_c_does(local: LocalProcess) -> None:
    children = _descendants(local.proc.pid)
    commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in children}
    assert any("triage_local.aws_server" in c for c in commands.values()), commands  # the embedded moto
    workers = [c.split()[4] for c in commands.values() if "triage_local.worker" in c]  # each one's code directory
    assert len(set(workers)) == 7, commands  # every function's, and more where load scaled a function out

    local.proc.send_signal(signal.SIGTERM)

    assert local.proc.wait(timeout=45) == 0
    assert [pid for pid in children if _running(pid)] == []
    assert "[runner] stopping" in local.log.read_text(encoding="utf-8")
    with pytest.raises(requests.ConnectionError):  # the sandboxes lived in the process: gone with it
        requests.get(f"{local.url('zendesk')}/api/v2/tickets/40211.json", auth=ZENDESK_AUTH, timeout=2)
