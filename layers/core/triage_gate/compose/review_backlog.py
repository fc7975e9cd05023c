"""ReviewBacklogFunction (every 5 minutes): pending reviews and the oldest one's age per workflow; overdue
cases are re-posted once, mentioning the escalation group. Nothing is ever auto-approved."""

from __future__ import annotations

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.compose.common import vendor_secrets
from triage_gate.config import ReviewBacklogSettings
from triage_gate.observability import MetricUnit, count, logger, measure
from triage_gate.policy import load_policy
from triage_gate.review.service import ReviewBacklog


def build(settings: ReviewBacklogSettings | None = None, aws: AwsClients | None = None) -> ReviewBacklog:
    settings = settings or ReviewBacklogSettings.from_env()
    aws = aws or AwsClients()
    return ReviewBacklog(
        policy=load_policy(settings.policy_path),
        ledger=DynamoDecisionStore(settings.decisions_table_name, aws.client("dynamodb")),
        slack=SlackWebClient(vendor_secrets(settings, aws=aws), settings.slack_api_url),
        zendesk_base_url=settings.zendesk_base_url,
    )


def run(backlog: ReviewBacklog) -> dict[str, dict[str, float]]:
    count("BacklogRuns")
    stats = backlog.run()
    for workflow, entry in stats.items():
        measure("PendingReviews", entry["pending"], MetricUnit.Count, Workflow=workflow)
        measure("OldestPendingReviewAge", entry["oldest_minutes"], MetricUnit.NoUnit, Workflow=workflow)
    logger.info("review backlog", stats=stats)
    return stats
