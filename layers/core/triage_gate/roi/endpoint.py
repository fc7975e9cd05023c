"""The weekly ROI digest: the report's numbers, posted to each workflow's Slack channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from triage_gate.observability import count, logger


def run_digest(now: datetime | None = None, days: int = 7) -> dict[str, Any]:
    from triage_gate.roi.maths import totals, weekly
    from triage_gate.roi.render import slack_digest
    from triage_gate.wiring import roi_digest_parts

    policy, store, slack = roi_digest_parts()
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    records = [r for r in store.scan() if r.created_at >= since]
    baselines = {name: wf.roi_baseline for name, wf in policy.workflows.items()}
    stats = weekly(records, baselines, since=since, until=now, workflow=None)
    summary = totals(stats)
    posted = {}
    for name, workflow in policy.workflows.items():
        text, blocks = slack_digest(summary, stats, workflow=name, period=f"the last {days} days")
        channel, ts = slack.post(workflow.review.channel, text, blocks)
        posted[name] = {"channel": channel, "ts": ts}
        count("DigestsPosted", Workflow=name)
    logger.info("roi digest posted", workflows=sorted(posted), decisions=len(records))
    return {"posted": posted, "decisions": len(records)}
