"""Block Kit's JSON for the blocks a review message uses, with Slack's limits checked as each is built.

The few block types the review messages need (section, context, actions; buttons, static selects, options,
plain_text and mrkdwn text), written as the dicts Slack reads. Each builder checks the limits Block Kit sets
for what it builds and raises ``BlockKitLimitError`` naming the field and its limit, so a message that would
break one fails here instead of being refused by Slack (``invalid_blocks``).

Not slack_sdk's ``models.blocks``: importing any part of slack_sdk runs its package ``__init__``, which loads
its WebClient and asyncio, ~60 ms of every Slack function's cold start for four block types. The limits and
the JSON are slack_sdk's own: ``tests/unit/review/test_block_kit.py`` parses every block built here with
``slack_sdk.models.blocks.Block.parse``, serialises it again and expects the same dict, and checks that each
limit refuses where slack_sdk's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]

SECTION_TEXT_MAX = 3000
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_STYLES = frozenset({"primary", "danger"})
PLACEHOLDER_MAX = 150
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150


class BlockKitLimitError(ValueError):
    """A block that Slack would refuse: the message names the field and the limit it breaks."""


def _within(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise BlockKitLimitError(f"{what} cannot exceed {limit} characters (got {len(value)})")
    return value


def _at_most(items: Sequence[Json], limit: int, what: str) -> list[Json]:
    if len(items) > limit:
        raise BlockKitLimitError(f"{what} cannot exceed {limit} elements (got {len(items)})")
    return list(items)


def mrkdwn(text: str) -> Json:
    return {"type": "mrkdwn", "text": text}


def plain_text(text: str) -> Json:
    """plain_text without the optional ``emoji`` flag (Slack's default applies)."""
    return {"type": "plain_text", "text": text}


def section(text: str) -> Json:
    """A section of mrkdwn text (1 to 3,000 characters)."""
    if not text:
        raise BlockKitLimitError("section text needs at least 1 character")
    return {"type": "section", "text": mrkdwn(_within(text, SECTION_TEXT_MAX, "section text"))}


def context(*texts: str) -> Json:
    """A context block of mrkdwn texts (10 at most)."""
    return {"type": "context", "elements": _at_most([mrkdwn(t) for t in texts], CONTEXT_ELEMENTS_MAX, "context")}


def actions(block_id: str, elements: Sequence[Json]) -> Json:
    """An actions block (25 elements at most; a block_id of 255 characters at most)."""
    return {
        "type": "actions",
        "block_id": _within(block_id, BLOCK_ID_MAX, "block_id"),
        "elements": _at_most(elements, ACTIONS_ELEMENTS_MAX, "actions"),
    }


def button(action_id: str, text: str, value: str, style: str | None = None) -> Json:
    """A button: text 75 and value 2,000 characters at most; style primary, danger or none."""
    if style is not None and style not in BUTTON_STYLES:
        raise BlockKitLimitError(f"button style must be one of {', '.join(sorted(BUTTON_STYLES))}, not {style!r}")
    element: Json = {
        "type": "button",
        "action_id": _within(action_id, ACTION_ID_MAX, "action_id"),
        "text": plain_text(_within(text, BUTTON_TEXT_MAX, "button text")),
        "value": _within(value, BUTTON_VALUE_MAX, "button value"),
    }
    if style is not None:
        element["style"] = style
    return element


def static_select(action_id: str, placeholder: str, options: Sequence[Json]) -> Json:
    """A static select: placeholder 150 characters and 100 options at most."""
    return {
        "type": "static_select",
        "action_id": _within(action_id, ACTION_ID_MAX, "action_id"),
        "placeholder": plain_text(_within(placeholder, PLACEHOLDER_MAX, "select placeholder")),
        "options": _at_most(options, OPTIONS_MAX, "select options"),
    }


def option(text: str, value: str) -> Json:
    """An option of a select: text 75 and value 150 characters at most."""
    return {
        "text": plain_text(_within(text, OPTION_TEXT_MAX, "option text")),
        "value": _within(value, OPTION_VALUE_MAX, "option value"),
    }
