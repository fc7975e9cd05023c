"""Sending the burst: signed webhooks from a pool of sender threads, each on its own keep-alive session,
re-sent as the vendors would after a 5xx or 429."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import requests
from loadtest_plan import EVENTS, ZD_ACCOUNT, Request

from triage_gate.intake.signatures import signed_hubspot_headers, signed_zendesk_headers
from triage_local.webhooks import Sample, signed_headers


class Sender:
    def __init__(self, base_url: str, secrets: dict[str, str]) -> None:
        self.base_url = base_url
        self.secrets = secrets
        self._local = threading.local()
        self.retries = Counter[str]()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def send(self, request: Request) -> None:
        if request.original is not None:
            request.original.sent.wait(120)
            request.body = request.original.body
        else:
            request.body = request.build()
        assert request.body is not None
        url = f"{self.base_url}/webhooks/{request.source}"
        secret = self.secrets["ZENDESK_WEBHOOK_SECRET" if request.source == "zendesk" else "HUBSPOT_CLIENT_SECRET"]
        if request.kind == "bad_signature":
            secret = "not-the-secret-" + secret[::-1]
        for attempt in range(1, 8):
            request.attempts = attempt
            now = datetime.now(UTC)
            if request.source == "zendesk":
                headers = signed_zendesk_headers(secret, request.body, now)
                headers["x-zendesk-account-id"] = str(ZD_ACCOUNT)
            else:
                headers = signed_hubspot_headers(secret, url, request.body, now)
            headers["content-type"] = "application/json"
            try:
                response = self._session().post(url, data=request.body, headers=headers, timeout=30)
            except requests.RequestException as exc:
                request.error = type(exc).__name__
                self._count(f"connection error ({type(exc).__name__})")
                time.sleep(0.5 * attempt)
                continue
            request.status = response.status_code
            try:
                request.answer = response.json()
            except ValueError:
                request.answer = None
            if response.status_code >= 500 or response.status_code == 429:  # the vendor would redeliver
                self._count(f"HTTP {response.status_code}")
                time.sleep(min(float(response.headers.get("Retry-After", 1)), 2.0) * attempt / 2)
                continue
            break
        request.sent.set()

    def _count(self, what: str) -> None:
        with self._lock:
            self.retries[what] += 1


def warm_up(base_url: str, secrets: dict[str, str]) -> None:
    """One ignored event first, so the ingest worker's imports are not timed."""
    body = json.dumps([{**json.loads(Sample.load(EVENTS / "ingest__hubspot_batch.json").body)[3]}]).encode()
    sample = Sample("hubspot", body, {"content-type": "application/json"})
    url = f"{base_url}/webhooks/hubspot"
    requests.post(url, data=body, headers=signed_headers(sample, secrets["HUBSPOT_CLIENT_SECRET"], url), timeout=60)
