"""What every fake vendor server shares: a loopback HTTP server, a request journal, injected faults.

A sandbox is a `ThreadingHTTPServer` on 127.0.0.1 (port 0: any free port) serving from a daemon thread.
Every request is recorded before anything else happens, so a test can assert on what reached the
"vendor" even when the vendor refused it. Faults queued with `fail_next`/`hang_next` are served before
the vendor logic runs, in the order they were queued. `Sandbox.observers` are told of every answered
request of every sandbox (the tests' vendor-contract checks); `refuse_malformed` answers, as the vendor
would, a request whose shape the vendor rejects (`request_shapes.py`).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
log = logging.getLogger("triage_local.sandboxes")


@dataclass
class RecordedRequest:
    """One request as the sandbox received it; `status` is what the sandbox answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ","
    body: bytes
    json: Any = None  # the parsed body, or None when it is empty or not JSON
    at: float = field(default_factory=time.time)
    status: int | None = None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """A response: `body` is JSON-encoded unless it is bytes/str (sent as is) or None (empty)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.body is None:
            return b"", headers
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        headers.setdefault("Content-Type", JSON_TYPE)
        return json.dumps(self.body).encode(), headers


@dataclass(frozen=True)
class _Fault:
    status: int | None = None  # None: hang only
    headers: dict[str, str] | None = None
    body: Any = None
    hang: float = 0.0


class RateWindow:
    """A sliding-window request counter: at most `limit` hits per `seconds`."""

    def __init__(self, limit: int | None, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: deque[float] = deque()

    def hit(self) -> float | None:
        """Count one request; over the limit, return the seconds until one is allowed (not counted)."""
        now = time.monotonic()
        while self._hits and self._hits[0] <= now - self.seconds:
            self._hits.popleft()
        if self.limit is not None and len(self._hits) >= self.limit:
            return max(self._hits[0] + self.seconds - now, 0.001)
        self._hits.append(now)
        return None

    @property
    def remaining(self) -> int:
        return max((self.limit or 0) - len(self._hits), 0)

    def reset_in(self) -> int:
        """Whole seconds until the oldest counted hit leaves the window."""
        if not self._hits:
            return math.ceil(self.seconds)
        return max(math.ceil(self._hits[0] + self.seconds - time.monotonic()), 1)

    def reset(self) -> None:
        self._hits.clear()


class Sandbox:
    """Base class: subclasses implement `handle` (and may override `error_body` for injected faults)."""

    name = "sandbox"
    # Called with (sandbox, request) once each request of any sandbox is answered; must not raise.
    observers: ClassVar[list[Callable[[Sandbox, RecordedRequest], None]]] = []

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._journal: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self.lock = threading.RLock()  # guards the journal, the faults and the subclass's state

    # lifecycle -----------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ThreadingHTTPServer(self._address, self._handler_class())
        self._server.daemon_threads = True
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # quick stop()
        self._thread = threading.Thread(target=serve, name=f"{self.name}-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a hang
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # journal and faults --------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self.lock:
            return list(self._journal)

    def clear_requests(self) -> None:
        with self.lock:
            self._journal.clear()

    def fail_next(
        self, status: int, *, headers: dict[str, str] | None = None, body: Any = None, times: int = 1
    ) -> None:
        """Answer the next `times` requests with `status` (body: the vendor's error shape unless given)."""
        with self.lock:
            self._faults.extend(_Fault(status=status, headers=headers, body=body) for _ in range(times))

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Sleep `seconds` before handling each of the next `times` requests (client timeouts)."""
        with self.lock:
            self._faults.extend(_Fault(hang=seconds) for _ in range(times))

    def sleep(self, seconds: float) -> None:
        """Sleep in a handler; returns early when the sandbox stops."""
        self._stopping.wait(seconds)

    # for subclasses ------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The body an injected `fail_next(status)` answers with."""
        return {"error": f"injected failure {status}"}

    def refuse_malformed(self, request: RecordedRequest) -> Reply | None:
        """The vendor's answer to a request whose shape it rejects (a subclass calls it after auth, before
        routing), or None. The shapes are per sandbox name, in `request_shapes.py`."""
        from triage_local.sandboxes.request_shapes import refusal  # it imports the vendors' modules, which import this

        return refusal(self.name, request)

    # plumbing ------------------------------------------------------------------------------------
    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self.lock:
            self._journal.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.hang:
            self.sleep(fault.hang)
        if fault is not None and fault.status is not None:
            body = fault.body if fault.body is not None else self.error_body(fault.status)
            reply = Reply(fault.status, body, dict(fault.headers or {}))
        else:
            try:
                reply = self.handle(request)
            except Exception as exc:  # a bug in the fake must show up as a 500, not a dropped connection
                log.exception("%s sandbox failed on %s %s", self.name, request.method, request.path)
                reply = Reply(500, {"error": "sandbox_bug", "message": repr(exc)})
        request.status = reply.status
        for observe in tuple(Sandbox.observers):
            observe(self, request)
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30  # idle keep-alive connections give their thread back
            # TCP_NODELAY: headers and body are two sends; on a keep-alive connection the body would otherwise
            # wait for the client's delayed ACK (~40 ms a request).
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                url = urlsplit(self.path)
                body = _read_body(self)
                headers: dict[str, str] = {}
                for key, value in self.headers.items():
                    key = key.lower()
                    headers[key] = f"{headers[key]},{value}" if key in headers else value
                request = RecordedRequest(
                    method=self.command,
                    path=url.path,
                    query=parse_qs(url.query, keep_blank_values=True),
                    headers=headers,
                    body=body,
                    json=_parse_json(body),
                )
                payload, out = sandbox._dispatch(request).encoded()
                try:
                    self.send_response(request.status or 500)
                    for key, value in out.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (e.g. its timeout after a hang)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_json_content(request: RecordedRequest) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
