"""HTTP for the admin commands: JSON in and out, a vendor's refusal as one clear error, 429s waited out briefly.

Admin calls are few and interactive, so a rate limit is waited out (its ``Retry-After``, at most
``MAX_WAIT_SECONDS``, three times) and a 5xx or a dropped connection is retried twice; then the command stops
with a :class:`VendorError` naming the vendor, the request and what the vendor said. Request and response
bodies are never put into an error (they may hold secrets), only the vendor's error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_WAIT_SECONDS = 30.0
TIMEOUT = (5.0, 30.0)


class VendorError(RuntimeError):
    """A vendor refused a request or could not be reached (``status`` None)."""

    def __init__(self, vendor: str, what: str, status: int | None, message: str) -> None:
        self.vendor, self.what, self.status, self.message = vendor, what, status, message
        shown = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{vendor} {what}: {shown}: {message}")


def error_message(response: requests.Response) -> str:
    """What the vendor said, from the error shapes Zendesk, HubSpot and Slack use (never the whole body)."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:200]
    if isinstance(body, dict):
        for key in ("description", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("detail") or first.get("title") or first.get("message") or first)[:300]
    if isinstance(body, str):
        return body[:300]
    return (response.reason or "").strip()


class AdminHttp:
    """One vendor's API at ``base_url`` with its auth headers."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", **headers})
        self._sleep = sleep

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None,
                allow: tuple[int, ...] = ()) -> Any:  # fmt: skip
        """The decoded JSON answer (None for an empty one). A status in ``allow`` returns ``{"status": N}``."""
        what = f"{method} {path.split('?')[0]}"
        response = self._send(method, self.url(path), what, params, json)
        if response.status_code in allow:
            return {"status": response.status_code}
        if response.status_code >= 400:
            raise VendorError(self.vendor, what, response.status_code, error_message(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise VendorError(self.vendor, what, response.status_code, "the answer is not JSON") from exc

    def _send(self, method: str, url: str, what: str, params: Any, body: Any) -> requests.Response:
        waits = failures = 0
        while True:
            try:
                response = self._session.request(method, url, params=params, json=body, timeout=TIMEOUT)
            except requests.RequestException as exc:
                failures += 1
                if failures > 2:
                    raise VendorError(
                        self.vendor, what, None, unreachable_vendor(self.vendor, self.base_url, exc)
                    ) from exc
                self._sleep(1.0 * failures)
                continue
            if response.status_code == 429 and waits < 3:
                waits += 1
                self._sleep(min(_retry_after(response), MAX_WAIT_SECONDS))
                continue
            if response.status_code >= 500 and failures < 2:
                failures += 1
                self._sleep(1.0 * failures)
                continue
            return response


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "2")), 0.0)
    except ValueError:
        return 2.0


def paged(http: AdminHttp, path: str, key: str, *, limit: int = 10_000) -> list[dict[str, Any]]:
    """Every item of a Zendesk list: cursor pages (``page[size]``, ``links.next`` while ``meta.has_more``), or
    offset pages (``next_page``) when the endpoint answers that way."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    params: dict[str, str] | None = {"page[size]": "100"}
    while url is not None and len(items) < limit:
        page = http.get(url, params)
        params = None  # the next links carry the parameters
        items.extend(page.get(key) or [])
        meta, links = page.get("meta") or {}, page.get("links") or {}
        cursor_next = links.get("next") if meta.get("has_more") else None
        url = str(cursor_next) if cursor_next else page.get("next_page") or None
    return items


def unreachable_vendor(vendor: str, base_url: str, exc: Exception) -> str:
    """Why ``vendor`` at ``base_url`` gave no answer, and what to do: never the connection pool's own text."""
    host = urlsplit(base_url).hostname or ""
    if isinstance(exc, requests.Timeout):
        why = "it did not answer in time"
    elif isinstance(exc, requests.ConnectionError):
        why = "the connection was refused or the host name is unknown"
    else:
        why = f"the request failed ({type(exc).__name__})"
    if host in LOOPBACK:
        return (f"no {vendor} answers at {base_url} ({why}): start the local stack and its vendor sandboxes first "
                "(`make local`), or point the base URL at the real account")  # fmt: skip
    variable = {"Zendesk": "ZendeskBaseUrl", "HubSpot": "HubSpotBaseUrl"}.get(vendor, "the base URL")
    return f"cannot reach {vendor} at {base_url} ({why}): check {variable} and your network"
