"""A function's warm worker process: start it, invoke it with a deadline, restart it after a timeout."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from triage_local.functions import FunctionSpec
from triage_local.usage import NOTHING, ProcessUsage, process_usage

LogSink = Callable[[str, str], None]
STARTUP_TIMEOUT = 60.0


class InvocationError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class InvocationTimeout(InvocationError):
    pass


@dataclass(frozen=True)
class Invocation:
    result: Any
    # SQS message id -> "ExceptionType: message", for each record the function logged a failure of.
    record_failures: dict[str, str] = field(default_factory=dict)
    worker_pid: int | None = None  # the worker process that ran it


class FunctionProcess:
    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], log_sink: LogSink) -> None:
        self.spec = spec
        self._env = dict(environment)
        self._log_sink = log_sink
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._responses: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        self.invocations = 0
        self._retired = NOTHING  # what the processes this worker replaced (after a timeout) used

    @property
    def name(self) -> str:
        return self.spec.logical_id

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def usage(self) -> ProcessUsage:
        """CPU time and peak RSS of this worker's processes so far (its current one read from /proc)."""
        pid = self.pid
        current = process_usage(pid) if pid is not None else None
        return self._retired + (current or NOTHING)

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        cmd = [
            sys.executable,
            "-m",
            "triage_local.worker",
            self.spec.handler,
            str(self.spec.code_uri),
            str(write_fd),
        ]
        self._proc = subprocess.Popen(
            cmd, env=self._env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, pass_fds=(write_fd,), cwd=str(self.spec.code_uri),
        )  # fmt: skip
        os.close(write_fd)
        self._responses = queue.Queue()
        threading.Thread(target=self._read_responses, args=(read_fd,), daemon=True).start()
        threading.Thread(target=self._read_logs, args=(self._proc,), daemon=True).start()
        ready = self._wait(STARTUP_TIMEOUT)
        if ready is None:
            self.stop()
            raise InvocationError("InitTimeout", f"{self.name} did not start within {STARTUP_TIMEOUT:.0f}s")
        if ready.get("init_error"):
            err = ready["init_error"]
            self._log_sink(self.name, f"init error: {err['type']}: {err['message']}")

    def invoke(self, event: Any) -> Any:
        """The handler's return value (InvocationError when it raised, timed out or could not start)."""
        return self.run(event).result

    def run(self, event: Any) -> Invocation:
        """The handler's return value with the record failures it logged (see ``triage_local.worker``)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.start()
            assert self._proc is not None
            assert self._proc.stdin is not None
            pid = self._proc.pid
            self._next_id += 1
            self.invocations += 1
            deadline_ms = int((time.time() + self.spec.timeout) * 1000)
            request = {"id": self._next_id, "event": event, "deadline_ms": deadline_ms}
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
            except BrokenPipeError as exc:
                self.stop()
                raise InvocationError("Runtime.ExitError", f"{self.name} exited") from exc
            response = self._wait(self.spec.timeout + 1.0)
            if response is None:
                self.stop()  # as Lambda: a timed-out sandbox is thrown away
                raise InvocationTimeout("Task.TimedOut", f"{self.name} timed out after {self.spec.timeout}s")
        if not response.get("ok"):
            err = response.get("error") or {"type": "Unknown", "message": ""}
            raise InvocationError(err["type"], err["message"])
        return Invocation(response.get("result"), dict(response.get("record_failures") or {}), pid)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._retired += process_usage(proc.pid) or NOTHING  # read while it still exists
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _wait(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._responses.get(timeout=timeout)
        except queue.Empty:
            return None

    def _read_responses(self, fd: int) -> None:
        responses = self._responses
        with os.fdopen(fd, encoding="utf-8") as stream:
            for line in stream:
                responses.put(json.loads(line))

    def _read_logs(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._log_sink(self.name, line.rstrip("\n"))
