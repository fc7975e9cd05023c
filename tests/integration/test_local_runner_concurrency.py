"""The local runner scales like Lambda: invocations of one function really overlap, on separate warm workers.

The echo fixture's functions have no reserved concurrency and no ScalingConfig: the local default, 2 workers
each, both started before serving (``prewarm=2``) so the timings below hold no cold start.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from triage_local.runner import LocalRunner, RunnerConfig

FIXTURES = Path(__file__).parent / "fixtures"
SLEEP = 0.8  # seconds each request sleeps in the handler


@pytest.fixture(scope="module")
def runner() -> Iterator[LocalRunner]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
    config = RunnerConfig(template_path=FIXTURES / "echo_template.yaml", port=0, environ=environ, prewarm=2,
                          retry_delay_seconds=0)  # fmt: skip
    with LocalRunner(config, log=io.StringIO()) as running:
        yield running


def _at_once(runner: LocalRunner, count: int) -> tuple[float, list[requests.Response]]:
    """``count`` slow echo requests released together; the wall time until the last answered, and the answers."""
    start = threading.Barrier(count)
    answers: list[requests.Response] = []

    def post(n: int) -> None:
        start.wait()
        answers.append(requests.post(f"{runner.base_url}/echo/r{n}?sleep={SLEEP}", data=b"{}", timeout=30))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(count)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return time.monotonic() - began, answers


def test_healthz_shows_each_functions_workers(runner: LocalRunner) -> None:
    health = requests.get(f"{runner.base_url}/healthz", timeout=5).json()

    echo = health["functions"]["EchoFunction"]["workers"]
    assert (echo["max"], echo["started"], echo["busy"], len(set(echo["pids"]))) == (2, 2, 0, 2)
    assert health["functions"]["ConsumerFunction"]["workers"]["max"] == 2


def test_two_requests_at_once_overlap_on_two_workers(runner: LocalRunner) -> None:
    elapsed, answers = _at_once(runner, 2)

    bodies = [json.loads(a.text) for a in answers]
    assert [a.status_code for a in answers] == [201, 201]
    assert len({b["pid"] for b in bodies}) == 2  # two worker processes
    assert {int(a.headers["X-Local-Worker-Pid"]) for a in answers} == {b["pid"] for b in bodies}
    assert max(b["started"] for b in bodies) < min(b["finished"] for b in bodies)  # both in the handler at once
    assert elapsed < SLEEP * 1.75  # about one sleep, not two


def test_a_request_beyond_the_functions_concurrency_waits_for_a_free_worker(runner: LocalRunner) -> None:
    scale_outs = runner.functions["EchoFunction"].scale_outs

    elapsed, answers = _at_once(runner, 3)

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({json.loads(a.text)["pid"] for a in answers}) == 2  # never a third worker
    assert elapsed >= SLEEP * 2  # the third ran after one of the first two
    assert runner.functions["EchoFunction"].scale_outs == scale_outs  # both were warm already


def test_queue_batches_fan_out_to_free_workers_at_once(runner: LocalRunner) -> None:
    sqs = runner.session.client("sqs")
    entries = [{"Id": str(n), "MessageBody": json.dumps({"fan": n, "sleep": 0.3})} for n in range(10)]
    sqs.send_message_batch(QueueUrl=runner.physical_id("WorkQueue"), Entries=entries)

    seen = _wait_for_fan_records(runner, 10)

    batches: dict[str, list[dict[str, Any]]] = {}
    for item in seen:  # one batch per (worker, start time)
        batches.setdefault(f"{item['pid']}@{item['batch_started']}", []).append(item)
    spans = [(float(b[0]["batch_started"]), max(float(i["written"]) for i in b), b[0]["pid"]) for b in batches.values()]
    overlapping = [(a, b) for a in spans for b in spans if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]]
    assert overlapping, f"no two batches ran at once: {sorted(spans)}"
    [poller] = [p for p in runner.pollers if p.source.queue == "WorkQueue"]
    assert poller.peak_in_flight == 2 == poller.max_in_flight


def _wait_for_fan_records(runner: LocalRunner, count: int) -> list[dict[str, str]]:
    ddb = runner.session.client("dynamodb")
    deadline = time.monotonic() + 30
    while True:
        items = ddb.scan(TableName=runner.physical_id("SeenTable"), ConsistentRead=True)["Items"]
        seen = [{k: next(iter(v.values())) for k, v in item.items()} for item in items]
        fan = [s for s in seen if "fan" in json.loads(s["body"])]
        if len(fan) >= count:
            return fan
        assert time.monotonic() < deadline, f"only {len(fan)} of {count} records were consumed"
        time.sleep(0.2)
