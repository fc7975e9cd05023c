"""The local runner's worker pools: N from the template, scale-out only when every worker is busy, never above N."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from tests.builders import ROOT
from triage_local.functions import FunctionSpec, function_specs
from triage_local.pool import LOCAL_CEILING, PoolStopped, WorkerPool, concurrency_of
from triage_local.process import Invocation, InvocationError
from triage_local.template import Template
from triage_local.usage import ProcessUsage, process_usage


def _specs(**overrides: str) -> dict[str, FunctionSpec]:
    template = Template.load(ROOT / "template.yaml", region="us-east-1", overrides=overrides)
    for queue in template.resources_of("AWS::SQS::Queue"):
        template.physical[queue] = {"Ref": f"http://q/{queue}", "QueueUrl": f"http://q/{queue}", "Arn": queue}
    return {spec.logical_id: spec for spec in function_specs(template)}


def test_concurrency_comes_from_the_templates_mappings_and_reservations() -> None:
    specs = _specs()

    assert {name: concurrency_of(spec) for name, spec in specs.items()} == {
        "IngestFunction": 2,  # no reservation (IngestReservedConcurrency 0): the local default
        "TriageFunction": 5,  # TriageMaxConcurrency
        "WritebackFunction": 2,  # WritebackMaxConcurrency
        "SlackActionsFunction": 2,
        "ReviewNotifyFunction": 2,  # its mapping's literal MaximumConcurrency
        "ReviewBacklogFunction": 2,
        "RoiDigestFunction": 2,
    }
    assert specs["TriageFunction"].sqs_sources[0].maximum_concurrency == 5


def test_parameters_reservations_and_the_override_change_it() -> None:
    specs = _specs(IngestReservedConcurrency="3", TriageMaxConcurrency="7")

    assert concurrency_of(specs["IngestFunction"]) == 3
    assert concurrency_of(specs["TriageFunction"]) == 7
    assert concurrency_of(specs["SlackActionsFunction"], default=4) == 4
    assert {concurrency_of(spec, override=1) for spec in specs.values()} == {1}


class FakeWorker:
    """A worker without a process: `run` blocks until the test releases it (or returns at once)."""

    pids = iter(range(1000, 2000))
    fail_start = False

    def __init__(self, spec: FunctionSpec, env: Any, log: Any, gate: threading.Event | None = None) -> None:
        self.spec, self.gate = spec, gate
        self.pid: int | None = None
        self.invocations = 0
        self.cpu = 0.0

    def start(self) -> None:
        if FakeWorker.fail_start:
            raise InvocationError("InitTimeout", "did not start")
        self.pid = next(FakeWorker.pids)

    def run(self, event: Any) -> Invocation:
        self.invocations += 1
        self.cpu += 0.5
        if self.gate is not None:
            assert self.gate.wait(5)
        return Invocation({"echo": event}, worker_pid=self.pid)

    def stop(self) -> None:
        self.pid = None

    def usage(self) -> ProcessUsage:
        return ProcessUsage(self.cpu, 100 + self.invocations)


@pytest.fixture
def spec() -> FunctionSpec:
    return FunctionSpec("EchoFunction", "app.handler", ROOT, [], timeout=3, memory=128, environment={})


def _pool(spec: FunctionSpec, concurrency: int, gate: threading.Event | None = None) -> tuple[WorkerPool, list[str]]:
    logged: list[str] = []
    FakeWorker.fail_start = False
    pool = WorkerPool(spec, {}, lambda _, line: logged.append(line), concurrency,
                      worker_factory=lambda s, e, log: FakeWorker(s, e, log, gate))  # type: ignore[arg-type,return-value]  # fmt: skip
    return pool, logged


def _at_once(pool: WorkerPool, count: int) -> tuple[list[threading.Thread], list[Invocation]]:
    results: list[Invocation] = []
    threads = [threading.Thread(target=lambda n=n: results.append(pool.run(n))) for n in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def _wait_until(predicate: Any) -> None:
    deadline = time.monotonic() + 5
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.01)


def test_invocations_one_after_another_reuse_one_warm_worker(spec: FunctionSpec) -> None:
    pool, _ = _pool(spec, concurrency=3)
    pool.start()

    pids = {pool.run(n).worker_pid for n in range(5)}

    assert len(pids) == 1
    assert pool.status()["started"] == 1
    assert pool.scale_outs == 0
    assert pool.invocations == 5


def test_invocations_at_once_scale_out_to_n_and_the_next_waits_for_a_free_worker(spec: FunctionSpec) -> None:
    gate = threading.Event()
    pool, logged = _pool(spec, concurrency=2, gate=gate)
    pool.start()

    threads, results = _at_once(pool, 3)
    _wait_until(lambda: pool.status()["busy"] == 2)
    time.sleep(0.1)

    assert pool.status() | {"pids": "-"} == {"max": 2, "started": 2, "busy": 2, "pids": "-", "scale_outs": 1}
    assert results == []  # the third waits: N workers are busy
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(results) == 3
    assert len({r.worker_pid for r in results}) == 2
    assert logged == ["worker 2 of 2 up in 0.0s"]


def test_prewarm_starts_up_to_n_workers_ahead_of_load(spec: FunctionSpec) -> None:
    pool, _ = _pool(spec, concurrency=3)

    pool.start(prewarm=5)

    assert pool.status()["started"] == 3
    assert len(pool.status()["pids"]) == 3
    assert pool.prewarm(3) == 0


def test_a_worker_that_cannot_start_gives_its_slot_back(spec: FunctionSpec) -> None:
    gate = threading.Event()
    pool, _ = _pool(spec, concurrency=2, gate=gate)
    pool.start()
    threads, _ = _at_once(pool, 1)
    _wait_until(lambda: pool.status()["busy"] == 1)

    FakeWorker.fail_start = True
    with pytest.raises(InvocationError, match="InitTimeout"):
        pool.run("second")  # the first worker is busy: a new one was needed and could not start
    FakeWorker.fail_start = False
    gate.set()
    threads[0].join(5)

    assert pool.run("third").result == {"echo": "third"}
    assert pool.status()["started"] == 1
    assert pool.prewarm(2) == 1  # the failed start did not use up the second slot


def test_a_stopped_pool_refuses_new_invocations(spec: FunctionSpec) -> None:
    pool, _ = _pool(spec, concurrency=2)
    pool.start()
    pool.stop()

    with pytest.raises(PoolStopped, match="EchoFunction is stopping"):
        pool.run("late")
    assert pool.status()["pids"] == []


def test_usage_sums_the_workers_cpu_and_keeps_the_largest_peak(spec: FunctionSpec) -> None:
    gate = threading.Event()
    pool, _ = _pool(spec, concurrency=2, gate=gate)
    pool.start()
    threads, _ = _at_once(pool, 2)
    _wait_until(lambda: pool.status()["busy"] == 2)
    gate.set()
    for thread in threads:
        thread.join(5)
    pool.run("again")

    assert pool.usage() == ProcessUsage(1.5, 102)


def test_concurrency_above_the_local_ceiling_is_capped_and_said(spec: FunctionSpec) -> None:
    pool, logged = _pool(spec, concurrency=1000)

    assert pool.concurrency == LOCAL_CEILING
    assert logged == [f"concurrency 1000 is capped at {LOCAL_CEILING} workers locally"]
    with pytest.raises(ValueError, match="at least 1"):
        _pool(spec, concurrency=0)


def test_process_usage_reads_cpu_and_peak_memory_from_proc() -> None:
    if not os.path.exists(f"/proc/{os.getpid()}/stat"):
        pytest.skip("no /proc on this system")
    sum(range(2_000_000))  # some CPU

    usage = process_usage(os.getpid())

    assert usage is not None
    assert usage.cpu_seconds > 0
    assert usage.peak_rss_kib > 10_000
    assert process_usage(2**22 + 12345) is None  # no such process


@pytest.mark.parametrize(
    ("value", "message"), [("0", "must be at least 1, got 0"), ("two", "must be a whole number, got 'two'")]
)
def test_triage_local_refuses_a_concurrency_below_one(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from triage_tools.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["local", "--concurrency", value])

    assert exited.value.code == 2
    assert f"argument --concurrency: {message}" in capsys.readouterr().err


def test_triage_local_help_documents_concurrency(capsys: pytest.CaptureFixture[str]) -> None:
    from triage_tools.cli import main

    with pytest.raises(SystemExit):
        main(["local", "--help"])

    assert "--concurrency N" in capsys.readouterr().out


def test_runner_config_refuses_a_concurrency_below_one() -> None:
    from triage_local.runner import RunnerConfig

    with pytest.raises(ValueError, match=r"RunnerConfig\.prewarm must be at least 1, got 0"):
        RunnerConfig(prewarm=0)


def test_a_worker_that_finishes_starting_after_stop_is_stopped_too(spec: FunctionSpec) -> None:
    pool, _ = _pool(spec, concurrency=2)
    pool.start()
    started = threading.Event()
    real_start = FakeWorker.start

    def slow_start(worker: FakeWorker) -> None:
        started.set()
        time.sleep(0.2)  # the pool stops meanwhile
        real_start(worker)

    errors: list[BaseException] = []
    FakeWorker.start = slow_start  # type: ignore[method-assign]
    try:
        thread = threading.Thread(target=lambda: errors.extend(_errors_of(lambda: pool.prewarm(2))))
        thread.start()
        assert started.wait(5)
        pool.stop()
        thread.join(5)
    finally:
        FakeWorker.start = real_start  # type: ignore[method-assign]

    assert [type(e) for e in errors] == [PoolStopped]
    assert pool.status()["started"] == 1  # the late one was stopped, not kept


def _errors_of(call: Any) -> list[BaseException]:
    try:
        call()
    except BaseException as exc:
        return [exc]
    return []
