"""review/block_kit.py against slack_sdk's Block Kit models: every block it builds parses into slack_sdk's objects
and serialises back to the same dict, and each limit it checks refuses exactly where slack_sdk's does. No network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, Option, PlainTextObject

from triage_gate.review import block_kit
from triage_gate.review.block_kit import BlockKitLimitError


def through_slack_sdk(block: dict[str, Any]) -> dict[str, Any]:
    """The block parsed by slack_sdk and serialised again (``to_dict`` validates: raises over a limit)."""
    parsed = Block.parse(block)
    assert parsed is not None, f"slack_sdk does not know this block: {block}"
    return parsed.to_dict()


def buttons(**overrides: Any) -> dict[str, Any]:
    arguments = {"action_id": "approve", "text": "Approve", "value": "decision-1", **overrides}
    return block_kit.actions("review_buttons", [block_kit.button(**arguments)])


def select(placeholder: str = "Pick", options: list[dict[str, Any]] | None = None, action_id: str = "pick") -> Any:
    chosen = [block_kit.option("One", "one")] if options is None else options
    return block_kit.actions("choices", [block_kit.static_select(action_id, placeholder, chosen)])


text = st.text(min_size=1, max_size=300)


@settings(max_examples=100, deadline=None)
@given(section=text, context=st.lists(text, min_size=1, max_size=10), label=st.text(min_size=1, max_size=75),
       value=st.text(min_size=1, max_size=150), style=st.sampled_from([None, "primary", "danger"]))  # fmt: skip
def test_every_block_built_here_is_unchanged_by_slack_sdk(
    section: str, context: list[str], label: str, value: str, style: str | None
) -> None:
    blocks = [
        block_kit.section(section),
        block_kit.context(*context),
        buttons(text=label, value=value, style=style),
        select(label, [block_kit.option(label, value), block_kit.option("other", "other")]),
    ]

    assert [through_slack_sdk(b) for b in blocks] == blocks


def test_the_json_is_block_kits() -> None:
    assert block_kit.section("*hi*") == {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}
    assert block_kit.button("escalate", "Escalate", "d-1", style="danger") == {
        "type": "button", "action_id": "escalate", "text": {"type": "plain_text", "text": "Escalate"},
        "value": "d-1", "style": "danger",
    }  # fmt: skip
    assert "style" not in block_kit.button("correct", "Correct", "d-1")


LIMITS: list[tuple[str, int, Callable[[int], dict[str, Any]]]] = [
    ("section text", 3000, lambda n: block_kit.section("s" * n)),
    ("button text", 75, lambda n: buttons(text="b" * n)),
    ("button value", 2000, lambda n: buttons(value="v" * n)),
    ("action_id", 255, lambda n: buttons(action_id="a" * n)),
    ("block_id", 255, lambda n: block_kit.actions("k" * n, [block_kit.button("a", "A", "v")])),
    ("select placeholder", 150, lambda n: select(placeholder="p" * n)),
    ("option text", 75, lambda n: select(options=[block_kit.option("o" * n, "one")])),
    ("option value", 150, lambda n: select(options=[block_kit.option("One", "o" * n)])),
    ("select options", 100, lambda n: select(options=[block_kit.option(f"o{i}", f"o{i}") for i in range(n)])),
    ("actions", 25, lambda n: block_kit.actions("k", [block_kit.button(f"a{i}", "A", "v") for i in range(n)])),
    ("context", 10, lambda n: block_kit.context(*["c"] * n)),
]


@pytest.mark.parametrize(("what", "limit", "build"), LIMITS, ids=[what for what, _, _ in LIMITS])
def test_each_limit_refuses_exactly_where_slack_sdks_does(
    what: str, limit: int, build: Callable[[int], dict[str, Any]]
) -> None:
    at_limit = build(limit)
    assert through_slack_sdk(at_limit) == at_limit

    with pytest.raises(BlockKitLimitError, match=f"^{what} cannot exceed {limit} "):
        build(limit + 1)
    over = build(limit) | {}  # the same block one over the limit, built past our check, for slack_sdk to judge
    _one_over(over, what)
    with pytest.raises(SlackObjectFormationError):
        slack_sdk_judges(over, what)


def slack_sdk_judges(block: dict[str, Any], what: str) -> None:
    """slack_sdk checks an option when it serialises one alone, not inside a select: an option is judged alone."""
    if what.startswith("option"):
        option = block["elements"][0]["options"][0]
        Option(text=PlainTextObject(text=option["text"]["text"]), value=option["value"]).to_dict("block")
    else:
        through_slack_sdk(block)


def _one_over(block: dict[str, Any], what: str) -> None:
    """Grow the field ``what`` names in ``block`` by one character (or one element), in place."""
    target = block["elements"][0] if block["type"] == "actions" and what not in ("block_id", "actions") else block
    if what in ("select options", "actions", "context"):
        items = target["options"] if what == "select options" else target["elements"]
        items.append(items[0])
    elif what in ("option text", "option value"):
        option = target["options"][0]
        if what == "option text":
            option["text"]["text"] += "x"
        else:
            option["value"] += "x"
    else:
        key = {"section text": "text", "button text": "text", "select placeholder": "placeholder"}.get(what)
        if key is not None:
            target[key]["text"] += "x"
        else:
            target[{"button value": "value", "action_id": "action_id", "block_id": "block_id"}[what]] += "x"


def test_an_empty_section_is_refused() -> None:
    """Slack's section text is 1 to 3,000 characters."""
    with pytest.raises(BlockKitLimitError, match="section text needs at least 1 character"):
        block_kit.section("")


def test_a_button_style_slack_does_not_know_is_refused() -> None:
    with pytest.raises(BlockKitLimitError, match="button style must be one of danger, primary, not 'green'"):
        block_kit.button("a", "A", "v", style="green")
