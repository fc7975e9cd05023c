"""Claude through the official SDK: forced tool use, short timeout, bounded retries that never sleep long.

The SDK's own retries are off (max_retries=0): it would honour a Retry-After of up to 60 s, longer than
a Lambda batch can wait. Here a retry happens only when the wait is short; otherwise the call fails
fast, the circuit breaker counts it, and the workflow's degraded-mode rule takes over.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from triage_gate.errors import ModelUnavailable
from triage_gate.policy import Price, Route, Task
from triage_gate.ports import SecretsProvider
from triage_gate.triage.answers import ModelResult, parse_tool_input
from triage_gate.triage.prompt import TOOL_NAME, Prompt, estimated_tokens

RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}
MAX_RETRY_WAIT = 2.0


class ClaudeModel:
    def __init__(self, secrets: SecretsProvider, prices: Mapping[str, Price], base_url: str | None = None) -> None:
        self._secrets = secrets
        self._prices = prices
        self._base_url = base_url
        self._clients: dict[tuple[str, float], Any] = {}

    def enabled(self) -> bool:
        return self._secrets.get().ANTHROPIC_API_KEY is not None

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        assert route.model is not None
        price = self._prices[route.model]
        started = time.perf_counter()
        message = self._call(route, prompt, price)
        latency = (time.perf_counter() - started) * 1000
        tool_use = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        raw: Any = tool_use.input if tool_use else {"text": "".join(getattr(b, "text", "") for b in message.content)}
        usage = _usage(message.usage)
        return ModelResult(
            route=route_name,
            model=route.model,
            answers=parse_tool_input(tool_use.input if tool_use else None, tasks, list(tasks)),
            rationale=raw.get("rationale") if isinstance(raw, dict) and isinstance(raw.get("rationale"), str) else None,
            raw=raw,
            usage=usage,
            cost_usd=cost_usd(usage, price),
            latency_ms=latency,
        )

    def _call(self, route: Route, prompt: Prompt, price: Price) -> Any:
        import anthropic

        system: dict[str, Any] = {"type": "text", "text": prompt.system}
        # Only a prefix long enough to cache gets a breakpoint (shorter ones are silently not cached).
        if estimated_tokens(prompt.system) + estimated_tokens(str(prompt.tool)) >= price.min_cache_tokens:
            system["cache_control"] = {"type": "ephemeral"}
        client = self._client(route.timeout_seconds)
        for attempt in range(route.max_retries + 1):
            last = attempt == route.max_retries
            try:
                return client.messages.create(
                    model=route.model,
                    max_tokens=route.max_tokens,
                    system=[system],
                    tools=[prompt.tool],
                    tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
                    messages=[{"role": "user", "content": prompt.user}],
                )
            except anthropic.APIStatusError as exc:
                wait = _retry_after(exc.response.headers, attempt)
                if exc.status_code not in RETRYABLE or last or wait > MAX_RETRY_WAIT:
                    raise ModelUnavailable(
                        f"Claude answered {exc.status_code}", kind=f"http_{exc.status_code}"
                    ) from exc
                time.sleep(wait)
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


def _retry_after(headers: Any, attempt: int) -> float:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return float(0.5 * 2**attempt)


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
