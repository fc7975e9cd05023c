"""The pull's HTTP: client-side pacing, 429 waited out (Retry-After, or back-off), bounded retries, clear errors."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
import requests

from triage_tools.history.transport import Pacer, PullError, RetryPolicy, VendorSession, retry_after_seconds


class Clock:
    """A fake monotonic clock; ``sleep`` records the wait and advances the time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class ScriptedSession(requests.Session):
    """Answers from a script: (status, headers, JSON body) or an exception to raise."""

    def __init__(self, *answers: tuple[int, dict[str, str], Any] | Exception) -> None:
        super().__init__()
        self.answers = deque(answers)
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((str(method), str(url)))
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = requests.compat.json.dumps(body).encode()  # type: ignore[attr-defined]
        return response


OK = (200, {}, {"tickets": []})


def session(clock: Clock, *answers: tuple[int, dict[str, str], Any] | Exception, pace: float = 0.0,
            retry: RetryPolicy | None = None) -> tuple[VendorSession, ScriptedSession]:  # fmt: skip
    scripted = ScriptedSession(*answers)
    pacer = Pacer({"export": pace}, clock=clock, sleep=clock.sleep)
    return VendorSession("zendesk", {"Authorization": "Basic x"}, pacer, retry=retry, session=scripted), scripted


def test_429_waits_for_retry_after_then_succeeds() -> None:
    clock = Clock()
    vendor, scripted = session(clock, (429, {"Retry-After": "7"}, {}), OK)

    assert vendor.get("https://zd.test/api/v2/incremental/tickets/cursor.json", bucket="export") == {"tickets": []}
    assert clock.sleeps == [7.0]
    assert len(scripted.calls) == 2


def test_429_without_retry_after_backs_off_exponentially() -> None:
    clock = Clock()
    vendor, _ = session(clock, (429, {}, {}), (429, {}, {}), (429, {}, {}), OK)

    vendor.post("https://hs.test/crm/v3/objects/tickets/search", {}, bucket="export")

    assert clock.sleeps == [2.0, 4.0, 8.0]


def test_endless_429s_stop_with_a_clear_error_after_the_bounded_waits() -> None:
    clock = Clock()
    vendor, scripted = session(clock, *[(429, {"Retry-After": "60"}, {})] * 4, retry=RetryPolicy(rate_limit_waits=3))

    with pytest.raises(PullError, match=r"kept answering 429.*after 3 waits.*Re-run the same command"):
        vendor.get("https://zd.test/api/v2/incremental/tickets/cursor.json", bucket="export")
    assert clock.sleeps == [60.0, 60.0, 60.0]
    assert len(scripted.calls) == 4


def test_server_errors_and_dropped_connections_are_retried_a_few_times() -> None:
    clock = Clock()
    vendor, _ = session(clock, (503, {}, {}), requests.ConnectionError("reset"), OK)

    assert vendor.get("https://zd.test/x", bucket="export") == {"tickets": []}
    assert clock.sleeps == [2.0, 4.0]


def test_persistent_server_errors_end_the_pull_naming_the_endpoint() -> None:
    clock = Clock()
    vendor, _ = session(clock, *[(500, {}, {})] * 3, retry=RetryPolicy(transient_retries=2))

    with pytest.raises(PullError, match=r"failed 3 times in a row on /api/v2/incremental/tickets/cursor.json"):
        vendor.get("https://zd.test/api/v2/incremental/tickets/cursor.json?cursor=abc", bucket="export")


def test_refused_credentials_are_not_retried() -> None:
    clock = Clock()
    vendor, scripted = session(clock, (401, {}, {"error": "Couldn't authenticate you"}))

    with pytest.raises(PullError, match=r"refused the credentials \(401\)"):
        vendor.get("https://zd.test/x", bucket="export")
    assert len(scripted.calls) == 1
    assert clock.sleeps == []


def test_requests_to_a_paced_bucket_are_spaced_by_its_interval() -> None:
    clock = Clock()
    vendor, _ = session(clock, OK, OK, OK, pace=6.0)

    for _ in range(3):
        vendor.get("https://zd.test/x", bucket="export")
        clock.now += 1.0  # the page takes a second to process

    assert clock.sleeps == [5.0, 5.0]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date in the past: go now
