"""A failed record's reason reaches the function's log in the local runner: its message id and why it failed.

Three consumers fail records the three ways a function can (tests/integration/fixtures/failing_template.yaml):
through the runtime's batch helper (reported in batchItemFailures, the exception logged with the message
id), by raising for the whole batch, and by reporting failures without saying why.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

from triage_local.poller import NO_REASON
from triage_local.runner import LocalRunner, RunnerConfig

FIXTURES = Path(__file__).parent / "fixtures"


def _failure_lines(log: str, function: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(f"[{function}] record ") and " failed on " in line]


def test_each_failed_records_id_and_reason_reach_the_function_log():
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
    log = io.StringIO()
    config = RunnerConfig(
        template_path=FIXTURES / "failing_template.yaml", port=0, environ=environ, retry_delay_seconds=0
    )
    with LocalRunner(config, log=log) as runner:
        sqs = runner.session.client("sqs")

        def send(queue: str, body: dict[str, object]) -> str:
            sent = sqs.send_message(QueueUrl=runner.physical_id(queue), MessageBody=json.dumps(body))
            return str(sent["MessageId"])

        good = send("PartialQueue", {"order": 6})
        rejected = send("PartialQueue", {"order": 7, "fail": True})
        crashed = send("CrashQueue", {"order": 8})
        silent = send("SilentQueue", {"order": 9})
        deadline = time.monotonic() + 40
        while runner.queue_depths()["FailedDlq"]["visible"] < 3:  # maxReceiveCount 1: one failure each
            assert time.monotonic() < deadline, f"failed records did not reach the DLQ: {runner.queue_depths()}"
            time.sleep(0.2)
    text = log.getvalue()

    partial = _failure_lines(text, "PartialConsumer")
    assert len(partial) == 1, text
    assert rejected in partial[0]
    assert good not in partial[0]
    assert "from PartialQueue failed on receive 1" in partial[0]
    assert partial[0].endswith(": RecordRejected: order 7 has no customer")

    crashing = _failure_lines(text, "CrashingConsumer")
    assert len(crashing) == 1, text
    assert crashed in crashing[0]
    assert crashing[0].endswith(": RuntimeError: the downstream table is gone")

    quiet = _failure_lines(text, "SilentConsumer")
    assert len(quiet) == 1, text
    assert silent in quiet[0]
    assert quiet[0].endswith(f": {NO_REASON}")
