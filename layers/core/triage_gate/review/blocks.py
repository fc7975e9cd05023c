"""Block Kit for review messages: what the reviewer needs to decide in one click, nothing more.

Slack's mrkdwn treats &, < and > as control characters (`<!channel>`, `<https://…|text>`, `<@U…>`): every
string that is not ours (subject, excerpt, context facts, labels, names, the warning) goes through
``mrkdwn_escape`` (or ``mrkdwn_clip``) before it is placed in mrkdwn text, the notification text included, so
a reviewer sees it as text, never as a mention or a disguised link. plain_text fields are not parsed by
Slack; they are only clipped to their limits.

Every block is built by ``triage_gate.review.block_kit``, which checks Block Kit's limits (section text 3,000,
button text 75 and value 2,000, option text 75 and value 150, select placeholder 150 and 100 options, action_id
and block_id 255) as it builds: a message that would break one raises ``BlockKitLimitError`` here instead of
being refused by Slack (``invalid_blocks``). What we can shorten without changing its meaning is clipped first;
identifiers (a button's decision id) are never clipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage_gate.policy import Workflow
from triage_gate.review import block_kit
from triage_gate.review.block_kit import Json, context, section
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord, LanguageFacts, ReviewerGist, Signals
from triage_gate.triage.language import language_name

EXCERPT_CHARS = 600
SUBJECT_CHARS = 200  # escaped: the subject line and the quoted excerpt share one 3,000-char section
QUOTE_CHARS = 2790
FACTS_CHARS = 2900
LIST_CHARS = 2900  # the proposed labels, the reason codes: short lists, clipped only as a safety net
SECTION_CHARS = block_kit.SECTION_TEXT_MAX  # 3,000
MAX_LABEL_SELECTS = 3  # + the reason select: within the 5 elements an actions block held in older clients
MAX_OPTIONS = block_kit.OPTIONS_MAX  # 100
GIST_MODEL_CHARS = 100  # the model's name in the gist's heading
GIST_CHARS = 2700  # the gist itself, escaped and quoted, after its heading (≤ 200 chars) in one section


def mrkdwn_escape(text: object) -> str:
    """Text as Slack mrkdwn shows it literally: & → &amp;, < → &lt;, > → &gt; (the three control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_clip(text: object, limit: int) -> str:
    """Escaped, then clipped to ``limit`` characters without cutting an entity such as &amp; in half."""
    return _clip_escaped(mrkdwn_escape(text), limit)


def group_mention(group_id: str | None) -> str:
    """`<!subteam^S…> ` for the policy's Slack user-group id (validated by the policy), or nothing."""
    return f"<!subteam^{group_id}> " if group_id else ""


def user_mention(user_id: str) -> str:
    return f"<@{mrkdwn_escape(user_id)}>"


def ticket_url(record: DecisionRecord, zendesk_base: str | None, hubspot_portal_url: str | None) -> str | None:
    if record.source == "zendesk" and zendesk_base:
        return f"{zendesk_base.rstrip('/')}/agent/tickets/{record.ticket_id}"
    if record.source == "hubspot":
        return f"https://app.hubspot.com/contacts/{record.account_id}/ticket/{record.ticket_id}"
    return hubspot_portal_url


def review_message(
    record: DecisionRecord, workflow: Workflow, link: str | None, warning: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """(notification text, blocks) for a pending review."""
    name = mrkdwn_escape(f"{record.source} #{record.ticket_id}")
    ticket = f"<{link}|{name}>" if link else name
    text = mrkdwn_escape(f"Review needed: {record.source} ticket {record.ticket_id} ({record.workflow})")
    blocks: list[Json] = [
        section(f"*Review needed* · {ticket} · {mrkdwn_escape(record.workflow)}"),
        section(f"*{mrkdwn_clip(record.subject or '(no subject)', SUBJECT_CHARS)}*\n>{_excerpt(record.input_text)}"),
    ]
    if about := _about(record):
        blocks.insert(1, context(_clip_escaped(about, FACTS_CHARS)))
    if record.gist is not None:
        blocks.append(section(_gist(record.gist)))
    blocks += [
        section(f"*Proposed*\n{_clip_escaped(_proposed(record), LIST_CHARS)}"),
        section(f"*Why a human*\n{_clip_escaped(_why(record), LIST_CHARS)}"),
    ]
    facts = [f"{k}: {v}" for k, v in record.context_fields.items() if not k.endswith((".description", ".content"))]
    if facts:
        blocks.append(context(mrkdwn_clip(" · ".join(facts), FACTS_CHARS)))
    if warning:
        blocks.append(section(f":warning: {mrkdwn_clip(warning, 2900)}"))
    blocks.append(_selects(workflow))
    blocks.append(_buttons(record, forced=warning is not None))
    return text, blocks


def resolved_message(record: DecisionRecord, review: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    what = mrkdwn_escape(_outcome(review))
    reviewer = mrkdwn_escape(review.get("reviewer_name") or review["reviewer"])
    text = f"{mrkdwn_escape(f'{record.source} ticket {record.ticket_id}')}: {what} by {reviewer}"
    head = f":white_check_mark: *{mrkdwn_escape(f'{record.source} #{record.ticket_id}')}* "
    tail = f" by {user_mention(review['reviewer'])}"
    room = SECTION_CHARS - len(head) - len(tail)  # the outcome (labels can be long) gives way to the mention
    headline = head + _clip_escaped(what, room) + tail if room > 1 else head + what + tail
    when = mrkdwn_escape(
        f"{review['resolved_at']} · {review['time_to_review_s']:.0f} s after it was posted"
        f" · decision `{record.decision_id[-24:]}`"
    )
    return text, [section(_clip_escaped(headline, SECTION_CHARS)), context(_clip_escaped(when, 2900))]


def _outcome(review: dict[str, Any]) -> str:
    """What the reviewer did, in plain (unescaped) words."""
    verdict = review["verdict"]
    if verdict == "escalate":
        return f"escalated to {review.get('escalated_to')}"
    labels = ", ".join(f"{t} `{lbl}`" for t, lbl in review["labels"].items())
    if verdict == "approve":
        return f"approved {labels}"
    reason = review.get("reason") or ""
    return f"corrected to {labels} ({CORRECTION_REASONS.get(reason, reason)})"


def _about(record: DecisionRecord) -> str:
    """The ticket's language and its signals, escaped (the locale is the requester's: not ours)."""
    lines = [_language_line(record.language)] if record.language is not None else []
    if record.signals is not None and (signals := _signals_line(record.signals)):
        lines.append(signals)
    return "\n".join(lines)


def _language_line(language: LanguageFacts) -> str:
    """Language: German (de) · detected 0.98 · requester locale de-DE (or where it came from, when not detected)."""
    parts = [f"Language: {language_name(language.code)} ({language.code})"]
    if language.source == "detected":
        parts.append(f"detected {_pct(language.confidence)}")
    elif language.source == "locale":
        parts.append("from the requester's locale")
    else:
        parts.append("default (not detected, no usable requester locale)")
    if language.source != "detected" and language.detected:
        parts.append(f"detector unsure: {language.detected} {_pct(language.confidence)}")
    if language.locale:
        parts.append(f"requester locale {language.locale}")
    return mrkdwn_escape(" · ".join(parts))


def _signals_line(signals: Signals) -> str:
    parts = [f"Sentiment: {signals.sentiment}"] if signals.sentiment else []
    if signals.urgent is not None:
        parts.append(f"Urgent: {'yes' if signals.urgent else 'no'}")
    return mrkdwn_escape(" · ".join(parts))


def _gist(gist: ReviewerGist) -> str:
    """The gist under a heading that says it is machine-translated and by which model: escaped and quoted."""
    name, model = mrkdwn_escape(language_name(gist.language)), mrkdwn_clip(gist.model, GIST_MODEL_CHARS)
    heading = f"*{name} gist — machine-translated by {model}, not checked by a person:*"
    quoted = _clip_escaped(mrkdwn_escape(gist.text).replace("\n", "\n>"), GIST_CHARS)
    return f"{heading}\n>{quoted}"


def _proposed(record: DecisionRecord) -> str:
    return "\n".join(
        mrkdwn_escape(f"*{task}*: `{d.label}` ({_pct(d.calibrated_confidence)}, threshold {_pct(d.threshold)})")
        for task, d in record.tasks.items()
    )


def _why(record: DecisionRecord) -> str:
    lines = (mrkdwn_escape(f"• {reasons.DESCRIPTIONS.get(r, r)} (`{r}`)") for r in record.reason_codes)
    return "\n".join(lines) or "• none"


def _excerpt(input_text: str) -> str:
    """The masked text's start, escaped and quoted (each line starts with `>`), within the section's limit."""
    excerpt = input_text[:EXCERPT_CHARS] + ("…" if len(input_text) > EXCERPT_CHARS else "")
    return _clip_escaped(mrkdwn_escape(excerpt).replace("\n", "\n>"), QUOTE_CHARS)


def _selects(workflow: Workflow) -> Json:
    elements: list[Json] = []
    for task, spec in list(workflow.tasks.items())[:MAX_LABEL_SELECTS]:
        elements.append(
            block_kit.static_select(
                f"label:{task}",
                f"Correct {task}"[: block_kit.PLACEHOLDER_MAX],
                _options((label, f"{task}={label}") for label in spec.labels),
            )
        )
    reasons_select = _options((text, code) for code, text in CORRECTION_REASONS.items())
    elements.append(block_kit.static_select("reason", "Why (for a correction)", reasons_select))
    return block_kit.actions("review_choices", elements)


def _buttons(record: DecisionRecord, *, forced: bool) -> Json:
    suffix = "_anyway" if forced else ""
    value = record.decision_id  # an identifier: never clipped (over 2,000 chars, building the button raises)
    return block_kit.actions(
        "review_buttons",
        [
            block_kit.button(f"approve{suffix}", "Approve anyway" if forced else "Approve", value, style="primary"),
            block_kit.button(f"correct{suffix}", "Correct anyway" if forced else "Correct", value),
            block_kit.button("escalate", "Escalate", value, style="danger"),
        ],
    )


def _options(choices: Iterable[tuple[str, str]]) -> list[Json]:
    """(shown text, value) pairs as options: the text clipped to 75 characters; a value over 150 is left out
    (clipped, it would name another label, or none), and at most 100 options."""
    options = [
        block_kit.option(text[: block_kit.OPTION_TEXT_MAX], value)
        for text, value in choices
        if len(value) <= block_kit.OPTION_VALUE_MAX
    ]
    return options[:MAX_OPTIONS]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _clip_escaped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never leave half an entity ("&am…")
    return cut + "…"
