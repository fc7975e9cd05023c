"""What the Messages API rejects with `400 invalid_request_error`, with messages in the API's style."""

from __future__ import annotations

import re
from typing import Any

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
ROLES = ("user", "assistant", "system")  # API 2026-10-21 (SDK 2.x) accepts system messages in `messages`
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
MAX_CACHE_BREAKPOINTS = 4


class RequestInvalid(ValueError):
    """The request would be a 400 `invalid_request_error`; the message says which field."""


def validate_message_request(body: Any, *, count_only: bool = False) -> None:
    if not isinstance(body, dict):
        raise RequestInvalid("There was an error parsing the body of your request: expected a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestInvalid("model: Field required")
    if not count_only:
        _check_max_tokens(body.get("max_tokens"))
    _check_messages(body.get("messages"))
    _check_system(body.get("system"))
    names = _check_tools(body.get("tools"))
    _check_tool_choice(body.get("tool_choice"), names, has_tools="tools" in body)
    temperature = body.get("temperature")
    if temperature is not None and (not _is_number(temperature) or not 0 <= temperature <= 1):
        raise RequestInvalid("temperature: Input should be less than or equal to 1")
    marked = _count_cache_control(body)
    if marked > MAX_CACHE_BREAKPOINTS:
        raise RequestInvalid(f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
                             f"Found {marked}.")  # fmt: skip


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_max_tokens(value: Any) -> None:
    if value is None:
        raise RequestInvalid("max_tokens: Field required")
    if not isinstance(value, int) or isinstance(value, bool):
        raise RequestInvalid("max_tokens: Input should be a valid integer")
    if value < 1:
        raise RequestInvalid("max_tokens: Input should be greater than or equal to 1")


def _check_messages(messages: Any) -> None:
    if messages is None:
        raise RequestInvalid("messages: Field required")
    if not isinstance(messages, list):
        raise RequestInvalid("messages: Input should be a valid list")
    if not messages:
        raise RequestInvalid("messages: List should have at least 1 item after validation, not 0")
    for index, message in enumerate(messages):
        where = f"messages.{index}"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestInvalid(f"{where}.role: Input should be 'user', 'assistant' or 'system'")
        content = message.get("content")
        if isinstance(content, str):
            if not content:
                raise RequestInvalid(f"{where}: text content blocks must be non-empty")
        elif isinstance(content, list) and content:
            _check_blocks(content, f"{where}.content")
        else:
            raise RequestInvalid(f"{where}.content: Input should be a valid string or a non-empty list")


def _check_blocks(blocks: list[Any], where: str) -> None:
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise RequestInvalid(f"{where}.{index}.type: Field required")
        if block["type"] == "text" and (not isinstance(block.get("text"), str) or not block["text"]):
            raise RequestInvalid(f"{where}.{index}: text content blocks must be non-empty")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise RequestInvalid("system: Input should be a valid string or list")
    for index, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise RequestInvalid(f"system.{index}: Input should be a text block")


def _check_tools(tools: Any) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise RequestInvalid("tools: Input should be a valid list")
    names: list[str] = []
    for index, tool in enumerate(tools):
        where = f"tools.{index}"
        if not isinstance(tool, dict):
            raise RequestInvalid(f"{where}: Input should be a valid dictionary")
        if tool.get("type") not in (None, "custom"):  # server tools (web_search_…) have no input_schema
            names.append(str(tool.get("name")))
            continue
        name = tool.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise RequestInvalid(f"{where}.custom.name: String should match pattern '{TOOL_NAME.pattern}'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise RequestInvalid(f"{where}.custom.input_schema: Field required")
        if schema.get("type") != "object":
            raise RequestInvalid(f"{where}.custom.input_schema.type: Input should be 'object'")
        names.append(name)
    if len(set(names)) != len(names):
        raise RequestInvalid("tools: Tool names must be unique.")
    return names


def _check_tool_choice(choice: Any, names: list[str], *, has_tools: bool) -> None:
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICE_TYPES:
        raise RequestInvalid("tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', "
                             "'tool', 'none'")  # fmt: skip
    if choice["type"] != "none" and not has_tools:
        raise RequestInvalid("tool_choice may only be specified while providing tools.")
    if choice["type"] == "tool":
        if not isinstance(choice.get("name"), str):
            raise RequestInvalid("tool_choice.tool.name: Field required")
        if choice["name"] not in names:
            raise RequestInvalid(f"tool_choice.tool.name: Tool '{choice['name']}' not found in provided tools")
    parallel = choice.get("disable_parallel_tool_use")
    if parallel is not None and not isinstance(parallel, bool):
        raise RequestInvalid(f"tool_choice.{choice['type']}.disable_parallel_tool_use: Input should be a valid boolean")


def _count_cache_control(body: dict[str, Any]) -> int:
    blocks: list[Any] = list(body.get("tools") or [])
    if isinstance(body.get("system"), list):
        blocks.extend(body["system"])
    for message in body["messages"]:
        if isinstance(message.get("content"), list):
            blocks.extend(message["content"])
    return sum(1 for block in blocks if isinstance(block, dict) and block.get("cache_control"))
