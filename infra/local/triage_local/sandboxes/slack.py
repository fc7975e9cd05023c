"""A fake Slack Web API under `/api/`: `auth.test`, `chat.postMessage`, `chat.update`, `chat.getPermalink`, and
`chat.postEphemeral` (kept apart from the channel's messages: see `ephemerals`).

Answers like Slack: most failures are HTTP 200 with `{"ok": false, "error": ...}` (`not_authed`,
`invalid_auth`, `channel_not_found`, `no_text`, `invalid_blocks`, `message_not_found`,
`cant_update_message`...), so the real `slack_sdk.WebClient` raises `SlackApiError` with the same error
codes. Parameters are read from the query string and from a JSON, form-urlencoded or multipart body
(`blocks`/`metadata` may arrive JSON-encoded in forms). `chat.postMessage` is limited per channel
(token bucket, `per_channel_per_second`): over it, HTTP 429 + `Retry-After` + `ratelimited`.
Point `WebClient(base_url=f"{fake.url}/api/")` at it.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from triage_local.sandboxes.base import RecordedRequest, Reply, Sandbox, is_json_content
from triage_local.sandboxes.slack_admin import SlackAdmin
from triage_local.sandboxes.slack_args import argument_error
from triage_local.sandboxes.slack_params import (
    Params,
    channel_name,
    public_message,
    read_content,
    read_metadata,
    read_params,
)

DEFAULT_TOKEN = "xoxb-sandbox-token"
DEFAULT_CHANNELS = ("#support-triage-review", "#revops-triage-review", "#triage-escalations")
BOT_USER_ID, BOT_ID, TEAM_ID, APP_ID = "UBOT", "BSANDBOX", "T0SANDBOX", "ASANDBOX"
HUMAN_USER_ID = "UHUMAN"
ERRORS_BY_STATUS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
_TS = re.compile(r"^\d+\.\d{6}$")


def _error(error: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"ok": False, "error": error}, dict(headers or {}))


def _ok(**fields: Any) -> Reply:
    return Reply(200, {"ok": True, **fields})


class _Bucket:
    """A token bucket: `rate` tokens a second, at most `capacity` saved up (the allowed burst)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> float | None:
        """Spend one token; without one, return the seconds until there is one (nothing spent)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


class FakeSlack(Sandbox):
    """`FakeSlack(token)`; channels by name (`channel_id(name)`), messages per channel id (`messages(channel)`)."""

    name = "slack"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        channels: Iterable[str] = DEFAULT_CHANNELS,
        per_channel_per_second: float | None = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        if per_channel_per_second is not None and per_channel_per_second <= 0:
            raise ValueError("per_channel_per_second must be positive (or None: no limit)")
        self.token = token
        self.per_channel_per_second = per_channel_per_second
        self.user_id, self.bot_id, self.team_id = BOT_USER_ID, BOT_ID, TEAM_ID
        self._ids: dict[str, str] = {}  # channel name (no '#') -> id
        self._names: dict[str, str] = {}  # id -> name
        self._messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self._ephemerals: dict[str, list[dict[str, Any]]] = {}  # channel id -> ephemeral messages
        self._buckets: dict[str, _Bucket] = {}
        self._method_faults: dict[str, deque[str]] = {}
        self._last_ts = 0  # microseconds of the newest ts handed out
        self._posts = 0
        self._updates = 0
        self.admin = SlackAdmin(self)  # users.conversations, conversations.* and scopes (slack_admin.py)
        for channel in channels:
            self.add_channel(channel)

    # seeding and inspection ----------------------------------------------------------------------
    def add_channel(self, name: str) -> str:
        """Create a channel (`#name` or `name`) if it does not exist; return its id."""
        key = channel_name(name)
        with self.lock:
            if key in self._ids:
                return self._ids[key]
            digest = hashlib.sha256(key.encode()).hexdigest().upper()
            channel_id = "C0" + digest[:8]
            while channel_id in self._names:  # (a hash collision: never in practice)
                digest = digest[1:]
                channel_id = "C0" + digest[:8]
            self._ids[key], self._names[channel_id] = channel_id, key
            self._messages[channel_id], self._ephemerals[channel_id] = [], []
            return channel_id

    def channel_id(self, name: str) -> str:
        """The id of a channel given as `#name`, `name` or its id; `KeyError` when there is no such channel."""
        with self.lock:
            found = self._resolve(name)
        if found is None:
            raise KeyError(name)
        return found

    @property
    def channels(self) -> dict[str, str]:
        """`{"#name": "C0…"}` for every channel."""
        with self.lock:
            return {f"#{name}": channel_id for name, channel_id in self._ids.items()}

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = HUMAN_USER_ID,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Seed a message written by someone else (a human by default: the bot cannot update it); its ts."""
        with self.lock:
            channel_id = self.channel_id(channel)
            message = self._new_message(text, blocks or [], thread_ts, None)
            message.update(user=user, bot_id=None, app_id=None)
            self._messages[channel_id].append(message)
            return str(message["ts"])

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The current messages of a channel, oldest first: `ts`, `text`, `blocks`, `thread_ts`, `metadata`,
        `user`, `bot_id`, `updated` (bool) and `history` (the earlier versions, oldest first)."""
        with self.lock:
            return copy.deepcopy(self._messages[self.channel_id(channel)])

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One message (as in `messages`); `KeyError` when the channel has no message with that ts."""
        with self.lock:
            found = self._find(self.channel_id(channel), ts)
            if found is None:
                raise KeyError(ts)
            return copy.deepcopy(found)

    def ephemerals(self, channel: str) -> list[dict[str, Any]]:
        """`chat.postEphemeral` messages to a channel, oldest first (as in `messages`, plus `to_user`)."""
        with self.lock:
            return copy.deepcopy(self._ephemerals[self.channel_id(channel)])

    @property
    def posts(self) -> int:
        """How many `chat.postMessage` calls were accepted."""
        with self.lock:
            return self._posts

    @property
    def updates(self) -> int:
        """How many `chat.update` calls were accepted."""
        with self.lock:
            return self._updates

    def calls(self, method: str | None = None) -> list[tuple[str, Params]]:
        """`(method, params)` for every API request received (accepted or not), optionally one method only."""
        found: list[tuple[str, Params]] = []
        for request in self.requests:
            name = request.path.removeprefix("/api/")
            if method is not None and name != method:
                continue
            params = read_params(request)
            found.append((name, params if isinstance(params, dict) else {}))
        return found

    def reset_rate_limits(self) -> None:
        with self.lock:
            self._buckets.clear()

    # faults --------------------------------------------------------------------------------------
    def fail_next(
        self, status: int, *, headers: dict[str, str] | None = None, body: Any = None, times: int = 1
    ) -> None:
        """Answer the next `times` requests with `status`; a 429 gets `Retry-After: 1` unless headers say."""
        if status == 429:
            headers = {"Retry-After": "1", **(headers or {})}
        super().fail_next(status, headers=headers, body=body, times=times)

    def fail_next_error(self, error: str, *, method: str | None = None, times: int = 1) -> None:
        """Answer HTTP 200 `{"ok": false, "error": error}`: to the next `times` requests of any kind (before
        auth, in order with `fail_next`), or, given `method` (e.g. "chat.update"), to that method's next
        authenticated calls."""
        if method is None:
            super().fail_next(200, body={"ok": False, "error": error}, times=times)
            return
        with self.lock:
            self._method_faults.setdefault(method, deque()).extend([error] * times)

    def error_body(self, status: int) -> Any:
        return {"ok": False, "error": ERRORS_BY_STATUS.get(status, "fatal_error")}

    # serving -------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        method = request.path.removeprefix("/api/")
        routes: dict[str, Callable[[Params], Reply]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.getPermalink": self._permalink,
            "chat.postEphemeral": self._post_ephemeral,
            **self.admin.routes(),
        }
        if not request.path.startswith("/api/") or method not in routes:
            return Reply(404, {"ok": False, "error": "unknown_method", "req_method": method})
        params = read_params(request)
        if isinstance(params, str):
            return _error(params)
        problem = self._check_auth(request, params)
        if problem is not None:
            return problem
        refused = argument_error(method, params, is_json_content(request))  # slack_args.py: Slack's argument checks
        if refused is not None:
            return Reply(200, {"ok": False, **refused})
        with self.lock:
            queued = self._method_faults.get(method)
            if queued:
                return _error(queued.popleft())
            return routes[method](params)

    def _check_auth(self, request: RecordedRequest, params: Params) -> Reply | None:
        header = request.headers.get("authorization", "")
        if header:
            token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        else:
            given = params.get("token") if not is_json_content(request) else None  # JSON bodies need the header
            if not isinstance(given, str) or not given:
                return _error("not_authed")
            token = given
        if not token or not secrets.compare_digest(token.encode(), self.token.encode()):
            return _error("invalid_auth")
        return None

    def _auth_test(self, params: Params) -> Reply:
        return _ok(url="https://sandbox.slack.com/", team="Sandbox", user="triage-bot", team_id=self.team_id,
                   user_id=self.user_id, bot_id=self.bot_id, is_enterprise_install=False)  # fmt: skip

    def _post_message(self, params: Params) -> Reply:
        channel_id = self._resolve(params.get("channel"))
        if channel_id is None:
            return _error("channel_not_found")
        content = read_content(params)
        if isinstance(content, str):
            return _error(content)
        text, blocks = content
        metadata = read_metadata(params.get("metadata"))
        if isinstance(metadata, str):
            return _error(metadata)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None and (not isinstance(thread_ts, str) or not _TS.match(thread_ts)):
            return _error("invalid_thread_ts")
        wait = self._take(channel_id)
        if wait is not None:
            return _error("ratelimited", 429, {"Retry-After": str(max(math.ceil(wait), 1))})
        message = self._new_message(text or "", blocks or [], thread_ts, metadata)
        self._messages[channel_id].append(message)
        self._posts += 1
        return _ok(channel=channel_id, ts=message["ts"], message=public_message(message))

    def _update(self, params: Params) -> Reply:
        channel_id = self._resolve(params.get("channel"))
        if channel_id is None:
            return _error("channel_not_found")
        ts = params.get("ts")
        if not isinstance(ts, str) or not ts:
            return _error("message_not_found")
        message = self._find(channel_id, ts)
        if message is None:
            return _error("message_not_found")
        if message.get("bot_id") != self.bot_id:
            return _error("cant_update_message")
        content = read_content(params)
        if isinstance(content, str):
            return _error(content)
        text, blocks = content
        message["history"].append({"text": message["text"], "blocks": message["blocks"], "replaced_at": time.time()})
        if text is not None:
            message["text"] = text
        # Slack: blocks given replace the old ones ([] removes them); text without blocks drops the old blocks
        if blocks is not None:
            message["blocks"] = blocks
        elif text is not None:
            message["blocks"] = []
        message["updated"] = True
        message["edited"] = {"user": self.user_id, "ts": self._next_ts()}
        self._updates += 1
        return _ok(channel=channel_id, ts=ts, text=message["text"], message=public_message(message))

    def _post_ephemeral(self, params: Params) -> Reply:
        channel_id = self._resolve(params.get("channel"))
        if channel_id is None:
            return _error("channel_not_found")
        user = params.get("user")
        if not isinstance(user, str) or not user:
            return _error("user_not_found")
        content = read_content(params)
        if isinstance(content, str):
            return _error(content)
        text, blocks = content
        message = self._new_message(text or "", blocks or [], params.get("thread_ts") or None, None)
        message["to_user"] = user
        self._ephemerals[channel_id].append(message)
        return _ok(message_ts=message["ts"])

    def _permalink(self, params: Params) -> Reply:
        channel_id = self._resolve(params.get("channel"))
        if channel_id is None:
            return _error("channel_not_found")
        ts = params.get("message_ts")
        message = self._find(channel_id, ts) if isinstance(ts, str) else None
        if message is None:
            return _error("message_not_found")
        link = f"https://sandbox.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        if message["thread_ts"] and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
        return _ok(channel=channel_id, permalink=link)

    # state (callers hold the lock) -----------------------------------------------------------------
    def _resolve(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return None
        if channel in self._names:
            return channel
        return self._ids.get(channel_name(channel))

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel_id, []) if m["ts"] == ts), None)

    def _take(self, channel_id: str) -> float | None:
        if self.per_channel_per_second is None:
            return None
        bucket = self._buckets.setdefault(channel_id, _Bucket(self.per_channel_per_second))
        return bucket.take()

    def _next_ts(self) -> str:
        """A unique, increasing `seconds.micros` timestamp (the workspace-wide message id)."""
        micros = max(time.time_ns() // 1000, self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_message(
        self, text: str, blocks: list[dict[str, Any]], thread_ts: str | None, metadata: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {"type": "message", "ts": self._next_ts(), "text": text, "blocks": blocks, "thread_ts": thread_ts,
                "metadata": metadata, "user": self.user_id, "bot_id": self.bot_id, "app_id": APP_ID,
                "team": self.team_id, "updated": False, "edited": None, "history": []}  # fmt: skip
