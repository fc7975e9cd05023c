"""The template's HttpApi routes on a local port, as API Gateway HTTP API payload v2 events.

Each request is served on its own thread and invokes its function's pool (``triage_local.pool``): requests at
once run on separate workers, up to the function's concurrency; beyond it they wait for a free worker.
Responses go out with TCP_NODELAY: on a keep-alive connection the headers and the body are two sends, and
without it the second waits for the client's delayed ACK (~40 ms a request on Linux).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from triage_local.functions import HttpRoute
from triage_local.pool import WorkerPool
from triage_local.process import InvocationError, InvocationTimeout

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API quota
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
Route = tuple[HttpRoute, WorkerPool]


def apigw_v2_event(
    route: HttpRoute, method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes,
    path_params: dict[str, str], source_ip: str,
) -> dict[str, Any]:  # fmt: skip
    now = datetime.now(UTC)
    host = headers.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        pairs = (p.partition("=") for p in query.split("&") if p)
        event["queryStringParameters"] = {key: value for key, _, value in pairs}
    if path_params:
        event["pathParameters"] = path_params
    if body:
        content_type = headers.get("content-type", "").lower()
        textual = content_type.startswith(_TEXT_TYPES) or "+json" in content_type
        try:
            text = body.decode("utf-8") if textual else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            event["body"] = text
    return event


class Gateway:
    def __init__(self, host: str, port: int, health: Callable[[], dict[str, Any]]) -> None:
        self.routes: list[Route] = []
        self._health = health
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def add_route(self, route: HttpRoute, function: WorkerPool) -> None:
        self.routes.append((route, function))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # TCP_NODELAY: the body does not wait for the delayed ACK

            def do_GET(self) -> None:
                gateway.handle(self)

            def do_POST(self) -> None:
                gateway.handle(self)

            def do_PUT(self) -> None:
                gateway.handle(self)

            def do_DELETE(self) -> None:
                gateway.handle(self)

            def do_PATCH(self) -> None:
                gateway.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        if request.command == "GET" and url.path == "/healthz":
            _reply(request, 200, json.dumps(self._health()).encode(), {"Content-Type": "application/json"})
            return
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            _reply(request, 413, b'{"message":"Request Entity Too Large"}', {"Content-Type": "application/json"})
            request.close_connection = True
            return
        body = request.rfile.read(length) if length else b""
        for route, function in self.routes:
            params = route.match(request.command, url.path)
            if params is None:
                continue
            headers: dict[str, str] = {}
            for key, value in request.headers.items():
                key = key.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            headers.setdefault("x-forwarded-proto", "http")
            headers.setdefault("x-forwarded-for", request.client_address[0])
            event = apigw_v2_event(
                route, request.command, url.path, url.query, headers, body, params, request.client_address[0]
            )
            status, payload, out_headers = _invoke(function, event)
            _reply(request, status, payload, out_headers)
            return
        _reply(request, 404, b'{"message":"Not Found"}', {"Content-Type": "application/json"})


def _invoke(function: WorkerPool, event: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    started = time.monotonic()
    try:
        invocation = function.run(event)
    except InvocationTimeout:
        return 503, b'{"message":"Service Unavailable"}', {"Content-Type": "application/json"}
    except InvocationError:
        return 500, b'{"message":"Internal Server Error"}', {"Content-Type": "application/json"}
    result = invocation.result
    headers = {"X-Local-Latency-Ms": f"{(time.monotonic() - started) * 1000:.1f}"}
    if invocation.worker_pid is not None:
        headers["X-Local-Worker-Pid"] = str(invocation.worker_pid)  # which worker ran it (local only)
    if not isinstance(result, dict) or "statusCode" not in result:
        # HTTP API payload v2: a bare JSON value becomes a 200 application/json response.
        return 200, json.dumps(result).encode(), {"Content-Type": "application/json", **headers}
    headers.update({str(k): str(v) for k, v in (result.get("headers") or {}).items()})
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return int(result["statusCode"]), payload, headers


def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    request.send_response(status)
    for key, value in headers.items():
        request.send_header(key, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
