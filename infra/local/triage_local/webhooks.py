"""Sign and send vendor webhooks the way Zendesk and HubSpot do (for the demo, the CLI and tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from triage_gate.intake.signatures import signed_hubspot_headers, signed_zendesk_headers

SIGNATURE_HEADERS = {
    "x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp",
    "x-hubspot-signature-v3", "x-hubspot-request-timestamp",
}  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """A vendor body and the non-signature headers it was delivered with."""

    source: str
    body: bytes
    headers: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Sample:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("version") == "2.0" and "rawPath" in data:
            source = data["rawPath"].rstrip("/").rsplit("/", 1)[-1]
            headers = {k: v for k, v in (data.get("headers") or {}).items() if k.lower() not in SIGNATURE_HEADERS}
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
            return cls(source, data.get("body", "").encode("utf-8"), headers)
        source = "hubspot" if isinstance(data, list) else "zendesk"
        return cls(source, path.read_bytes(), {"content-type": "application/json"})


def signed_headers(sample: Sample, secret: str, url: str, *, age: timedelta = timedelta(0)) -> dict[str, str]:
    now = datetime.now(UTC) - age
    if sample.source == "zendesk":
        signed = signed_zendesk_headers(secret, sample.body, now)
    else:
        signed = signed_hubspot_headers(secret, url, sample.body, now)
    return {**sample.headers, **signed}


def send(sample: Sample, base_url: str, secret: str, *, age: timedelta = timedelta(0)) -> requests.Response:
    url = f"{base_url.rstrip('/')}/webhooks/{sample.source}"
    return requests.post(url, data=sample.body, headers=signed_headers(sample, secret, url, age=age), timeout=15)


def signed_event(path: Path, secret: str, url: str | None = None) -> dict[str, Any]:
    """An events/ sample with fresh signature headers, ready for ``sam local invoke -e``."""
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    sample = Sample.load(path)
    host = event.get("headers", {}).get("host", "localhost")
    target = url or f"https://{host}{event.get('rawPath', '')}"
    fresh = signed_headers(sample, secret, target)
    event["headers"] = {**event.get("headers", {}), **{k.lower(): v for k, v in fresh.items()}}
    return event
