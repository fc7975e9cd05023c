"""Claude's Messages API over urllib3: forced tool use, short timeout, bounded retries that never sleep long.

Not the official SDK, by measurement (``make bench``): ``import anthropic`` loads ~2,900 modules and took
~2 s after boto3 on the project's machine, paid by every new instance on its first Claude call, and the SDK
brought pydantic, httpx and ~28 MB into the layer. What it would do for us is one JSON POST: the retries are
ours (below), and so is reading the reply (a forced tool call read as plain JSON). The request and the reply
are the API's own JSON (docs.claude.com ``POST /v1/messages``, ``anthropic-version: 2023-06-01``); the SDK
stays in the test suite, which proves the loopback fake answers the way the SDK expects.

A retry happens only when the wait is short; otherwise the call fails fast, the circuit breaker counts it,
and the workflow's degraded-mode rule takes over (the SDK's own policy honours a Retry-After of up to 60 s,
longer than a Lambda batch can wait).

Only availability failures are ``ModelUnavailable`` (they count against the breaker): 408, 409, 429, 5xx
(529 included), timeouts, connection errors, a 2xx that is not a message, and 401/403 (a revoked key is an
outage of this model for us). Any other 4xx means our request is wrong: ``ModelRequestRejected``, never
retried. A reply that did not stop at the forced tool call (max_tokens, end_turn, refusal, ...) answers no
task: ``model_output_incomplete``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from triage_gate.adapters.vendor_http import HttpClient, VendorResponse, finite_number, retry_after_seconds
from triage_gate.errors import ModelRequestRejected, ModelUnavailable
from triage_gate.policy import Price, Route, Task
from triage_gate.ports import SecretsProvider
from triage_gate.triage import reasons
from triage_gate.triage.answers import ModelResult, TaskAnswer, parse_tool_input
from triage_gate.triage.prompt import TOOL_NAME, Prompt, estimated_tokens

DEFAULT_BASE_URL = "https://api.anthropic.com"
MESSAGES_PATH = "/v1/messages"
API_VERSION = "2023-06-01"
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504, 529})  # and every other 5xx
AVAILABILITY = frozenset({401, 403, 408, 409, 429})  # and every 5xx: failures that count against the breaker
MAX_RETRY_WAIT = 2.0
TOOL_STOP = "tool_use"  # the only stop_reason of a finished forced tool call


class ClaudeModel:
    def __init__(
        self,
        secrets: SecretsProvider,
        prices: Mapping[str, Price],
        base_url: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._secrets = secrets
        self._prices = prices
        self._url = (base_url or DEFAULT_BASE_URL).rstrip("/") + MESSAGES_PATH
        self._sleep = sleep
        self._http = HttpClient(pool_size=8)  # `triage eval` calls from several threads; a Lambda from one

    def enabled(self) -> bool:
        return self._secrets.get().ANTHROPIC_API_KEY is not None

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        assert route.model is not None
        price = self._prices[route.model]
        started = time.perf_counter()
        message = self._call(route, prompt, price)
        latency = (time.perf_counter() - started) * 1000
        tool_input, raw = read_reply(message)
        usage = _usage(message.get("usage"))
        if tool_input is None:
            answers = {task: TaskAnswer(None, None, reasons.MODEL_OUTPUT_INCOMPLETE) for task in tasks}
        else:
            answers = parse_tool_input(tool_input, tasks, list(tasks))
        rationale = tool_input.get("rationale") if tool_input is not None else None
        return ModelResult(
            route=route_name,
            model=route.model,
            answers=answers,
            rationale=rationale if isinstance(rationale, str) else None,
            raw=raw,
            usage=usage,
            cost_usd=cost_usd(usage, price),
            latency_ms=latency,
        )

    def _call(self, route: Route, prompt: Prompt, price: Price) -> dict[str, Any]:
        key = self._secrets.get().ANTHROPIC_API_KEY
        if key is None:
            raise ModelUnavailable("ANTHROPIC_API_KEY is not set", kind="config")
        headers = {"x-api-key": key.get_secret_value(), "anthropic-version": API_VERSION, "accept": "application/json"}
        request = _request(route, prompt, price)
        timeout = route.timeout_seconds
        for attempt in range(route.max_retries + 1):
            last = attempt == route.max_retries
            try:
                response = self._http.send("POST", self._url, timeout=(timeout, timeout), json=request, headers=headers)
            except HTTPError as exc:
                if last:
                    raise unanswered(exc) from exc
                continue  # no answer: asked again at once, as the SDK would
            if 200 <= response.status_code < 300:
                return message_of(response)
            wait = None if last else retry_wait(response.status_code, response.headers, attempt)
            if wait is None:
                raise status_failure(response.status_code, _json_or_none(response))
            self._sleep(wait)
        raise ModelUnavailable("no attempt made", kind="config")  # unreachable: max_retries ≥ 0


def unanswered(exc: HTTPError) -> ModelUnavailable:
    """No answer came: a timeout (connecting or reading), or a connection that failed."""
    if isinstance(exc, Urllib3Timeout) and not isinstance(exc, NewConnectionError):
        return ModelUnavailable("Claude timed out", kind="timeout")
    return ModelUnavailable(f"Claude could not be reached ({type(exc).__name__})", kind="connection")


def message_of(response: VendorResponse) -> dict[str, Any]:
    """The reply as a Message object; a 2xx whose body is not one is an outage of the API, not an answer."""
    message = _json_or_none(response)
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        raise ModelUnavailable(f"Claude answered {response.status_code} without a message", kind="bad_reply")
    return message


def _json_or_none(response: VendorResponse) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON (a gateway's HTML page, say), or not UTF-8
        return None


def _request(route: Route, prompt: Prompt, price: Price) -> dict[str, Any]:
    system: dict[str, Any] = {"type": "text", "text": prompt.system}
    # Only a prefix long enough to cache gets a breakpoint (shorter ones are silently not cached).
    if estimated_tokens(prompt.system) + estimated_tokens(str(prompt.tool)) >= price.min_cache_tokens:
        system["cache_control"] = {"type": "ephemeral"}
    return {
        "model": route.model,
        "max_tokens": route.max_tokens + prompt.asks.output_tokens,  # the gist and signals never crowd the tasks
        "system": [system],
        "tools": [prompt.tool],
        "tool_choice": {"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
        "messages": [{"role": "user", "content": prompt.user}],
    }


def read_reply(message: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the tool input if the reply is a finished call of the forced tool, else None; the raw output).

    The raw output is the tool input (or the reply's text) with the reply's ``stop_reason`` added.
    """
    stop_reason = message.get("stop_reason")
    blocks = [b for b in message.get("content") or [] if isinstance(b, dict)]
    block = next((b for b in blocks if b.get("type") == "tool_use" and b.get("name") == TOOL_NAME), None)
    given = block.get("input") if block is not None else None
    if isinstance(given, dict):
        raw = {**given, "stop_reason": stop_reason}
    else:
        text = "".join(b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str))
        raw = {"text": text, "stop_reason": stop_reason}
    complete = stop_reason == TOOL_STOP and isinstance(given, dict)
    return (given if complete else None), raw


def status_failure(status: int, body: object) -> ModelUnavailable | ModelRequestRejected:
    """What an error answer means for us: the model is unavailable, or our request is wrong."""
    if status in AVAILABILITY or status >= 500:
        return ModelUnavailable(f"Claude answered {status}", kind=f"http_{status}")
    error = body.get("error") if isinstance(body, dict) else None
    error_type = error.get("type") if isinstance(error, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    kind = error_type if isinstance(error_type, str) else None
    message = f"Claude rejected our request: {status} {kind or 'unknown error'}"
    if isinstance(detail, str) and detail:
        message += f": {detail[:200]}"
    return ModelRequestRejected(message, status=status, error_type=kind)


def retry_wait(status: int, headers: Mapping[str, str] | None, attempt: int) -> float | None:
    """Seconds to wait before asking again, or None: this answer is not retried.

    ``x-should-retry`` overrides the status (as in the SDK); a wait longer than MAX_RETRY_WAIT never happens.
    """
    headers = headers or {}
    advice = (headers.get("x-should-retry") or "").strip().lower()
    if advice == "false" or (advice != "true" and status not in RETRYABLE and status < 500):
        return None
    wait = retry_after(headers, attempt)
    return wait if wait <= MAX_RETRY_WAIT else None


def retry_after(headers: Mapping[str, str], attempt: int) -> float:
    """The wait the API asks for: ``retry-after-ms``, else ``retry-after`` in seconds or as an HTTP date
    (a date in the past is 0); without either, exponential backoff from 0.5 s."""
    millis = finite_number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    seconds = retry_after_seconds(headers.get("retry-after"))
    return seconds if seconds is not None else float(0.5 * 2**attempt)


def _usage(usage: object) -> dict[str, int]:
    counts = usage if isinstance(usage, dict) else {}

    def tokens(name: str) -> int:
        value = counts.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    return {
        "input": tokens("input_tokens"),
        "output": tokens("output_tokens"),
        "cache_write": tokens("cache_creation_input_tokens"),
        "cache_read": tokens("cache_read_input_tokens"),
    }


def cost_usd(usage: Mapping[str, int], price: Price) -> float:
    per_token = (
        usage.get("input", 0) * price.input
        + usage.get("output", 0) * price.output
        + usage.get("cache_write", 0) * price.cache_write
        + usage.get("cache_read", 0) * price.cache_read
    )
    return round(per_token / 1_000_000, 8)
