"""FakeSlack's conversation methods: ``users.conversations``, ``conversations.list``, ``conversations.info`` and
``conversations.members``, with Slack's scopes and visibility.

The bot token has ``scopes`` (default ``chat:write``, ``channels:read``, ``groups:read``); a method whose scope
is missing answers ``missing_scope`` with ``needed`` and ``provided``, as Slack does. Every channel is public and
has the bot as a member unless a test says otherwise (``make_private``, ``remove_bot``). A private channel the
bot is not in is invisible to it: not listed, and ``channel_not_found`` from ``conversations.info``. Lists are
paged with ``limit`` and ``cursor`` (``response_metadata.next_cursor``, empty on the last page).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from triage_local.sandboxes.base import Reply

if TYPE_CHECKING:
    from triage_local.sandboxes.slack import FakeSlack

DEFAULT_SCOPES = ("channels:read", "chat:write", "groups:read")
CHANNEL_TYPES = ("public_channel", "private_channel")
Params = dict[str, Any]
HUMAN_MEMBER = "UHUMAN"  # FakeSlack's person (slack.HUMAN_USER_ID), in every channel


def _ok(**fields: Any) -> Reply:
    return Reply(200, {"ok": True, **fields})


def _error(error: str, **fields: Any) -> Reply:
    return Reply(200, {"ok": False, "error": error, **fields})


class SlackAdmin:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.scopes: set[str] = set(DEFAULT_SCOPES)
        self.private: set[str] = set()  # channel ids
        self.without_bot: set[str] = set()  # channel ids the bot is not a member of

    # seeding ------------------------------------------------------------------------------------
    def make_private(self, channel: str) -> None:
        with self.fake.lock:
            self.private.add(self.fake.channel_id(channel))

    def remove_bot(self, channel: str) -> None:
        """The bot leaves (or was never invited to) the channel."""
        with self.fake.lock:
            self.without_bot.add(self.fake.channel_id(channel))

    def invite_bot(self, channel: str) -> None:
        with self.fake.lock:
            self.without_bot.discard(self.fake.channel_id(channel))

    # serving (the fake holds its lock) ----------------------------------------------------------
    def routes(self) -> dict[str, Callable[[Params], Reply]]:
        return {
            "users.conversations": self._users_conversations,
            "conversations.list": self._conversations_list,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
        }

    def _visible(self, channel_id: str) -> bool:
        return channel_id not in self.private or channel_id not in self.without_bot

    def _render(self, channel_id: str) -> dict[str, Any]:
        name = self.fake._names[channel_id]
        private = channel_id in self.private
        return {"id": channel_id, "name": name, "is_channel": not private, "is_group": private,
                "is_private": private, "is_archived": False, "is_member": channel_id not in self.without_bot,
                "name_normalized": name}  # fmt: skip

    def _kind(self, channel_id: str) -> str:
        return "private_channel" if channel_id in self.private else "public_channel"

    def _scope_problem(self, types: list[str]) -> Reply | None:
        needed = [{"public_channel": "channels:read", "private_channel": "groups:read"}[t] for t in types]
        missing = [scope for scope in needed if scope not in self.scopes]
        if missing:
            return _error("missing_scope", needed=",".join(missing), provided=",".join(sorted(self.scopes)))
        return None

    def _types(self, params: Params) -> list[str] | Reply:
        types = [t.strip() for t in str(params.get("types") or "public_channel").split(",") if t.strip()]
        if not types or any(t not in (*CHANNEL_TYPES, "im", "mpim") for t in types):
            return _error("invalid_types")
        return [t for t in types if t in CHANNEL_TYPES]

    def _listing(self, params: Params, only_member: bool) -> Reply:
        types = self._types(params)
        if isinstance(types, Reply):
            return types
        problem = self._scope_problem(types)
        if problem is not None:
            return problem
        kinds = set(types)
        channels = [
            self._render(cid) for cid in sorted(self.fake._names)
            if self._visible(cid) and self._kind(cid) in kinds and (not only_member or cid not in self.without_bot)
        ]  # fmt: skip
        return self._page("channels", channels, params)

    def _page(self, key: str, items: list[Any], params: Params) -> Reply:
        try:
            limit = min(max(int(params.get("limit") or 100), 1), 1000)
            cursor = str(params.get("cursor") or "")
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except (ValueError, UnicodeDecodeError):
            return _error("invalid_cursor")
        end = start + limit
        following = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
        return _ok(**{key: items[start:end], "response_metadata": {"next_cursor": following}})

    def _users_conversations(self, params: Params) -> Reply:
        return self._listing(params, only_member=True)

    def _conversations_list(self, params: Params) -> Reply:
        return self._listing(params, only_member=False)

    def _channel(self, params: Params) -> str | Reply:
        channel_id = params.get("channel")
        if not isinstance(channel_id, str) or channel_id not in self.fake._names or not self._visible(channel_id):
            return _error("channel_not_found")
        problem = self._scope_problem([self._kind(channel_id)])
        return problem if problem is not None else channel_id

    def _conversations_info(self, params: Params) -> Reply:
        found = self._channel(params)
        return found if isinstance(found, Reply) else _ok(channel=self._render(found))

    def _conversations_members(self, params: Params) -> Reply:
        found = self._channel(params)
        if isinstance(found, Reply):
            return found
        members = [] if found in self.without_bot else [self.fake.user_id]
        return self._page("members", [*members, HUMAN_MEMBER], params)
