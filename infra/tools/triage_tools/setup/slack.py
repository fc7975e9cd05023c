"""Slack as setup sees it: the app manifest (the bot scopes of exactly the methods our code calls), and whether
the bot is a member of the policy's review and escalation channels.

:data:`METHOD_SCOPES` lists every Slack Web API method our code calls with the bot scopes it needs (Slack's
method reference; the vendored OpenAPI description agrees, with ``chat:write`` under its legacy name
``chat:write:bot``): what the functions call (:data:`RUNTIME_METHOD_SCOPES`, the three ``chat.*`` methods of
``triage_gate.adapters.slack_client``) and what ``triage setup slack`` and ``triage doctor`` call to check the
channels (:data:`CHECK_METHOD_SCOPES`). The manifest's bot scopes are their union, nothing else: no
``chat:write.public`` (the bot is invited to its channels, and a private channel needs the invite anyway).

Membership: a channel given by id (``C…``/``G…``) is read with ``conversations.info``; a name (``#review``) is
first found with ``conversations.list`` (public channels, and the private ones the bot is in), then read with
``conversations.info`` (``is_member``, ``is_archived``). A private channel the bot is not in is invisible to
it, so it can only be reported as "not found: invite the bot if it is private".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from triage_gate.policy import Policy

APP_NAME = "Triage Gate"
RUNTIME_METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),  # review cases, the backlog reminder, the ROI digest
    "chat.update": ("chat:write",),  # a case's message after a reviewer's click
    "chat.postEphemeral": ("chat:write",),  # "already handled" to a second reviewer
}
CHECK_METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),  # who the bot is
    "conversations.list": ("channels:read", "groups:read"),  # a policy channel's name → its id
    "conversations.info": ("channels:read", "groups:read"),  # is the bot a member; is it archived
}
METHOD_SCOPES = {**RUNTIME_METHOD_SCOPES, **CHECK_METHOD_SCOPES}
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
PLACEHOLDER_URL = "https://API-ID.execute-api.REGION.amazonaws.com/slack/interactions"


def bot_scopes() -> list[str]:
    return sorted({scope for scopes in METHOD_SCOPES.values() for scope in scopes})


def manifest(request_url: str) -> dict[str, Any]:
    """The app manifest (schema 1.x): a bot user, its scopes, interactivity to the stack's endpoint."""
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": "Human review of AI ticket triage: approve, correct or escalate each case.",
            "background_color": "#1d3b53",
        },
        "features": {"bot_user": {"display_name": APP_NAME, "always_online": False}},
        "oauth_config": {"scopes": {"bot": bot_scopes()}},
        "settings": {
            "interactivity": {"is_enabled": True, "request_url": request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def _scope_lines() -> str:
    lines = []
    for scope in bot_scopes():
        methods = [m for m, scopes in METHOD_SCOPES.items() if scope in scopes]
        who = "the functions" if any(m in RUNTIME_METHOD_SCOPES for m in methods) else "setup/doctor's channel check"
        lines.append(f"#   {scope}: {', '.join(methods)} ({who})\n")
    return "".join(lines)


def manifest_text(request_url: str) -> str:
    import yaml

    header = (
        "# Slack app manifest for Triage Gate, written by `triage setup slack` (do not edit by hand: run it again).\n"
        "# Create the app at https://api.slack.com/apps → Create New App → From an app manifest; then install it,\n"
        "# store the Bot User OAuth Token as SLACK_BOT_TOKEN and the Signing Secret as SLACK_SIGNING_SECRET.\n"
        "# Bot scopes: exactly those of the Slack methods our code calls (triage_tools.setup.slack.METHOD_SCOPES):\n"
    )
    return header + _scope_lines() + yaml.safe_dump(manifest(request_url), sort_keys=False, default_flow_style=False)


def policy_channels(policy: Policy) -> dict[str, list[str]]:
    """Channel (no '#') → what uses it ("zendesk-support review", ...)."""
    channels: dict[str, list[str]] = {}
    for name, workflow in policy.workflows.items():
        channels.setdefault(workflow.review.channel.removeprefix("#"), []).append(f"{name} review")
        if workflow.review.escalation_channel:
            channels.setdefault(workflow.review.escalation_channel.removeprefix("#"), []).append(f"{name} escalation")
    return channels


@dataclass(frozen=True)
class Membership:
    channel: str  # as the policy names it, without '#'
    uses: list[str]
    state: str  # member | not_member | archived | not_found
    private: bool = False

    def fix(self, bot_name: str) -> str:
        if self.state == "not_member":
            kind = "private channel" if self.private else "channel"
            return f"in the {kind} #{self.channel}, type `/invite @{bot_name}`"
        if self.state == "archived":
            return f"#{self.channel} is archived: unarchive it, or change the policy's channel"
        return (f"#{self.channel} is not a public channel the bot can see: if it is private, type "
                f"`/invite @{bot_name}` in it; else create it or fix the policy's review channel")  # fmt: skip


def _pages(call: Any, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        answer = call(cursor=cursor, limit=200, **params) if cursor else call(limit=200, **params)
        items.extend(answer.get(key) or [])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return items


def _channel_ids(client: Any, names: list[str]) -> dict[str, str]:
    """Name → id of the named channels the bot can see (public ones, and private ones it is in)."""
    if not names:
        return {}
    listed = _pages(client.conversations_list, "channels", types="public_channel,private_channel")
    wanted = set(names)
    return {str(c.get("name")): str(c.get("id")) for c in listed if c.get("name") in wanted}


def _membership(client: Any, channel: str, channel_id: str | None, uses: list[str]) -> Membership:
    from slack_sdk.errors import SlackApiError

    if channel_id is None:
        return Membership(channel, uses, "not_found")
    try:
        info = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return Membership(channel, uses, "not_found")
        raise
    private = bool(info.get("is_private"))
    if info.get("is_archived"):
        return Membership(channel, uses, "archived", private)
    return Membership(channel, uses, "member" if info.get("is_member") else "not_member", private)


def check_membership(client: Any, channels: dict[str, list[str]]) -> tuple[str, list[Membership]]:
    """(the bot's name, one Membership per channel). ``client`` is a slack_sdk WebClient."""
    me = client.auth_test()
    ids = _channel_ids(client, [c for c in channels if not _CHANNEL_ID.match(c)])
    found = [
        _membership(client, channel, channel if _CHANNEL_ID.match(channel) else ids.get(channel), uses)
        for channel, uses in channels.items()
    ]
    return str(me.get("user") or APP_NAME), found


def slack_client(token: str, api_url: str) -> Any:
    from slack_sdk import WebClient

    return WebClient(token=token, base_url=api_url or "https://slack.com/api/", timeout=10)


def slack_error_fix(error: str, needed: str | None = None) -> str:
    """What to do about a Slack error code a check got."""
    fixes = {
        "invalid_auth": "SLACK_BOT_TOKEN is not valid: reinstall the Slack app and store its Bot User OAuth Token "
        "as SLACK_BOT_TOKEN (`triage setup secrets`)",
        "token_revoked": "the app was uninstalled or its token revoked: reinstall it and store the new SLACK_BOT_TOKEN",
        "not_authed": "no token was sent: store SLACK_BOT_TOKEN (`triage setup secrets`)",
        "missing_scope": f"the app lacks the scope {needed or '(see the manifest)'}: update the app from "
        "infra/slack/manifest.yaml (`triage setup slack` writes it) and reinstall it",
    }
    return fixes.get(error, "see https://status.slack.com and the error's description in Slack's method reference")
