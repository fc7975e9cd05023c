"""Block Kit for review messages: what the reviewer needs to decide in one click, nothing more."""

from __future__ import annotations

from typing import Any

from triage_gate.policy import Workflow
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord

EXCERPT_CHARS = 600


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
    ticket = f"<{link}|{record.source} #{record.ticket_id}>" if link else f"{record.source} #{record.ticket_id}"
    text = f"Review needed: {record.source} ticket {record.ticket_id} ({record.workflow})"
    proposed = "\n".join(
        f"*{task}*: `{d.label}` ({_pct(d.calibrated_confidence)}, threshold {_pct(d.threshold)})"
        for task, d in record.tasks.items()
    )
    why = "\n".join(f"• {reasons.DESCRIPTIONS.get(r, r)} (`{r}`)" for r in record.reason_codes) or "• none"
    excerpt = record.input_text[:EXCERPT_CHARS] + ("…" if len(record.input_text) > EXCERPT_CHARS else "")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Review needed* · {ticket} · {record.workflow}"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{_clip(record.subject or '(no subject)', 200)}*\n>{_quote(excerpt)}"},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Proposed*\n{proposed}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Why a human*\n{why}"}},
    ]
    facts = [f"{k}: {v}" for k, v in record.context_fields.items() if not k.endswith((".description", ".content"))]
    if facts:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(" · ".join(facts), 2900)}]})
    if warning:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f":warning: {warning}"}})
    blocks.append(_selects(record, workflow))
    blocks.append(_buttons(record, forced=warning is not None))
    return text, blocks


def resolved_message(record: DecisionRecord, review: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    verdict = review["verdict"]
    who = f"<@{review['reviewer']}>"
    if verdict == "approve":
        what = "approved " + ", ".join(f"{t} `{lbl}`" for t, lbl in review["labels"].items())
    elif verdict == "correct":
        what = "corrected to " + ", ".join(f"{t} `{lbl}`" for t, lbl in review["labels"].items())
        what += f" ({CORRECTION_REASONS.get(review.get('reason') or '', review.get('reason'))})"
    else:
        what = f"escalated to {review.get('escalated_to')}"
    text = f"{record.source} ticket {record.ticket_id}: {what} by {review.get('reviewer_name') or review['reviewer']}"
    headline = f":white_check_mark: *{record.source} #{record.ticket_id}* {what} by {who}"
    when = (
        f"{review['resolved_at']} · {review['time_to_review_s']:.0f} s after it was posted"
        f" · decision `{record.decision_id[-24:]}`"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": when}]},
    ]
    return text, blocks


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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: str) -> str:
    return _clip(text.replace("\n", "\n>"), 2800)
