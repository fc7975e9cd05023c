"""HTTP for a history pull: paced requests, 429s waited out, bounded retries, one clear error at the end.

A pull is long and unattended, so it is polite by default: requests to each rate-limited endpoint are
spaced client-side (Zendesk's incremental exports allow 10 a minute; HubSpot's CRM search 5 a second),
a 429 is waited out for its ``Retry-After`` (HubSpot may omit it: then an exponential back-off), and a
5xx or a dropped connection is retried a few times. When the retries are spent the pull stops with a
``PullError`` saying what happened; its state file lets the same command resume later.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests


class PullError(RuntimeError):
    """The vendor refused or kept failing: the pull stopped (the state file keeps what was done)."""


@dataclass(frozen=True)
class RetryPolicy:
    rate_limit_waits: int = 8  # consecutive 429s on one request before giving up
    transient_retries: int = 4  # consecutive 5xx / connection errors before giving up
    first_backoff: float = 2.0  # seconds; doubled on each retry without a Retry-After
    max_backoff: float = 120.0
    timeout: tuple[float, float] = (10.0, 120.0)  # connect, read (a page of 1,000 tickets is a few MB)


@dataclass
class Pacer:
    """At most one request per ``interval`` seconds for each named bucket (0: no pacing)."""

    intervals: Mapping[str, float]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: dict[str, float] = field(default_factory=dict)

    def wait(self, bucket: str) -> None:
        interval = self.intervals.get(bucket, 0.0)
        last = self._last.get(bucket)
        if interval > 0 and last is not None:
            remaining = last + interval - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self._last[bucket] = self.clock()


class VendorSession:
    """One vendor's authenticated session. ``sleep`` is injectable: tests record the waits instead."""

    def __init__(
        self,
        vendor: str,
        headers: Mapping[str, str],
        pacer: Pacer,
        *,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.vendor = vendor
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self.requests = 0
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", **headers})

    def get(self, url: str, *, bucket: str, params: Mapping[str, str] | None = None) -> Any:
        return self._call("GET", url, bucket, params=params)

    def post(self, url: str, body: Mapping[str, Any], *, bucket: str) -> Any:
        return self._call("POST", url, bucket, json=body)

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, url: str, bucket: str, **kwargs: Any) -> Any:
        waits = failures = 0
        while True:
            self.pacer.wait(bucket)
            self.requests += 1
            try:
                response = self._session.request(method, url, timeout=self.retry.timeout, **kwargs)
            except requests.RequestException as exc:
                failures = self._after_failure(f"{type(exc).__name__}: {exc}", url, failures + 1)
                continue
            if response.status_code in (200, 207):
                return self._json(response, url)
            if response.status_code == 429:
                waits = self._after_rate_limit(response, url, waits + 1)
            elif response.status_code >= 500:
                failures = self._after_failure(f"HTTP {response.status_code}", url, failures + 1)
            else:
                raise PullError(self._refusal(response, method, url))

    def _after_rate_limit(self, response: requests.Response, url: str, waits: int) -> int:
        if waits > self.retry.rate_limit_waits:
            raise PullError(
                f"{self.vendor} kept answering 429 (rate limited) on {_path(url)} after {waits - 1} waits; "
                "another integration may be using the same limit. Re-run the same command later to resume."
            )
        given = retry_after_seconds(response.headers.get("Retry-After"))
        self.pacer.sleep(given if given is not None else self._backoff(waits))
        return waits

    def _after_failure(self, what: str, url: str, failures: int) -> int:
        if failures > self.retry.transient_retries:
            raise PullError(
                f"{self.vendor} failed {failures} times in a row on {_path(url)} ({what}). "
                "Re-run the same command to resume from the last page saved."
            )
        self.pacer.sleep(self._backoff(failures))
        return failures

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry.first_backoff * 2 ** (attempt - 1), self.retry.max_backoff))

    def _json(self, response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise PullError(f"{self.vendor} answered {_path(url)} with something that is not JSON") from exc

    def _refusal(self, response: requests.Response, method: str, url: str) -> str:
        status = response.status_code
        detail = response.text[:300].strip()
        if status in (401, 403):
            return (
                f"{self.vendor} refused the credentials ({status}) on {method} {_path(url)}: check the token, "
                f"its scopes/role (Zendesk incremental exports need an admin) and the base URL. {detail}"
            )
        return f"{self.vendor} refused {method} {_path(url)} with {status}: {detail}"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(math.ceil(moment.timestamp() - time.time()), 0)


def _path(url: str) -> str:
    return urlsplit(url).path
