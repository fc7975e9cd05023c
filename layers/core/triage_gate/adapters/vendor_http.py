"""HTTP to Zendesk and HubSpot on urllib3 (and, through ``HttpClient``, Claude's API): explicit timeouts, bounded
retries, deadline-aware 429s.

urllib3, not requests: botocore already loads it (the runtime brings both), so vendor calls add nothing to
a cold start; requests cost ~23 ms of import on top of it for a Session we use as a thin wrapper.

429: wait for Retry-After only if it fits before the deadline; otherwise RateLimited tells the caller
to put the message back for that long. 5xx/timeouts: a few quick retries, then TransientVendorError
(the queue redelivers, then the DLQ alarms). Other 4xx: PermanentVendorError, never retried.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from json import dumps, loads
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError

from triage_gate.adapters.tls import needs_tls, verified_context
from triage_gate.errors import PermanentVendorError, RateLimited, TransientVendorError

MAX_TRANSIENT_RETRIES = 2
MAX_RATE_LIMIT_WAITS = 3
DEFAULT_RETRY_AFTER = 10.0
SAFETY_MARGIN = 1.0
CONNECT_TIMEOUT = 1.0
MAX_READ_TIMEOUT = 5.0


class VendorResponse:
    """What callers read of an answer: the status, the headers (case-insensitive), the body as text or JSON."""

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON raises ValueError (json.JSONDecodeError)."""
        return loads(self.content)


class HttpClient:
    """One pooled urllib3 client per adapter: no automatic retries or redirects (the callers decide).
    ``pool_size`` connections are kept per host (more callers at once open more, and close them after)."""

    def __init__(self, *, pool_size: int = 1) -> None:
        self._pool: urllib3.PoolManager | None = None
        self._pool_size = pool_size

    def send(
        self,
        method: str,
        url: str,
        *,
        timeout: tuple[float, float],
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> VendorResponse:
        """One request. ``auth`` is HTTP Basic (user, password); ``json`` is sent as the JSON body, as
        ``application/json`` unless ``headers`` name another Content-Type. Raises urllib3's HTTPError subclasses
        when no answer came (ConnectTimeoutError: never sent)."""
        if self._pool is None:
            self._pool = urllib3.PoolManager(retries=False, maxsize=self._pool_size)
        if needs_tls(url) and "ssl_context" not in self._pool.connection_pool_kw:
            # The process's one CA bundle load (tls.py), not one per new connection.
            self._pool.connection_pool_kw["ssl_context"] = verified_context()
        sent_headers = dict(headers or {})
        body = None
        if json is not None:
            body = dumps(json).encode()
            if not any(name.lower() == "content-type" for name in sent_headers):
                sent_headers["Content-Type"] = "application/json"
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent_headers["Authorization"] = f"Basic {token}"
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        response = self._pool.request(
            method, url, body=body, headers=sent_headers, redirect=False,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
        )  # fmt: skip
        return VendorResponse(response.status, response.headers, response.data)


class VendorHttp:
    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self._client = HttpClient()

    def request(
        self,
        method: str,
        url: str,
        deadline: float,
        *,
        ok: tuple[int, ...] = (200, 201),
        repeatable: bool = True,
        **kwargs: Any,
    ) -> VendorResponse:
        """``repeatable=False`` for writes that are not idempotent (a note): after an answer we did not
        get (read timeout) or a 5xx the vendor may have done it, so the caller must look before resending."""
        transient = waits = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= SAFETY_MARGIN:
                raise TransientVendorError(f"{self.vendor}: no time left for {method} {_path(url)}")
            try:
                response = self._client.send(
                    method, url, timeout=(CONNECT_TIMEOUT, min(MAX_READ_TIMEOUT, remaining)), **kwargs
                )
            except HTTPError as exc:
                transient = self._retry_unanswered(exc, url, transient + 1, repeatable)
                continue
            status = response.status_code
            if status in ok:
                return response
            if status == 429:
                waits = self._wait_out_rate_limit(response, url, deadline, waits + 1)
            elif status in (401, 403):
                raise self._credentials_error(response, url)
            elif status >= 500:
                transient = self._retry_server_error(response, url, transient + 1, repeatable)
            else:
                raise self._refused(response, method, url)

    def _retry_unanswered(self, exc: HTTPError, url: str, transient: int, repeatable: bool) -> int:
        """No answer (connection refused or timed out, read timeout, reset): sleep before attempt `transient` + 1,
        or raise TransientVendorError when retries are spent or a request that may have arrived is not repeatable.
        Only a connection that never opened (ConnectTimeoutError, NewConnectionError and NameResolutionError are
        its subclasses) proves the request was not sent."""
        sent = not isinstance(exc, ConnectTimeoutError)
        if transient > MAX_TRANSIENT_RETRIES or (sent and not repeatable):
            raise TransientVendorError(f"{self.vendor}: {type(exc).__name__} on {_path(url)}") from exc
        time.sleep(0.2 * transient)
        return transient

    def _wait_out_rate_limit(self, response: VendorResponse, url: str, deadline: float, waits: int) -> int:
        """429: sleep Retry-After (wait number `waits`) if it fits before the deadline, else raise RateLimited."""
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if waits > MAX_RATE_LIMIT_WAITS or retry_after + SAFETY_MARGIN >= deadline - time.monotonic():
            raise RateLimited(f"{self.vendor}: 429 on {_path(url)}", retry_after=retry_after)
        time.sleep(retry_after)
        return waits

    def _credentials_error(self, response: VendorResponse, url: str) -> TransientVendorError:
        """401/403. Credentials are configuration: retried through the queue, then the DLQ alarm — not dropped."""
        return TransientVendorError(
            f"{self.vendor}: {response.status_code} on {_path(url)} (check the API credentials)",
            status=response.status_code,
        )

    def _retry_server_error(self, response: VendorResponse, url: str, transient: int, repeatable: bool) -> int:
        """5xx: sleep before attempt `transient` + 1, or raise TransientVendorError when retries are spent or
        the request is not repeatable (the vendor may have done it)."""
        if transient > MAX_TRANSIENT_RETRIES or not repeatable:
            raise TransientVendorError(
                f"{self.vendor}: {response.status_code} on {_path(url)}", status=response.status_code
            )
        time.sleep(0.2 * transient)
        return transient

    def _refused(self, response: VendorResponse, method: str, url: str) -> PermanentVendorError:
        """Any other answer (another 4xx, or a status neither `ok` nor an error): permanent, never retried."""
        return PermanentVendorError(
            f"{self.vendor}: {method} {_path(url)} answered {response.status_code}: {response.text[:300]}",
            status=response.status_code,
        )


def segment(value: str) -> str:
    """One URL path segment: whatever an id holds, it cannot reach another path."""
    return quote(str(value), safe="")


def _retry_after(value: str | None) -> float:
    seconds = retry_after_seconds(value)
    return DEFAULT_RETRY_AFTER if seconds is None else seconds


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds or as an HTTP date (a date in the past is 0); None if absent or bad."""
    seconds = finite_number(value)
    if seconds is None and value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return None if seconds is None else max(0.0, seconds)


def finite_number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
