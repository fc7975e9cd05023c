"""How the fake Slack reads a Web API call: parameters from the query, a JSON, form or multipart body."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
from typing import Any
from urllib.parse import parse_qs

from triage_local.sandboxes.base import RecordedRequest, is_json_content

Params = dict[str, Any]
MAX_BLOCKS = 50
MAX_TEXT = 40_000


def channel_name(name: str) -> str:
    return name.strip().removeprefix("#").lower()


def public_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the API shows it: no sandbox bookkeeping, no empty optional fields."""
    shown = {k: copy.deepcopy(v) for k, v in message.items() if k not in ("updated", "history")}
    return {k: v for k, v in shown.items() if v is not None and not (k == "blocks" and not v)}


def read_content(params: Params) -> tuple[str | None, list[dict[str, Any]] | None] | str:
    """`(text, blocks)` of a post or an update (None: not given), or the Slack error code."""
    text = params.get("text")
    if text is not None and not isinstance(text, str):
        text = str(text)
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks) if blocks.strip() else None
        except ValueError:
            return "invalid_blocks_format"
    if blocks is not None:
        if not isinstance(blocks, list):
            return "invalid_blocks_format"
        if len(blocks) > MAX_BLOCKS or not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks):
            return "invalid_blocks"
        if not all(within_block_kit(block) for block in blocks):
            return "invalid_blocks"
    attachments = params.get("attachments")
    if not text and not blocks and not attachments:
        return "no_text"
    if text is not None and len(text) > MAX_TEXT:
        return "msg_too_long"
    return text, blocks


def within_block_kit(block: dict[str, Any]) -> bool:
    """A block Slack takes: a type slack_sdk's Block Kit models know, within the limits they check (text lengths,
    element counts), as Slack refuses the rest with ``invalid_blocks``; the options of a select are each checked
    as an option (slack_sdk checks them only alone)."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block, Option

    try:
        parsed = Block.parse(block)
        if parsed is None:
            return False
        parsed.to_dict()
        for element in block.get("elements") or []:
            for option in (element.get("options") or []) if isinstance(element, dict) else []:
                Option(**option).to_dict("block")  # TypeError when it is not an object of option fields
    except (SlackObjectFormationError, AttributeError, KeyError, TypeError, ValueError, IndexError):
        return False
    return True


def read_metadata(value: Any) -> dict[str, Any] | str | None:
    """The message metadata (`{event_type, event_payload}`), None, or the Slack error code."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return "invalid_metadata_format"
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        return "invalid_metadata_format"
    if not isinstance(value.get("event_payload", {}), dict):
        return "invalid_metadata_schema"
    return value


def read_params(request: RecordedRequest) -> Params | str:
    """The call's arguments: the query string, then the body (JSON, form or multipart); or an error code."""
    params: Params = {k: v[-1] for k, v in request.query.items()}
    if not request.body:
        return params
    content_type = request.headers.get("content-type", "")
    main_type = content_type.split(";")[0].strip().lower()
    if is_json_content(request):
        if request.json is None:
            return "invalid_json"
        if not isinstance(request.json, dict):
            return "json_not_object"
        params.update(request.json)
    elif main_type in ("application/x-www-form-urlencoded", ""):
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    elif main_type == "multipart/form-data":
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        parsed = parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.body)
        if not parsed.is_multipart():
            return "invalid_form_data"
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                params[name] = payload.decode("utf-8", "replace")
    else:
        return "invalid_form_data"
    return params
