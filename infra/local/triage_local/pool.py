"""A function's execution environments: up to N warm worker processes, scaled out as load needs, as Lambda does.

Each worker is its own process with its own warm state (imports, clients, caches), so two invocations of one
function really run at once, and races between them (dedupe claims, double clicks, write-back leases) can
happen here as they do in AWS. An invocation takes a free warm worker; when every started worker is busy and
fewer than N exist, a new one starts for it (a cold start, as Lambda's scale-out); at N, it waits for one to
be free. ``prewarm`` starts workers ahead of load, like provisioned concurrency.

N comes from the template (``concurrency_of``): the function's ``ReservedConcurrentExecutions`` when it is
above 0, else the largest ``ScalingConfig.MaximumConcurrency`` of its SQS event source mappings, else a small
local default; an override replaces all of them (``triage local --concurrency N``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from triage_local.functions import FunctionSpec
from triage_local.process import FunctionProcess, Invocation, InvocationError, LogSink
from triage_local.usage import NOTHING, ProcessUsage

DEFAULT_CONCURRENCY = 2
# A template may allow 1,000 concurrent instances; one machine runs at most this many workers per function.
LOCAL_CEILING = 32
WorkerFactory = Callable[[FunctionSpec, Mapping[str, str], LogSink], FunctionProcess]


def concurrency_of(spec: FunctionSpec, default: int = DEFAULT_CONCURRENCY, override: int | None = None) -> int:
    """How many workers the function may run at once (before the local ceiling)."""
    if override is not None:
        return override
    if spec.reserved_concurrency:
        return spec.reserved_concurrency
    mapped = [source.maximum_concurrency for source in spec.sqs_sources if source.maximum_concurrency]
    return max(mapped) if mapped else default


class PoolStopped(InvocationError):
    def __init__(self, name: str) -> None:
        super().__init__("Runtime.Stopped", f"{name} is stopping: no new invocations")


class WorkerPool:
    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        log_sink: LogSink,
        concurrency: int,
        worker_factory: WorkerFactory = FunctionProcess,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"{spec.logical_id}: concurrency must be at least 1, got {concurrency}")
        self.spec = spec
        self.concurrency = min(concurrency, LOCAL_CEILING)
        self._env = dict(environment)
        self._log_sink = log_sink
        self._factory = worker_factory
        self._changed = threading.Condition()
        self._workers: list[FunctionProcess] = []  # started, in start order
        self._idle: list[FunctionProcess] = []  # the most recently freed last: reused first, as Lambda tends to
        self._starting = 0
        self._stopped = False
        self.scale_outs = 0  # workers started because every started one was busy
        self.busy_seconds = 0.0  # wall time the workers spent in invocations, summed
        if concurrency > LOCAL_CEILING:
            log_sink(self.name, f"concurrency {concurrency} is capped at {LOCAL_CEILING} workers locally")

    @property
    def name(self) -> str:
        return self.spec.logical_id

    @property
    def invocations(self) -> int:
        return sum(worker.invocations for worker in self.workers)

    @property
    def workers(self) -> list[FunctionProcess]:
        with self._changed:
            return list(self._workers)

    # ------------------------------------------------------------------ lifecycle
    def start(self, prewarm: int = 1) -> None:
        """Start ``prewarm`` workers (at least one, at most N) at once; InvocationError if one cannot start."""
        self.prewarm(max(1, prewarm))

    def prewarm(self, count: int) -> int:
        """Start workers until ``count`` (at most N) are started; the number started now."""
        with self._changed:
            missing = min(count, self.concurrency) - len(self._workers) - self._starting
            if self._stopped or missing <= 0:
                return 0
            self._starting += missing
        errors: list[BaseException] = []
        threads = [threading.Thread(target=self._start_idle_worker, args=(errors,)) for _ in range(missing)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return missing

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            workers = list(self._workers)
            self._changed.notify_all()
        for worker in workers:
            worker.stop()

    # ------------------------------------------------------------------ invoking
    def invoke(self, event: Any) -> Any:
        """The handler's return value (InvocationError when it raised, timed out or could not start)."""
        return self.run(event).result

    def run(self, event: Any) -> Invocation:
        """Run the event on a free worker (starting one when all are busy and fewer than N exist)."""
        worker = self._acquire()
        started = time.monotonic()
        try:
            return worker.run(event)
        finally:
            with self._changed:
                self.busy_seconds += time.monotonic() - started
                self._idle.append(worker)
                self._changed.notify()

    def _acquire(self) -> FunctionProcess:
        with self._changed:
            while True:
                if self._stopped:
                    raise PoolStopped(self.name)
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) + self._starting < self.concurrency:
                    self._starting += 1
                    self.scale_outs += 1
                    break
                self._changed.wait()
        return self._started_worker()

    def _start_idle_worker(self, errors: list[BaseException]) -> None:
        try:
            worker = self._started_worker()
        except BaseException as exc:
            errors.append(exc)
            return
        with self._changed:
            self._idle.append(worker)
            self._changed.notify()

    def _started_worker(self) -> FunctionProcess:
        """A new worker, started (one ``_starting`` slot was reserved for it), counted among the workers."""
        worker = self._factory(self.spec, self._env, self._log_sink)
        started = time.monotonic()
        try:
            worker.start()
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            stopped = self._stopped
            if not stopped:
                self._workers.append(worker)
            count = len(self._workers)
        if stopped:  # the pool stopped while this one started: it must not outlive the pool
            worker.stop()
            raise PoolStopped(self.name)
        if count > 1:
            self._log_sink(self.name, f"worker {count} of {self.concurrency} up in {time.monotonic() - started:.1f}s")
        return worker

    # ------------------------------------------------------------------ facts
    def status(self) -> dict[str, Any]:
        """For /healthz: N, the workers started and busy now, their pids, and the scale-outs so far."""
        with self._changed:
            workers, idle = list(self._workers), len(self._idle)
        return {
            "max": self.concurrency,
            "started": len(workers),
            "busy": len(workers) - idle,
            "pids": [pid for pid in (worker.pid for worker in workers) if pid is not None],
            "scale_outs": self.scale_outs,
        }

    def usage(self) -> ProcessUsage:
        """The CPU time of every worker so far, summed, and the largest worker's peak RSS."""
        total = NOTHING
        for worker in self.workers:
            total += worker.usage()
        return total
