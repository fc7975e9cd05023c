"""Slack's Web API (chat.postMessage, chat.update, chat.postEphemeral): JSON POSTs on urllib3, base URL
configurable (SLACK_API_URL).

Each method is one POST of a JSON body with the bot token as ``Authorization: Bearer``; Slack answers 200 with
``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``, and 429 with Retry-After when a method's rate limit
is hit. Not slack_sdk's WebClient: importing any part of slack_sdk loads its WebClient, its Block Kit models and
asyncio, ~60 ms of each Slack function's cold start, for three POSTs.
``tests/integration/review/test_slack_web_client.py`` sends the same calls through slack_sdk's WebClient to the
Slack sandbox and expects the same requests on the wire.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ProtocolError

from triage_gate.adapters.vendor_http import CONNECT_TIMEOUT, HttpClient, VendorResponse, retry_after_seconds
from triage_gate.errors import PermanentVendorError, RateLimited, TransientVendorError
from triage_gate.ports import SecretsProvider

DEFAULT_API_URL = "https://slack.com/api/"
PERMANENT_ERRORS = frozenset({"invalid_blocks", "no_text", "msg_too_long"})
"""Errors a retry cannot fix: the message itself is refused. Every other error (channel_not_found, not_in_channel,
invalid_auth, a 5xx) is retried through the queue, then the DLQ, which alarms."""
DEFAULT_RETRY_AFTER_S = 1.0
JSON_CONTENT_TYPE = "application/json; charset=utf-8"  # as Slack asks (without a charset it warns missing_charset)


class SlackWebClient:
    def __init__(self, secrets: SecretsProvider, api_url: str | None = None, timeout: float = 5) -> None:
        self._secrets = secrets
        self._api_url = api_url or DEFAULT_API_URL
        self._timeout = timeout
        self._http = HttpClient(pool_size=2)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        response = self._call("chat.postMessage", channel=channel, text=text, blocks=blocks)
        channel_id, ts = response.get("channel"), response.get("ts")
        if not isinstance(channel_id, str) or not isinstance(ts, str):
            raise TransientVendorError("slack chat.postMessage: the answer has no channel and ts")
        return channel_id, ts

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        response = self._send(method, arguments)
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise RateLimited(f"slack {method} rate limited", retry_after=retry_after or DEFAULT_RETRY_AFTER_S)
        if status == 200 and body.get("ok") is True:
            return body
        error = body.get("error")
        if error in PERMANENT_ERRORS:
            raise PermanentVendorError(f"slack {method}: {error}", status=status)
        raise TransientVendorError(f"slack {method}: {error or status}", status=status)

    def _send(self, method: str, arguments: dict[str, Any]) -> VendorResponse:
        """One POST, sent again once when the connection failed before an answer could come (refused, or a kept
        connection the server had closed: a warm instance's first call after a long idle), as slack_sdk's
        WebClient does. A read timeout is not sent again: Slack may have posted."""
        headers = {"Authorization": f"Bearer {self._token()}", "Content-Type": JSON_CONTENT_TYPE}
        url = urljoin(self._api_url, method)
        timeout = (min(CONNECT_TIMEOUT, self._timeout), self._timeout)
        for attempt in (1, 2):
            try:
                return self._http.send("POST", url, json=arguments, headers=headers, timeout=timeout)
            except (NewConnectionError, ConnectTimeoutError, ProtocolError) as exc:
                if attempt == 2:
                    raise TransientVendorError(f"slack {method}: {type(exc).__name__}") from exc
            except HTTPError as exc:  # a read timeout, a TLS failure: no retry here, the queue redelivers
                raise TransientVendorError(f"slack {method}: {type(exc).__name__}") from exc
            except (ValueError, UnicodeError):  # a header http.client refuses: never echo it (the token)
                raise TransientVendorError(f"slack {method}: SLACK_BOT_TOKEN is not a valid header value") from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _token(self) -> str:
        token = self._secrets.get().SLACK_BOT_TOKEN
        if token is None:
            raise TransientVendorError("SLACK_BOT_TOKEN is not set")
        return token.get_secret_value().strip()  # a pasted token's newline would be a header error (slack_sdk strips)
