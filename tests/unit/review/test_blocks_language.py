"""The review message shows the ticket's language, the machine-translated gist and the signals, escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.unit.review.conftest import WORKFLOW, record
from triage_gate.policy import Policy
from triage_gate.review.blocks import GIST_CHARS, review_message
from triage_gate.triage.decision import DecisionRecord, LanguageFacts, ReviewerGist, Signals

GERMAN = LanguageFacts(code="de", source="detected", detected="de", confidence=0.98, locale="de-DE")
GIST = ReviewerGist(
    text="Charged twice for the November invoice; wants a refund.", language="en", source_language="de",
    model="claude-haiku-4-5", output_tokens_estimate=14, cost_usd_estimate=0.00007,
)  # fmt: skip


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn text of the message: sections and context elements."""
    found = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    return found + [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def german(**changes: Any) -> DecisionRecord:
    fields: dict[str, Any] = {"language": GERMAN, "gist": GIST, "signals": Signals(sentiment="negative", urgent=True)}
    return record(**(fields | changes))


def test_the_language_gist_and_signals_are_shown(shipped_policy: Policy) -> None:
    _, blocks = review_message(german(), shipped_policy.workflows[WORKFLOW], None)

    shown = texts(blocks)
    assert blocks[1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Language: German (de) · detected 0.98 · requester locale de-DE\n"
                                                "Sentiment: negative · Urgent: yes"}],
    }  # fmt: skip
    [gist] = [t for t in shown if "gist" in t]
    assert gist == (
        "*English gist — machine-translated by claude-haiku-4-5, not checked by a person:*\n"
        ">Charged twice for the November invoice; wants a refund."
    )
    order = [t.split("\n")[0] for t in shown]
    assert order.index("*Charged twice*") < order.index(gist.split("\n")[0]) < order.index("*Proposed*")


def test_a_language_from_the_locale_or_the_default_says_so(shipped_policy: Policy) -> None:
    from_locale = LanguageFacts(code="pt", source="locale", detected="es", confidence=0.31, locale="pt-BR")
    default = LanguageFacts(code="en", source="default")

    _, by_locale = review_message(record(language=from_locale), shipped_policy.workflows[WORKFLOW], None)
    _, by_default = review_message(record(language=default), shipped_policy.workflows[WORKFLOW], None)

    assert by_locale[1]["elements"][0]["text"] == (
        "Language: Portuguese (pt) · from the requester's locale · detector unsure: es 0.31 · requester locale pt-BR"
    )
    assert by_default[1]["elements"][0]["text"] == (
        "Language: English (en) · default (not detected, no usable requester locale)"
    )


def test_only_the_signals_answered_are_shown(shipped_policy: Policy) -> None:
    _, blocks = review_message(record(signals=Signals(urgent=False)), shipped_policy.workflows[WORKFLOW], None)

    assert blocks[1]["elements"][0]["text"] == "Urgent: no"
    assert not any("Sentiment" in t for t in texts(blocks))


def test_a_record_without_language_gist_or_signals_shows_none_of_them(shipped_policy: Policy) -> None:
    _, blocks = review_message(record(signals=Signals()), shipped_policy.workflows[WORKFLOW], None)

    joined = "\n".join(texts(blocks))
    assert "Language" not in joined
    assert "gist" not in joined
    assert "Urgent" not in joined


def test_a_hostile_gist_locale_and_model_are_escaped(shipped_policy: Policy) -> None:
    gist = GIST.replace(**{"text": "<!channel> *bold* & <https://evil.example|click>\nline two",
                                   "model": "<@U0ADMIN>"})  # fmt: skip
    locale = GERMAN.replace(**{"locale": "de<!here>"})

    text, blocks = review_message(german(gist=gist, language=locale), shipped_policy.workflows[WORKFLOW], None)

    shown = "\n".join(texts(blocks))
    assert "<!channel>" not in json.dumps(blocks)
    assert "<!here>" not in json.dumps(blocks)
    assert "machine-translated by &lt;@U0ADMIN&gt;, not checked by a person:*" in shown
    assert ">&lt;!channel&gt; *bold* &amp; &lt;https://evil.example|click&gt;\n>line two" in shown
    assert "requester locale de&lt;!here&gt;" in shown
    assert "<" not in text
    assert "<" not in shown  # no markup of the ticket's reaches Slack (no link was given)


def test_a_huge_gist_stays_within_the_sections_limit_without_cutting_an_entity(shipped_policy: Policy) -> None:
    gist = GIST.replace(**{"text": "<&>\n" * 5000, "model": "m" * 5000})

    _, blocks = review_message(german(gist=gist), shipped_policy.workflows[WORKFLOW], "https://z.example/t/1")

    [shown] = [t for t in texts(blocks) if "gist" in t]
    assert len(shown) <= 3000
    assert shown.endswith("…")
    assert len(shown.split("\n", 1)[1]) > GIST_CHARS // 2  # the gist keeps most of its room
    assert re.sub(r"&(amp|lt|gt);", "", shown).count("&") == 0
    assert len(blocks) <= 50


def test_every_review_post_carries_the_language(shipped_policy: Policy) -> None:
    """The SLA re-post and the escalation reuse review_message: the warning variant shows the language too."""
    _, blocks = review_message(german(), shipped_policy.workflows[WORKFLOW], None, warning="The ticket changed")

    assert any(t.startswith("Language: German (de)") for t in texts(blocks))
