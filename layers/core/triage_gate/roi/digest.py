"""The weekly ROI digest that RoiDigestFunction posts to each workflow's review channel: Slack Block Kit.

It reads the figures of :func:`triage_gate.roi.weeks.weekly` and :func:`triage_gate.roi.totals.totals`, the
same ones ``triage report`` shows. Standard library only. Every piece of text in it escapes ``&``, ``<`` and
``>`` the way Slack asks; reviewer ids that look like Slack user ids become mentions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from triage_gate.display import duration, hours, integer, percent, ranked_counts, text_table, usd, versus
from triage_gate.roi.totals import WorkflowTotals
from triage_gate.roi.weeks import WeekStats
from triage_gate.rollout_gate import recommend
from triage_gate.rollout_status import SegmentStatus, WorkflowRollout

__all__ = ["slack_digest"]

# Slack limits (https://api.slack.com/reference/block-kit/blocks).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_FIELD_TEXT = 2000
SLACK_MAX_FIELDS = 10
SLACK_MAX_HEADER_TEXT = 150
_DIGEST_WEEKS = 8
_DIGEST_REASONS = 5
_TOP_REVIEWERS = 10
_USD_DIGITS = 4


def _usd(value: object) -> str:
    return usd(value, _USD_DIGITS)


def _slack(text: object) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SLACK_MAX_SECTION_TEXT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SLACK_MAX_SECTION_TEXT)}]}


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def _mention(user: str) -> str:
    return f"<@{user}>" if _SLACK_USER.fullmatch(user) else _slack(user)


def _digest_table(weeks: Sequence[WeekStats]) -> str:
    """The last weeks as a code block that fits one section."""
    header = ["week", "dec", "auto", "rev", "esc", "p50", "hours", "rework"]
    rows = [
        [w.week, integer(w.decisions), integer(w.auto_applied), integer(w.applied_after_review),
         integer(w.escalated), duration(w.turnaround_p50_min), hours(w.hours_recovered), percent(w.rework_rate)]
        for w in weeks[-_DIGEST_WEEKS:]
    ]  # fmt: skip
    lines = text_table(header, rows)
    while len(lines) > 1 and len(_slack("\n".join(lines))) > SLACK_MAX_SECTION_TEXT - 40:
        lines.pop(1)  # drop the oldest week first
    return "*Week by week*\n```" + _slack("\n".join(lines)) + "```"


def _segment_line(rollout: WorkflowRollout, item: SegmentStatus) -> str:
    """``• `default` shadow, 412 decisions, agreement 96.0% (lower bound 93.2%): *hold* (…)``."""
    evidence, segment = item.evidence, item.segment
    measures = evidence.measures(rollout.z)
    share = f" {segment.share:g}%" if segment.share is not None else ""
    facts = [f"{segment.mode or 'retired'}{share}", f"{integer(evidence.decisions)} decisions"]
    if evidence.shadow_findings:
        agreement, lower = percent(measures["shadow_agreement"]), percent(measures["shadow_agreement_lower"])
        facts.append(f"agreement {agreement} (lower bound {lower})")
    if evidence.applied:
        facts.append(f"precision {percent(measures['precision'])} (lower bound {percent(measures['precision_lower'])})")
    advice = recommend(rollout, item)
    why = f" ({_slack(advice.reasons[0])})" if advice.reasons else ""
    command = f"\n    `{_slack(advice.command)}`" if advice.command else ""
    return f"• `{_slack(segment.label)}` {_slack(', '.join(facts))}: *{_slack(advice.summary())}*{why}{command}"


def _rollout_section(rollout: WorkflowRollout | None, problem: str | None) -> dict[str, Any] | None:
    if problem is not None:
        return _section(f"*Rollout*\n{_slack(problem)}")
    if rollout is None:
        return None
    review = rollout.review
    misses = percent(review.measures(rollout.z)["sla_miss_rate"])
    lines = [_segment_line(rollout, item) for item in rollout.segments]
    window = rollout.workflow.promotion.window_days
    head = (
        f"*Rollout* (last {window} days, against {percent(rollout.bar)} precision): {review.reviews_pending} reviews"
        f" waiting, SLA misses {misses}"
    )
    return _section("\n".join([head, *lines]))


def slack_digest(
    totals: Mapping[str, WorkflowTotals],
    stats: Sequence[WeekStats],
    *,
    workflow: str,
    period: str,
    rollout: WorkflowRollout | None = None,
    rollout_problem: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """(notification text, Block Kit blocks) of one workflow's weekly ROI digest, with its rollout segments and
    what each should do next when ``rollout`` is given (or why the flags could not be read: ``rollout_problem``).

    At most :data:`SLACK_MAX_BLOCKS` blocks, section texts within :data:`SLACK_MAX_SECTION_TEXT` characters
    and fields within Slack's limits; workflow names, reason codes and the period are escaped; reviewer ids
    that look like Slack user ids become mentions.
    """
    total = totals.get(workflow)
    weeks = [s for s in sorted(stats, key=lambda s: s.week) if s.workflow == workflow]
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(f"Triage ROI: {workflow}", SLACK_MAX_HEADER_TEXT)},
    }
    rollout_block = _rollout_section(rollout, rollout_problem)
    if total is None or not total["decisions"]:
        text = f"Triage Gate ROI for {_slack(workflow)} ({_slack(period)}): no decisions."
        empty = [header, _section(f"No triage decisions for *{_slack(workflow)}* in {_slack(period)}.")]
        return text, [*empty, *([rollout_block] if rollout_block else [])]

    recovered, rework = hours(total["hours_recovered"]), percent(total["rework_rate"])
    turnaround = versus(duration(total["turnaround_p50_min"]), duration(total["baseline_turnaround_min"]))
    text = _clip(
        f"Triage Gate ROI for {_slack(workflow)} ({_slack(period)}): {integer(total['decisions'])} decisions, "
        f"{integer(total['auto_applied'])} auto-applied, {recovered} recovered, turnaround p50 {turnaround}, "
        f"rework {versus(rework, percent(total['baseline_error_rate']))}.",
        SLACK_MAX_SECTION_TEXT,
    )
    fields = [
        f"*Decisions*\n{integer(total['decisions'])} on {integer(total['tickets'])} tickets",
        f"*Auto-applied*\n{integer(total['auto_applied'])} ({percent(total['auto_rate'])})",
        f"*Applied after review*\n{integer(total['applied_after_review'])} ({integer(total['corrections'])} corrected)",
        f"*Escalated or pending*\n{integer(total['escalated'])}",
        f"*Turnaround p50*\n{turnaround} before",
        f"*Hours recovered*\n{recovered} (review time {hours(total['review_hours'])})",
        f"*Rework*\n{versus(rework, percent(total['baseline_error_rate']))} before",
        f"*Cost per ticket*\n{_usd(total['cost_per_ticket'])} ({_usd(total['cost_usd'])} total)",
    ]
    if total["shadow"]:
        fields.append(f"*Shadow*\n{integer(total['shadow'])} decisions, agreement {percent(total['shadow_agreement'])}")
    weeks_span = f"ISO weeks {_slack(total['first_week'])} to {_slack(total['last_week'])}"
    blocks: list[dict[str, Any]] = [
        header,
        _context(f"*{_slack(workflow)}* · {_slack(period)} · {weeks_span}"),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": _clip(f, SLACK_MAX_FIELD_TEXT)} for f in fields[:SLACK_MAX_FIELDS]],
        },
    ]
    if weeks:
        blocks.append(_section(_digest_table(weeks)))
    reasons = ranked_counts(total["escalations_by_reason"])
    if reasons:
        lines = [f"• `{_slack(code)}`: {count}" for code, count in reasons[:_DIGEST_REASONS]]
        if len(reasons) > _DIGEST_REASONS:
            lines.append(f"… and {len(reasons) - _DIGEST_REASONS} more reason codes")
        blocks.append(_section("*Top escalation reasons*\n" + "\n".join(lines)))
    reviewers = ranked_counts(total["reviewer_throughput"])
    if reviewers:
        lines = [f"• {_mention(who)}: {count}" for who, count in reviewers[:_TOP_REVIEWERS]]
        if len(reviewers) > _TOP_REVIEWERS:
            lines.append(f"… and {len(reviewers) - _TOP_REVIEWERS} more reviewers")
        blocks.append(_section("*Reviews per reviewer*\n" + "\n".join(lines)))
    if rollout_block:
        blocks.append(rollout_block)
    blocks.append(
        _context(
            "Hours recovered = auto-applied x baseline manual minutes - review time. "
            "Rework = (corrections + overrides) / applied."
        )
    )
    return text, blocks[:SLACK_MAX_BLOCKS]
