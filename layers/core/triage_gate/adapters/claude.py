"""Claude through the official SDK: forced tool use, short timeout, bounded retries that never sleep long.

The SDK's own retries are off (max_retries=0): it would honour a Retry-After of up to 60 s, longer than
a Lambda batch can wait. Here a retry happens only when the wait is short; otherwise the call fails
fast, the circuit breaker counts it, and the workflow's degraded-mode rule takes over.

Only availability failures are ``ModelUnavailable`` (they count against the breaker): 408, 409, 429, 5xx
(529 included), timeouts, connection errors, and 401/403 (a revoked key is an outage of this model for us).
Any other 4xx means our request is wrong: ``ModelRequestRejected``, never retried. A reply that did not stop
at the forced tool call (max_tokens, end_turn, refusal, ...) answers no task: ``model_output_incomplete``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from triage_gate.adapters.vendor_http import finite_number, retry_after_seconds
from triage_gate.errors import ModelRequestRejected, ModelUnavailable
from triage_gate.policy import Price, Route, Task
from triage_gate.ports import SecretsProvider
from triage_gate.triage import reasons
from triage_gate.triage.answers import ModelResult, TaskAnswer, parse_tool_input
from triage_gate.triage.prompt import TOOL_NAME, Prompt, estimated_tokens

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
        self._base_url = base_url
        self._sleep = sleep
        self._clients: dict[tuple[str, float], Any] = {}

    def enabled(self) -> bool:
        return self._secrets.get().ANTHROPIC_API_KEY is not None

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        assert route.model is not None
        price = self._prices[route.model]
        started = time.perf_counter()
        message = self._call(route, prompt, price)
        latency = (time.perf_counter() - started) * 1000
        tool_input, raw = read_reply(message)
        usage = _usage(message.usage)
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

    def _call(self, route: Route, prompt: Prompt, price: Price) -> Any:
        import anthropic

        request = _request(route, prompt, price)
        client = self._client(route.timeout_seconds)
        for attempt in range(route.max_retries + 1):
            last = attempt == route.max_retries
            try:
                return client.messages.create(**request)
            except anthropic.APIStatusError as exc:
                wait = None if last else retry_wait(exc.status_code, exc.response.headers, attempt)
                if wait is None:
                    raise status_failure(exc.status_code, exc.body) from exc
                self._sleep(wait)
            except anthropic.APITimeoutError as exc:
                if last:
                    raise ModelUnavailable("Claude timed out", kind="timeout") from exc
            except anthropic.APIConnectionError as exc:
                if last:
                    raise ModelUnavailable("Claude could not be reached", kind="connection") from exc
        raise ModelUnavailable("no attempt made", kind="config")  # unreachable: max_retries ≥ 0

    def _client(self, timeout: float) -> Any:
        import anthropic

        key = self._secrets.get().ANTHROPIC_API_KEY
        if key is None:
            raise ModelUnavailable("ANTHROPIC_API_KEY is not set", kind="config")
        cache_key = (key.get_secret_value(), timeout)
        if cache_key not in self._clients:
            self._clients[cache_key] = anthropic.Anthropic(
                api_key=key.get_secret_value(),
                base_url=self._base_url or None,
                max_retries=0,
                timeout=timeout,
            )
        return self._clients[cache_key]


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


def read_reply(message: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the tool input if the reply is a finished call of the forced tool, else None; the raw output).

    The raw output is the tool input (or the reply's text) with the reply's ``stop_reason`` added.
    """
    stop_reason = getattr(message, "stop_reason", None)
    block = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
    given = block.input if block is not None else None
    if isinstance(given, dict):
        raw = {**given, "stop_reason": stop_reason}
    else:
        raw = {"text": "".join(getattr(b, "text", "") or "" for b in message.content), "stop_reason": stop_reason}
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


def _usage(usage: Any) -> dict[str, int]:
    return {
        "input": int(getattr(usage, "input_tokens", 0) or 0),
        "output": int(getattr(usage, "output_tokens", 0) or 0),
        "cache_write": int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        "cache_read": int(getattr(usage, "cache_read_input_tokens", 0) or 0),
    }


def cost_usd(usage: Mapping[str, int], price: Price) -> float:
    per_token = (
        usage.get("input", 0) * price.input
        + usage.get("output", 0) * price.output
        + usage.get("cache_write", 0) * price.cache_write
        + usage.get("cache_read", 0) * price.cache_read
    )
    return round(per_token / 1_000_000, 8)
