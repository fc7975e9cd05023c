"""A fake Anthropic Messages API (`POST /v1/messages`) with scripted replies and a simulated prompt cache.

It checks what the real API checks before answering (the key, `anthropic-version`, the body's shape, the
tools and `tool_choice`) and answers with the real `Message` and error shapes, so the real `anthropic`
SDK parses its replies and maps its errors to the same exception classes.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import string
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from triage_local.sandboxes import side_answers, tool_inputs
from triage_local.sandboxes.anthropic_checks import RequestInvalid, validate_message_request
from triage_local.sandboxes.base import RecordedRequest, Reply, Sandbox

Step = str | dict[str, Any] | tuple[Any, ...]
Responder = Callable[[dict[str, Any]], dict[str, Any]]

DEFAULT_API_KEY = "sk-ant-sandbox"
SCRIPTED = ("ok", "malformed", "text_only", "out_of_taxonomy", "low_confidence", "max_tokens", "refusal")
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal",
                "model_context_window_exceeded")  # fmt: skip
REFUSAL_TEXT = "I can't help with that request."
ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
_ALPHABET = string.ascii_letters + string.digits


def _token(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def estimate_tokens(text: str) -> int:
    """The sandbox's tokenizer: about four characters per token."""
    return math.ceil(len(text) / 4)


def error_reply(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    """The real error shape, with the same request id in the body and the `request-id` header. Extra headers
    (`retry-after`, `retry-after-ms`, `x-should-retry`) are sent as given."""
    other = ("invalid_request_error", "Invalid request") if status < 500 else ("api_error", "Internal server error")
    kind, default = ERROR_TYPES.get(status, other)
    request_id = _token("req_")
    body = {"type": "error", "error": {"type": kind, "message": message or default}, "request_id": request_id}
    return Reply(status, body, {"request-id": request_id, **(headers or {})})


class FakeAnthropic(Sandbox):
    """`FakeAnthropic(api_key)`; `.script(*steps)` queues replies, `.responder` builds "ok" tool inputs.

    "ok" answers `sentiment`, `urgent` and `gist` (when the tool asks for them) from the ticket's words
    (`side_answers`).
    Steps: "ok"; the spoilt answers "malformed", "out_of_taxonomy", "low_confidence", "text_only" (no tool call,
    end_turn); "max_tokens" (the tool input without its last field, stop_reason max_tokens); "refusal"
    (stop_reason refusal, no tool call); `{"input": {...}, "stop_reason"?: ...}` an exact tool input (and stop
    reason); `("status", code, headers?)` an API error with headers such as `retry-after`, `retry-after-ms`
    or `x-should-retry`; `("hang", seconds)`.
    """

    name = "anthropic"

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        responder: Responder | None = None,
        min_cacheable_tokens: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key
        self.responder = responder
        # Real models cache nothing below 1,024-4,096 tokens (model-dependent); 0 caches any marked prefix.
        self.min_cacheable_tokens = min_cacheable_tokens
        self._script: deque[Step] = deque()
        self._cache: dict[str, float] = {}  # prefix digest -> expiry (monotonic)

    # scripting -----------------------------------------------------------------------------------
    def script(self, *steps: Step) -> None:
        """Queue replies for the next valid requests; an empty script answers "ok"."""
        for step in steps:
            _check_step(step)
        with self.lock:
            self._script.extend(steps)

    def clear_script(self) -> None:
        with self.lock:
            self._script.clear()

    @property
    def pending_steps(self) -> int:
        with self.lock:
            return len(self._script)

    def clear_cache(self) -> None:
        with self.lock:
            self._cache.clear()

    def message_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of every `POST /v1/messages` received (accepted or not)."""
        return [r.json for r in self.requests if r.path == "/v1/messages" and isinstance(r.json, dict)]

    def sent_text(self) -> str:
        """Every string value of every message request, joined: what the model could have read."""
        return "\n".join(_strings(body) for body in self.message_requests())

    def error_body(self, status: int) -> Any:
        return error_reply(status).body

    # serving -------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        if request.path not in ("/v1/messages", "/v1/messages/count_tokens") or request.method != "POST":
            return error_reply(404, "Not found")
        problem = self._check_headers(request)
        if problem is not None:
            return problem
        body = request.json
        try:
            validate_message_request(body, count_only=request.path.endswith("count_tokens"))
        except RequestInvalid as exc:
            return error_reply(400, str(exc))
        if request.path.endswith("count_tokens"):
            return Reply(200, {"input_tokens": estimate_tokens(_cache_blocks(body)[-1][0])}, _rid())
        with self.lock:
            step: Step = self._script.popleft() if self._script else "ok"
        if isinstance(step, tuple) and step[0] == "hang":
            self.sleep(float(step[1]))
            step = "ok"
        if isinstance(step, tuple):  # ("status", code[, headers])
            return error_reply(int(step[1]), headers=step[2] if len(step) > 2 else None)
        return Reply(200, self._message(body, step), _rid())

    def _check_headers(self, request: RecordedRequest) -> Reply | None:
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth.startswith("Bearer "):
            key = auth.removeprefix("Bearer ")  # SDK 2.x sends api_key as a bearer token
        if key is None:
            return error_reply(401, "x-api-key header is required")
        if not secrets.compare_digest(key.encode(), self.api_key.encode()):
            return error_reply(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error_reply(400, "anthropic-version: header is required")
        if not isinstance(request.json, dict):
            return error_reply(400, "There was an error parsing the body of your request: expected a JSON object")
        return None

    def _message(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        content, stop_reason = self._content(body, step)
        produced = content[0].get("input", content[0].get("text"))
        output_tokens = max(estimate_tokens(produced if isinstance(produced, str) else json.dumps(produced)), 1)
        if output_tokens > body["max_tokens"]:  # the reply was cut off: the tool input is incomplete
            output_tokens, stop_reason = body["max_tokens"], "max_tokens"
            content = [{**content[0], "input": {}}] if content[0]["type"] == "tool_use" else content
        return {
            "id": _token("msg_"),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**self._input_usage(body), "output_tokens": output_tokens, "service_tier": "standard"},
        }

    def _content(self, body: dict[str, Any], step: Step) -> tuple[list[dict[str, Any]], str]:
        """The reply's content blocks and stop_reason, before the max_tokens cut-off is applied."""
        tool = _chosen_tool(body)
        if step == "refusal":
            return [{"type": "text", "text": REFUSAL_TEXT}], "refusal"
        if tool is None or step == "text_only":
            return [{"type": "text", "text": "I think this ticket is about billing."}], "end_turn"
        tool_input = self._tool_input(body, tool, step)
        stop_reason = "tool_use"
        if step == "max_tokens":  # cut off mid tool call: the input lacks its last field
            tool_input, stop_reason = tool_inputs.truncated(tool_input), "max_tokens"
        elif isinstance(step, dict) and step.get("stop_reason"):
            stop_reason = str(step["stop_reason"])
        return [{"type": "tool_use", "id": _token("toolu_"), "name": tool["name"], "input": tool_input}], stop_reason

    def _tool_input(self, body: dict[str, Any], tool: dict[str, Any], step: Step) -> dict[str, Any]:
        if isinstance(step, dict):
            return dict(step["input"])
        valid = self.responder(body) if self.responder else tool_inputs.example_input(tool)
        # A gist, sentiment and urgency the schema asks for follow the ticket (keyword rules), not the schema's
        # first values; a responder's own answers for them are kept.
        valid = side_answers.with_side_answers(tool, body, valid, keep=self.responder is not None)
        if step == "malformed":
            return tool_inputs.malformed(tool, valid)
        if step == "out_of_taxonomy":
            return tool_inputs.out_of_taxonomy(tool, valid)
        if step == "low_confidence":
            return tool_inputs.low_confidence(valid)
        return valid

    def _input_usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Split the prompt into uncached, cache-write and cache-read tokens, updating the cache."""
        blocks = _cache_blocks(body)
        total = estimate_tokens(blocks[-1][0]) if blocks else 0
        candidates: list[tuple[str, int, float]] = []
        for prefix, ttl in (b for b in blocks if b[1]):
            tokens = estimate_tokens(prefix)
            if tokens >= self.min_cacheable_tokens:
                digest = hashlib.sha256(f"{body['model']}\n{prefix}".encode()).hexdigest()
                candidates.append((digest, tokens, ttl))
        now = time.monotonic()
        with self.lock:
            read = max((t for d, t, _ in candidates if self._cache.get(d, 0) > now), default=0)
            longest = max((t for _, t, _ in candidates), default=0)
            for digest, _, ttl in candidates:
                self._cache[digest] = now + ttl
        created = max(longest - read, 0)
        one_hour = bool(candidates) and candidates[-1][2] > 300
        return {
            "input_tokens": max(total - read - created, 0),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0 if one_hour else created,
                "ephemeral_1h_input_tokens": created if one_hour else 0,
            },
        }


def _cache_blocks(body: dict[str, Any]) -> list[tuple[str, float]]:
    """Cumulative prompt prefixes in cache order (tools, system, messages), each with its breakpoint TTL
    in seconds (0 when the block carries no `cache_control`). The last prefix is the whole prompt."""
    blocks: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    blocks.extend(system if isinstance(system, list) else [system] if system else [])
    for message in body["messages"]:
        content = message.get("content")
        blocks.extend({"role": message.get("role"), **b} if isinstance(b, dict) else b for b in _as_list(content))
    prefixes: list[tuple[str, float]] = []
    text = ""
    for block in blocks:
        marker = block.get("cache_control") if isinstance(block, dict) else None
        plain = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        text += json.dumps(plain, sort_keys=True)
        ttl = (3600.0 if marker.get("ttl") == "1h" else 300.0) if isinstance(marker, dict) else 0.0
        prefixes.append((text, ttl))
    if prefixes and isinstance(body.get("cache_control"), dict):  # automatic caching: mark the last block
        prefixes[-1] = (prefixes[-1][0], 3600.0 if body["cache_control"].get("ttl") == "1h" else 300.0)
    return prefixes


def _as_list(content: Any) -> list[Any]:
    return content if isinstance(content, list) else [content]


def _chosen_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    choice = body.get("tool_choice") or {"type": "auto"}
    if not tools or choice.get("type") == "none":
        return None
    if choice.get("type") == "tool":
        return next(t for t in tools if t["name"] == choice["name"])
    return tools[0]


def _check_step(step: Step) -> None:
    if isinstance(step, str) and step in SCRIPTED:
        return
    if isinstance(step, dict) and isinstance(step.get("input"), dict):
        if step.get("stop_reason") not in (None, *STOP_REASONS):
            raise ValueError(f"unknown stop_reason {step['stop_reason']!r}: use one of {STOP_REASONS}")
        return
    if isinstance(step, tuple) and len(step) == 2 and step[0] == "hang":
        return
    if isinstance(step, tuple) and len(step) in (2, 3) and step[0] == "status" and isinstance(step[1], int):
        return
    raise ValueError(f"unknown script step {step!r}: use one of {SCRIPTED}, {{'input': ..., 'stop_reason'?: ...}}"
                     ", ('status', code, headers?) or ('hang', seconds)")  # fmt: skip


def _strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_strings(v) for v in value)
    return ""


def _rid() -> dict[str, str]:
    return {"request-id": _token("req_")}
