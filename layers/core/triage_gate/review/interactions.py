"""Slack interaction payloads (application/x-www-form-urlencoded `payload=<json>`) → reviewer actions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from triage_gate.errors import InvalidPayload

BUTTONS = {"approve", "correct", "escalate", "approve_anyway", "correct_anyway"}


@dataclass(frozen=True)
class ReviewerAction:
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
    except (UnicodeDecodeError, ValueError, KeyError) as exc:
        raise InvalidPayload(
            "expected a form field `payload` holding Slack's interaction JSON", field="payload"
        ) from exc
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or []
    button = next((a for a in actions if a.get("action_id") in BUTTONS), None)
    if button is None:
        return None
    user = payload.get("user") or {}
    container = payload.get("container") or {}
    labels, reason = _selections(payload.get("state") or {})
    if not isinstance(button.get("value"), str) or not user.get("id"):
        raise InvalidPayload("the button carries no decision id, or the payload no user", field="actions")
    return ReviewerAction(
        action=str(button["action_id"]),
        decision_id=button["value"],
        user_id=str(user["id"]),
        user_name=str(user.get("username") or user.get("name") or ""),
        channel=(container.get("channel_id") or (payload.get("channel") or {}).get("id")),
        ts=container.get("message_ts"),
        labels=labels,
        reason=reason,
    )


def _selections(state: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    labels: dict[str, str] = {}
    reason = None
    for block in (state.get("values") or {}).values():
        for action_id, element in block.items():
            value = (element.get("selected_option") or {}).get("value")
            if not value:
                continue
            if action_id == "reason":
                reason = value
            elif action_id.startswith("label:") and "=" in value:
                task, label = value.split("=", 1)
                labels[task] = label
    return labels, reason
