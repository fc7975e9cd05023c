"""Sign and send vendor webhooks the way Zendesk and HubSpot do (for the demo, the CLI and tests)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
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

    def as_of(self, now: datetime) -> Sample:
        """The same webhook, happening now: every timestamp in the body (ISO strings, HubSpot's epoch-ms
        ``occurredAt``) moved by one offset so the latest is ``now``; the spacing between them is kept."""
        data = json.loads(self.body)
        stamps = list(_timestamps(data))
        if not stamps:
            return self
        shift = now - max(stamps)
        return replace(self, body=json.dumps(_shifted(data, shift)).encode("utf-8"))


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_EPOCH_MS_KEYS = frozenset({"occurredAt"})


def _timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _EPOCH_MS_KEYS and isinstance(item, int):
                yield datetime.fromtimestamp(item / 1000, UTC)
            else:
                yield from _timestamps(item)
    elif isinstance(value, list):
        for item in value:
            yield from _timestamps(item)
    elif isinstance(value, str) and _ISO.match(value):
        yield datetime.fromisoformat(value.replace("Z", "+00:00"))


def _shifted(value: Any, shift: timedelta) -> Any:
    if isinstance(value, dict):
        return {
            k: int(v + shift.total_seconds() * 1000)
            if k in _EPOCH_MS_KEYS and isinstance(v, int)
            else _shifted(v, shift)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_shifted(item, shift) for item in value]
    if isinstance(value, str) and (match := _ISO.match(value)):
        return _like(value, match, datetime.fromisoformat(value.replace("Z", "+00:00")) + shift)
    return value


def _like(original: str, match: re.Match[str], moved: datetime) -> str:
    """``moved`` written the way ``original`` was (seconds or not, fraction or not, Z or an offset)."""
    text = moved.strftime("%Y-%m-%dT%H:%M")
    if match.group(1):
        text += moved.strftime(":%S") + (moved.strftime(".%f") if match.group(2) else "")
    offset = moved.strftime("%z")
    return text + ("Z" if original.endswith("Z") else f"{offset[:3]}:{offset[3:]}")


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
