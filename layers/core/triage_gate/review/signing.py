"""Slack request signatures: verification of interaction requests, and signed requests for the CLI, the demo
and tests.

Slack's v0 scheme: ``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + ts + ":" + raw body))``
with ``X-Slack-Request-Timestamp = ts`` in unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from triage_gate.errors import ConfigurationError, InvalidSignature, MissingSignature, StaleTimestamp

SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"
# Unix seconds have 10 digits until the year 2286: a longer number (leading zeros aside) is outside every window.
# The bound keeps int() and the float arithmetic of the age check away from huge digit strings.
_TIMESTAMP_MAX_DIGITS = 12


class SlackRequestVerifier:
    """Verifies a Slack request against the current signing secret, then the previous one (rotation).

    ``verify`` raises only ``MissingSignature``, ``StaleTimestamp`` or ``InvalidSignature``, whatever the bytes
    and headers. The HMAC is ``slack_signature`` over the raw body, compared in constant time; the tests check it
    against slack_sdk's ``SignatureVerifier``. slack_sdk is not used here: importing any part of it loads its
    WebClient and asyncio (~60 ms of a cold start), and its ``is_valid`` hard-codes a 300 s window (ours is
    configurable) and raises on hostile input (``UnicodeDecodeError`` on a body that is not UTF-8, ``TypeError``
    comparing a non-ASCII signature) instead of failing to match.
    """

    def __init__(self, secrets: Sequence[str], *, max_age_seconds: int, clock: Callable[[], float] = time.time) -> None:
        if isinstance(secrets, str):
            raise TypeError("secrets is a sequence of signing secrets, not one string")
        if not secrets:
            raise ConfigurationError("no Slack signing secret is set")
        if any(not isinstance(secret, str) or not secret.strip() for secret in secrets):
            raise ConfigurationError("a Slack signing secret is unusable: it is empty or blank")
        if not all(_encodable(secret) for secret in secrets):  # a lone surrogate (JSON "\ud800") has no UTF-8
            raise ConfigurationError("a Slack signing secret is unusable: it is not valid text")
        self._secrets = list(secrets)
        self._max_age = max_age_seconds
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Header names in any case. Checks, in order: both headers present, the timestamp is unix seconds within
        ``max_age_seconds`` of now (either way), the signature matches one of the secrets."""
        found = {name.lower(): value for name, value in headers.items() if isinstance(value, str)}
        timestamp = found.get(TIMESTAMP_HEADER, "")
        signature = found.get(SIGNATURE_HEADER, "")
        if not timestamp or not signature:
            raise MissingSignature(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise StaleTimestamp(f"{TIMESTAMP_HEADER} is not a unix timestamp")
        seconds = timestamp.lstrip("0")
        if len(seconds) > _TIMESTAMP_MAX_DIGITS:
            raise StaleTimestamp("Slack request timestamp is outside the replay window")
        age = self._clock() - int(seconds or "0")
        if abs(age) > self._max_age:
            direction = "old" if age > 0 else "in the future"
            raise StaleTimestamp(
                f"Slack request timestamp is {abs(age):.0f}s {direction}; the window is {self._max_age}s"
            )
        if not self._matches(timestamp, signature, body):
            raise InvalidSignature("Slack signature does not match the body and timestamp")

    def _matches(self, timestamp: str, signature: str, body: bytes) -> bool:
        if not signature.isascii():
            return False  # the expected value is ASCII hex: this cannot match
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False  # not what Slack sends (a form-encoded, ASCII body): no signature over it is accepted
        given = signature.encode("ascii")
        return any(
            hmac.compare_digest(slack_signature(secret, timestamp, body).encode("ascii"), given)
            for secret in self._secrets
        )


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 over ``v0:{timestamp}:{body}``, computed over the raw bytes (any bytes)."""
    basestring = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


def block_actions_payload(
    action_id: str,
    decision_id: str,
    *,
    user_id: str,
    user_name: str = "",
    channel: str | None = None,
    ts: str | None = None,
    labels: dict[str, str] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it when a reviewer clicks a button of a review message."""
    values: dict[str, Any] = {}
    for task, label in (labels or {}).items():
        values[f"label:{task}"] = {"type": "static_select", "selected_option": {"value": f"{task}={label}"}}
    if reason:
        values["reason"] = {"type": "static_select", "selected_option": {"value": reason}}
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name or user_id, "team_id": "T0SANDBOX"},
        "api_app_id": "A0TRIAGE",
        "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel},
        "trigger_id": f"{int(time.time())}.trigger",
        "response_url": "https://hooks.slack.com/actions/T0SANDBOX/0/sandbox",
        "state": {"values": {"review_choices": values}},
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "review_buttons", "value": decision_id,
             "action_ts": f"{time.time():.6f}"},
        ],
    }  # fmt: skip


def signed_interaction(
    payload: dict[str, Any], secret: str, *, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
    timestamp = str(int(now if now is not None else time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
    }
    return body, headers
