"""Commands that need a stack, run without one, say how to start one — not a connection-pool trace."""

from __future__ import annotations

import socket

import pytest

from triage_tools.cli import main


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    "argv",
    [["report"], ["review", "list"], ["feedback", "export", "--out", "/tmp/never-written.csv"], ["rollout", "status"]],
    ids=["report", "review-list", "feedback-export", "rollout-status"],
)
def test_no_stack_is_a_clear_error_with_the_fix(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FLAGS_FILE", str(tmp_path / "flags.json"))
    (tmp_path / "flags.json").write_text("{}")
    url = _closed_port()

    code = main([*argv, "--url", url])

    err = capsys.readouterr().err
    assert code == 1
    assert f"no stack answers at {url}: start the local one first (`make local`)" in err
    assert "HTTPConnectionPool" not in err
