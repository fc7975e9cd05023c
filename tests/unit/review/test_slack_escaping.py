"""Slack shows text, never markup: every string that is not ours is escaped (& < >) wherever it lands in
mrkdwn, within Block Kit's length limits; the escalation group is a validated user-group id mentioned as
<!subteam^ID>. No network."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.review.conftest import record
from triage_gate.policy import Policy, Review
from triage_gate.records import ValidationError
from triage_gate.review.blocks import (
    group_mention,
    mrkdwn_clip,
    mrkdwn_escape,
    resolved_message,
    review_message,
    user_mention,
)

WORKFLOW = "zendesk-support"
PHISH = "<!channel> <https://evil.example/sso|Reset your SSO password>"
PHISH_SHOWN = "&lt;!channel&gt; &lt;https://evil.example/sso|Reset your SSO password&gt;"


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn string of a message's blocks (section texts and context elements)."""
    found: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            found.append(text["text"])
        found.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return found


def no_markup(text: str) -> bool:
    """No Slack control sequence: no `<` at all, and `>` only as our quote marker at a line start."""
    return "<" not in text and all(i == 0 or text[i - 1] == "\n" for i, c in enumerate(text) if c == ">")


# ---------------------------------------------------------------- the helper
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("a & b", "a &amp; b"),
        ("<!here>", "&lt;!here&gt;"),
        ("<@U123> <#C123>", "&lt;@U123&gt; &lt;#C123&gt;"),
        ("&lt; already", "&amp;lt; already"),  # escaped once more: shown exactly as typed
        (PHISH, PHISH_SHOWN),
    ],
)
def test_mrkdwn_escape_escapes_the_three_control_characters(raw: str, shown: str) -> None:
    assert mrkdwn_escape(raw) == shown


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_mrkdwn_escape_is_lossless_and_leaves_no_control_character(text: str) -> None:
    escaped = mrkdwn_escape(text)

    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="a&<>", max_size=200), limit=st.integers(2, 120))
def test_mrkdwn_clip_never_cuts_an_entity_in_half(text: str, limit: int) -> None:
    clipped = mrkdwn_clip(text, limit)

    assert len(clipped) <= limit
    body = clipped.removesuffix("…")
    assert re.sub(r"&(amp|lt|gt);", "", body).count("&") == 0


# ---------------------------------------------------------------- the review message
def test_a_phishing_subject_is_shown_as_text_not_as_a_mention_or_a_link(shipped_policy: Policy) -> None:
    text, blocks = review_message(record(subject=PHISH), shipped_policy.workflows[WORKFLOW], None)

    shown = mrkdwn_texts(blocks)
    assert any(PHISH_SHOWN in t for t in shown)
    assert not any("<!channel>" in t or "<https://evil" in t for t in shown)
    assert "<!channel>" not in json.dumps(blocks)
    assert no_markup(text)


def test_every_user_controlled_string_is_escaped_in_the_review_message(shipped_policy: Policy) -> None:
    hostile = record(
        subject="Refund <!here> & more",
        input_text="Hi <@U0ADMIN>, click <https://evil.example|here> & win\nline two > line one",
        context_fields={"organization.name": "<!everyone> Acme & Co", "requester.name": "<#C0PRIVATE>"},
    )

    text, blocks = review_message(hostile, shipped_policy.workflows[WORKFLOW], "https://acme.zendesk.com/t/1",
                                  warning="ticket changed at <!channel>")  # fmt: skip

    first, *rest = mrkdwn_texts(blocks)
    assert first.startswith("*Review needed* · <https://acme.zendesk.com/t/1|zendesk #40211>")  # our own link
    assert all(no_markup(t) for t in rest)
    joined = "\n".join(rest)
    assert "Refund &lt;!here&gt; &amp; more" in joined
    assert "&lt;@U0ADMIN&gt;" in joined
    assert "&lt;https://evil.example|here&gt; &amp; win" in joined
    assert "\n>line two &gt; line one" in joined  # the quote marker stays, the text's > is escaped
    assert "organization.name: &lt;!everyone&gt; Acme &amp; Co" in joined
    assert "requester.name: &lt;#C0PRIVATE&gt;" in joined
    assert ":warning: ticket changed at &lt;!channel&gt;" in joined
    assert no_markup(text)


def test_a_notification_text_with_hostile_ids_is_escaped(shipped_policy: Policy) -> None:
    text, _ = review_message(record(ticket_id="1<!channel>", workflow=WORKFLOW), shipped_policy.workflows[WORKFLOW],
                             None)  # fmt: skip

    assert "&lt;!channel&gt;" in text
    assert no_markup(text)


def test_escaped_text_still_fits_block_kit_limits(shipped_policy: Policy) -> None:
    """Escaping can grow a string five-fold (& → &amp;): the limits hold on what is sent."""
    heavy = record(
        subject="&" * 1000,
        input_text="<&>\n" * 2000,
        context_fields={f"organization.field_{i}": "&" * 400 for i in range(40)},
    )

    _, blocks = review_message(heavy, shipped_policy.workflows[WORKFLOW], "https://z.example/t/1", warning="&" * 5000)

    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    for part in mrkdwn_texts(blocks):
        assert re.sub(r"&(amp|lt|gt);", "", part).count("&") == 0  # no entity cut in half


def test_plain_text_fields_are_left_unescaped_and_within_their_limits(shipped_policy: Policy) -> None:
    _, blocks = review_message(record(), shipped_policy.workflows[WORKFLOW], None)

    for block in blocks:
        for element in block.get("elements", []):
            if element["type"] == "button":
                assert len(element["text"]["text"]) <= 75
            if element["type"] == "static_select":
                assert len(element["placeholder"]["text"]) <= 150
                assert all(len(o["text"]["text"]) <= 75 for o in element["options"])
                assert all("&amp;" not in o["text"]["text"] for o in element["options"])


# ---------------------------------------------------------------- the resolved message
def test_resolved_message_escapes_the_reviewer_name_labels_and_reason() -> None:
    review = {"verdict": "correct", "reviewer": "UALICE", "reviewer_name": "<!everyone> alice & bob",
              "labels": {"category": "<https://evil.example|refund>"}, "reason": "<!here>",
              "resolved_at": "2026-11-27T12:05:00+00:00", "time_to_review_s": 300.0}  # fmt: skip

    text, blocks = resolved_message(record(), review)

    assert "by &lt;!everyone&gt; alice &amp; bob" in text
    assert "corrected to category `&lt;https://evil.example|refund&gt;` (&lt;!here&gt;)" in text
    assert no_markup(text)
    headline, when = mrkdwn_texts(blocks)
    assert headline.endswith("by <@UALICE>")  # our own mention of the reviewer's user id
    assert no_markup(headline.removesuffix("<@UALICE>"))
    assert no_markup(when)


def test_a_reviewer_id_cannot_break_out_of_its_mention() -> None:
    assert user_mention("U1> <!channel") == "<@U1&gt; &lt;!channel>"


# ---------------------------------------------------------------- the escalation group
def test_escalation_group_is_mentioned_as_a_slack_user_group() -> None:
    assert group_mention("S05SUPLEADS") == "<!subteam^S05SUPLEADS> "
    assert group_mention(None) == ""


def test_shipped_policy_names_user_group_ids(shipped_policy: Policy) -> None:
    groups = {name: w.review.escalation_group for name, w in shipped_policy.workflows.items()}

    assert groups == {"zendesk-support": "S05SUPLEADS", "hubspot-tickets": "S05REVOPSLD"}


@pytest.mark.parametrize("group", ["@support-leads", "support-leads", "s05supleads", "S0", "U05SUPLEADS",
                                   "S05 SUPLEADS", "<!subteam^S05SUPLEADS>", "S05SUPLEADS\n"])  # fmt: skip
def test_escalation_group_must_be_a_user_group_id(group: str) -> None:
    with pytest.raises(ValidationError, match="Slack user-group id"):
        Review.from_data({"channel": "#review", "escalation_group": group})


@pytest.mark.parametrize("group", ["S05SUPLEADS", "S0614TZR7", None])
def test_escalation_group_accepts_user_group_ids_or_nothing(group: str | None) -> None:
    assert Review(channel="#review", escalation_group=group).escalation_group == group
