"""Block Kit for review messages: what the reviewer needs to decide in one click, nothing more.

Slack's mrkdwn treats &, < and > as control characters (`<!channel>`, `<https://…|text>`, `<@U…>`): every
string that is not ours (subject, excerpt, context facts, labels, names, the warning) goes through
``mrkdwn_escape`` (or ``mrkdwn_clip``) before it is placed in mrkdwn text, the notification text included, so
a reviewer sees it as text, never as a mention or a disguised link. plain_text fields are not parsed by
Slack; they are only clipped to their limits.
"""

from __future__ import annotations

from typing import Any

from triage_gate.policy import Workflow
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord

EXCERPT_CHARS = 600
SUBJECT_CHARS = 200  # escaped: the subject line and the quoted excerpt share one 3,000-char section
QUOTE_CHARS = 2790
FACTS_CHARS = 2900


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
    blocks: list[dict[str, Any]] = [
        _section(f"*Review needed* · {ticket} · {mrkdwn_escape(record.workflow)}"),
        _section(f"*{mrkdwn_clip(record.subject or '(no subject)', SUBJECT_CHARS)}*\n>{_excerpt(record.input_text)}"),
        _section(f"*Proposed*\n{_proposed(record)}"),
        _section(f"*Why a human*\n{_why(record)}"),
    ]
    facts = [f"{k}: {v}" for k, v in record.context_fields.items() if not k.endswith((".description", ".content"))]
    if facts:
        blocks.append({"type": "context", "elements": [_mrkdwn(mrkdwn_clip(" · ".join(facts), FACTS_CHARS))]})
    if warning:
        blocks.append(_section(f":warning: {mrkdwn_clip(warning, 2900)}"))
    blocks.append(_selects(record, workflow))
    blocks.append(_buttons(record, forced=warning is not None))
    return text, blocks


def resolved_message(record: DecisionRecord, review: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    what = mrkdwn_escape(_outcome(review))
    reviewer = mrkdwn_escape(review.get("reviewer_name") or review["reviewer"])
    text = f"{mrkdwn_escape(f'{record.source} ticket {record.ticket_id}')}: {what} by {reviewer}"
    headline = (
        f":white_check_mark: *{mrkdwn_escape(f'{record.source} #{record.ticket_id}')}* {what}"
        f" by {user_mention(review['reviewer'])}"
    )
    when = mrkdwn_escape(
        f"{review['resolved_at']} · {review['time_to_review_s']:.0f} s after it was posted"
        f" · decision `{record.decision_id[-24:]}`"
    )
    return text, [_section(_clip_escaped(headline, 3000)), {"type": "context", "elements": [_mrkdwn(when)]}]


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


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _selects(record: DecisionRecord, workflow: Workflow) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for task, spec in list(workflow.tasks.items())[:3]:
        elements.append(
            {
                "type": "static_select",
                "action_id": f"label:{task}",
                "placeholder": {"type": "plain_text", "text": f"Correct {task}"[:150]},
                "options": [_option(label, f"{task}={label}") for label in list(spec.labels)[:100]],
            }
        )
    elements.append(
        {
            "type": "static_select",
            "action_id": "reason",
            "placeholder": {"type": "plain_text", "text": "Why (for a correction)"},
            "options": [_option(text, code) for code, text in CORRECTION_REASONS.items()],
        }
    )
    return {"type": "actions", "block_id": "review_choices", "elements": elements[:5]}


def _buttons(record: DecisionRecord, *, forced: bool) -> dict[str, Any]:
    suffix = "_anyway" if forced else ""
    value = record.decision_id
    return {
        "type": "actions",
        "block_id": "review_buttons",
        "elements": [
            {"type": "button", "action_id": f"approve{suffix}", "style": "primary", "value": value,
             "text": {"type": "plain_text", "text": "Approve anyway" if forced else "Approve"}},
            {"type": "button", "action_id": f"correct{suffix}", "value": value,
             "text": {"type": "plain_text", "text": "Correct anyway" if forced else "Correct"}},
            {"type": "button", "action_id": "escalate", "style": "danger", "value": value,
             "text": {"type": "plain_text", "text": "Escalate"}},
        ],
    }  # fmt: skip


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value[:150]}


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
