"""Slack Web API through slack_sdk's WebClient (base URL configurable: SLACK_API_URL)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from triage_gate.adapters.tls import context_for
from triage_gate.errors import PermanentVendorError, RateLimited, TransientVendorError
from triage_gate.ports import SecretsProvider

DEFAULT_API_URL = "https://slack.com/api/"


class SlackWebClient:
    def __init__(self, secrets: SecretsProvider, api_url: str | None = None, timeout: int = 5) -> None:
        self._secrets = secrets
        self._api_url = api_url or DEFAULT_API_URL
        self._timeout = timeout
        self._client: Any = None
        self._token: str | None = None

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        response = self._call("chat_postMessage", channel=channel, text=text, blocks=blocks)
        return str(response["channel"]), str(response["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call("chat_postEphemeral", channel=channel, user=user, text=text)

    def _call(self, method: str, **kwargs: Any) -> Any:
        client = self._web_client()
        try:
            return getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            error = exc.response.get("error") if hasattr(exc.response, "get") else None
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1"))
                raise RateLimited(f"slack {method} rate limited", retry_after=retry_after) from exc
            if error in ("invalid_blocks", "no_text", "msg_too_long"):
                raise PermanentVendorError(f"slack {method}: {error}", status=status) from exc
            # channel_not_found, not_in_channel, invalid_auth, 5xx: retried, then the DLQ (which alarms).
            raise TransientVendorError(f"slack {method}: {error or status}", status=status) from exc
        except (SlackClientError, OSError) as exc:
            raise TransientVendorError(f"slack {method}: {type(exc).__name__}") from exc

    def _web_client(self) -> Any:
        token = self._secrets.get().SLACK_BOT_TOKEN
        if token is None:
            raise TransientVendorError("SLACK_BOT_TOKEN is not set")
        value = token.get_secret_value()
        if self._client is None or self._token != value:
            # A context of ours: without one, urllib loads the CA bundle for its default opener (~45 ms) even
            # when the URL is a plain-HTTP sandbox, and again apart from the other vendors' (tls.py).
            self._client = WebClient(
                token=value, base_url=self._api_url, timeout=self._timeout, ssl=context_for(self._api_url)
            )
            self._token = value
        return self._client
