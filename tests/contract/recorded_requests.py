"""Every request the fake Slack, Zendesk and HubSpot answer while a `ContractWatch` is open, checked against
the vendors' contracts: Slack's Web API spec (`slack_spec.py`) and our Zendesk/HubSpot request schemas
(`vendor_requests.py`). The watch is a `Sandbox.observers` entry, so it sees every sandbox started in the
process, whoever started it and whenever (fixtures of any scope, `Sandboxes`, the local runner's fakes).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.contract.slack_spec import check_recorded
from tests.contract.vendor_requests import check_vendor_request
from triage_local.sandboxes.base import RecordedRequest, Sandbox

CHECKS: dict[str, Callable[[RecordedRequest], list[str]]] = {
    "slack": check_recorded,
    "zendesk": partial(check_vendor_request, "zendesk"),
    "hubspot": partial(check_vendor_request, "hubspot"),
}


def recorded_request(
    method: str, url: str, body: Any = None, *, content_type: str | None = "application/json", bearer: bool = True
) -> RecordedRequest:
    """A request as a sandbox records it (for checks that need no server): `url` is a path with its query;
    a `body` that is not bytes is sent as JSON."""
    parts = urlsplit(url)
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    headers = {"authorization": "Bearer xoxb-test"} if bearer else {}
    if content_type and raw:
        headers["content-type"] = content_type
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return RecordedRequest(method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, raw, parsed)


def describe(name: str, request: RecordedRequest) -> str:
    query = urlencode([(k, v) for k, values in request.query.items() for v in values])
    return f"{name} {request.method} {request.path}{'?' + query if query else ''} (answered {request.status})"


class ContractWatch:
    """Collects `(sandbox name, request)` for every answered request while open; `violations()` checks them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, RecordedRequest]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        Sandbox.observers.append(self.observe)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        Sandbox.observers.remove(self.observe)

    def observe(self, sandbox: Sandbox, request: RecordedRequest) -> None:
        """Keep one answered request of `sandbox` (the `Sandbox.observers` callback)."""
        with self._lock:
            self.seen.append((sandbox.name, request))

    @property
    def checked(self) -> int:
        """How many of the requests seen have a contract to be checked against (Slack, Zendesk, HubSpot)."""
        return sum(1 for name, _ in self.seen if name in CHECKS)

    def violations(self) -> list[str]:
        """`<sandbox> <METHOD> <path?query> (answered <status>): <problem>`, one per problem, in arrival order."""
        with self._lock:
            seen = list(self.seen)
        return _violations(seen)

    def take_violations(self) -> list[str]:
        """The violations so far, forgetting every request seen: for a test that sends invalid requests on
        purpose, to assert on what is reported without failing at teardown."""
        with self._lock:
            seen, self.seen = list(self.seen), []
        return _violations(seen)


def _violations(seen: list[tuple[str, RecordedRequest]]) -> list[str]:
    found = []
    for name, request in seen:
        check = CHECKS.get(name)
        for problem in check(request) if check is not None else []:
            found.append(f"{describe(name, request)}: {problem}")
    return found
