"""Slack interaction payloads (application/x-www-form-urlencoded `payload=<json>`) → reviewer actions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import msgspec
from msgspec import field

from triage_gate.errors import InvalidPayload

BUTTONS = {"approve", "correct", "escalate", "approve_anyway", "correct_anyway"}


class ReviewerAction(msgspec.Struct, frozen=True):
    action: str  # approve | correct | escalate (+ _anyway), or "select" for a dropdown change
    decision_id: str
    user_id: str
    user_name: str
    channel: str | None
    ts: str | None
    labels: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def parse_interaction(body: bytes) -> ReviewerAction | None:
    """None for interactions we do not act on (dropdown changes, other payload types)."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload: Any = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, RecursionError) as exc:
        raise InvalidPayload(
            "expected a form field `payload` holding Slack's interaction JSON", field="payload"
        ) from exc
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    actions = [a for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []
    button = next((a for a in actions if isinstance(a.get("action_id"), str) and a["action_id"] in BUTTONS), None)
    if button is None:
        return None
    user = _dict(payload.get("user"))
    container = _dict(payload.get("container"))
    labels, reason = _selections(_dict(payload.get("state")))
    if not isinstance(button.get("value"), str) or not isinstance(user.get("id"), str) or not user["id"]:
        raise InvalidPayload("the button carries no decision id, or the payload no user", field="actions")
    channel = container.get("channel_id") or _dict(payload.get("channel")).get("id")
    ts = container.get("message_ts")
    return ReviewerAction(
        action=str(button["action_id"]),
        decision_id=button["value"],
        user_id=user["id"],
        user_name=str(user.get("username") or user.get("name") or ""),
        channel=channel if isinstance(channel, str) else None,
        ts=ts if isinstance(ts, str) else None,
        labels=labels,
        reason=reason,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _selections(state: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    labels: dict[str, str] = {}
    reason = None
    for block in _dict(state.get("values")).values():
        for action_id, element in _dict(block).items():
            value = _dict(_dict(element).get("selected_option")).get("value")
            if not isinstance(value, str) or not value:
                continue
            if action_id == "reason":
                reason = value
            elif action_id.startswith("label:") and "=" in value:
                task, label = value.split("=", 1)
                labels[task] = label
    return labels, reason
