"""RoiDigestFunction (weekly): turnaround, hours recovered, rework and escalations to each workflow's channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.compose.common import vendor_secrets
from triage_gate.config import RoiDigestSettings
from triage_gate.observability import count, logger
from triage_gate.policy import Policy, load_policy
from triage_gate.roi.digest import slack_digest
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly


@dataclass(frozen=True)
class RoiDigest:
    policy: Policy
    decisions: DynamoDecisionStore
    slack: SlackWebClient


def build(settings: RoiDigestSettings | None = None, aws: AwsClients | None = None) -> RoiDigest:
    settings = settings or RoiDigestSettings.from_env()
    aws = aws or AwsClients()
    store = DynamoDecisionStore(settings.decisions_table_name, aws.client("dynamodb", read_timeout=30.0))
    slack = SlackWebClient(vendor_secrets(settings), settings.slack_api_url)
    return RoiDigest(load_policy(settings.policy_path), store, slack)


def run(digest: RoiDigest, now: datetime | None = None, days: int = 7) -> dict[str, Any]:
    count("DigestRuns")
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    records = [r for r in digest.decisions.scan() if r.created_at >= since]
    baselines = {name: wf.roi_baseline for name, wf in digest.policy.workflows.items()}
    stats = weekly(records, baselines, since=since, until=now, workflow=None)
    summary = totals(stats)
    posted = {}
    for name, workflow in digest.policy.workflows.items():
        text, blocks = slack_digest(summary, stats, workflow=name, period=f"the last {days} days")
        channel, ts = digest.slack.post(workflow.review.channel, text, blocks)
        posted[name] = {"channel": channel, "ts": ts}
        count("DigestsPosted", Workflow=name)
    logger.info("roi digest posted", workflows=sorted(posted), decisions=len(records))
    return {"posted": posted, "decisions": len(records)}
