"""Outgoing webhook deliveries from a fake vendor: signed, asynchronous, retried as the vendor retries.

A vendor answers its API call first and delivers webhooks later, from its own queue, so the sender is a
background thread. What is retried follows the vendor's documented rules (a `RetryRule`), with the delays
shortened for tests (`max_delay`); every attempt is kept in `deliveries` for assertions.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

# (status or None for a timeout/connection failure, Retry-After seconds or None, attempt number) → retry?
RetryRule = Callable[[int | None, float | None, int], bool]
Signer = Callable[[str, bytes], dict[str, str]]  # (url, body) → headers, signed at send time


def zendesk_retries(status: int | None, retry_after: float | None, attempt: int) -> bool:
    """409 three times; 429/503 only with Retry-After under 60 s; timeouts five times; nothing else."""
    if status is None:
        return attempt < 5
    if status == 409:
        return attempt < 3
    if status in (429, 503):
        return retry_after is not None and retry_after < 60 and attempt < 3
    return False


def hubspot_retries(status: int | None, retry_after: float | None, attempt: int) -> bool:
    """Connection failures, timeouts and any 4xx/5xx, up to 10 retries (spread over 24 h by HubSpot)."""
    return (status is None or status >= 400) and attempt < 10


@dataclass
class Delivery:
    """One webhook invocation and what each attempt got back (None: no answer)."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # the unsigned ones, the same on every attempt
    statuses: list[int | None] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)  # the headers of each attempt, signatures included
    done: bool = False

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] is not None and 200 <= int(self.statuses[-1] or 0) < 300


class WebhookSender:
    def __init__(self, name: str, retries: RetryRule, *, max_delay: float = 0.2, timeout: float = 12.0) -> None:
        self._retries = retries
        self._max_delay = max_delay
        self._timeout = timeout
        self._queue: queue.Queue[tuple[Delivery, Signer] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self.deliveries: list[Delivery] = []
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name=f"{name}-webhooks", daemon=True)
        self._thread.start()

    def send(self, url: str, body: bytes, signer: Signer, headers: dict[str, str] | None = None) -> Delivery:
        delivery = Delivery(url, body, dict(headers or {}))
        with self._idle:
            self.deliveries.append(delivery)
            self._pending += 1
        self._queue.put((delivery, signer))
        return delivery

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued delivery is done (delivered or given up)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._idle.wait(left):
                    return False
        return True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._session.close()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            delivery, signer = item
            try:
                self._attempts(delivery, signer)
            finally:
                with self._idle:
                    delivery.done = True
                    self._pending -= 1
                    self._idle.notify_all()

    def _attempts(self, delivery: Delivery, signer: Signer) -> None:
        attempt = 0
        while True:
            status, retry_after = self._attempt(delivery, signer)
            delivery.statuses.append(status)
            if status is not None and 200 <= status < 300:
                return
            attempt += 1
            if not self._retries(status, retry_after, attempt):
                return
            time.sleep(min(retry_after if retry_after is not None else 0.05, self._max_delay))

    def _attempt(self, delivery: Delivery, signer: Signer) -> tuple[int | None, float | None]:
        sent = {**delivery.headers, **signer(delivery.url, delivery.body)}
        delivery.sent.append(sent)
        try:
            response = self._session.post(delivery.url, data=delivery.body, headers=sent, timeout=self._timeout)
        except requests.RequestException:
            return None, None
        try:
            retry_after = float(response.headers["Retry-After"]) if "Retry-After" in response.headers else None
        except ValueError:
            retry_after = None
        return response.status_code, retry_after
