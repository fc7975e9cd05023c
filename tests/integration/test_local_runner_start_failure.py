"""A runner that cannot start stops everything it started: no orphaned moto server, no hang."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from triage_local import process
from triage_local.runner import LocalRunner, RunnerConfig

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_function_that_cannot_start_stops_the_runner_and_its_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    real_start = process.FunctionProcess.start

    def start(self: process.FunctionProcess) -> None:
        if self.name == "EchoFunction":
            raise process.InvocationError("InitTimeout", "EchoFunction did not start within 30s")
        real_start(self)

    monkeypatch.setattr(process.FunctionProcess, "start", start)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
    runner = LocalRunner(RunnerConfig(template_path=FIXTURES / "echo_template.yaml", port=0, environ=environ),
                         log=io.StringIO())  # fmt: skip
    started = time.monotonic()

    with pytest.raises(process.InvocationError, match="InitTimeout"):
        runner.start()

    assert time.monotonic() - started < 60  # stop() did not wait on a gateway that never served
    assert runner._moto is None  # the embedded AWS was terminated, not orphaned
    workers = [w for pool in runner.functions.values() for w in pool.workers]
    assert workers  # the functions that did start had a worker ...
    assert all(w._proc is None for w in workers)  # ... and it was stopped
