"""Signed Slack interaction requests, built from the documented format (for the CLI, the demo, tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
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
