"""RoiDigestFunction (weekly): turnaround, hours recovered, rework and escalations to each workflow's channel,
with the rollout state of each segment and what it should do next (the promotion gate's recommendation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import ConfigurationStoreError

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.flag_stores import FileFlagStore, appconfig_store
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.compose.common import vendor_secrets
from triage_gate.config import FlagsLocation, RoiDigestSettings
from triage_gate.observability import count, logger
from triage_gate.policy import Policy, load_policy
from triage_gate.roi.digest import slack_digest
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly
from triage_gate.rollout_status import RolloutStatus, status
from triage_gate.triage.decision import DecisionRecord


class RoiDigest(msgspec.Struct, frozen=True):
    policy: Policy
    decisions: DynamoDecisionStore
    slack: SlackWebClient
    flags: StoreProvider | None = None  # None: no flags, every workflow in its policy mode


def build(settings: RoiDigestSettings | None = None, aws: AwsClients | None = None) -> RoiDigest:
    settings = settings or RoiDigestSettings.from_env()
    aws = aws or AwsClients()
    store = DynamoDecisionStore(settings.decisions_table_name, aws.client("dynamodb", read_timeout=30.0))
    slack = SlackWebClient(vendor_secrets(settings, aws=aws), settings.slack_api_url)
    return RoiDigest(load_policy(settings.policy_path), store, slack, flags_store(settings))


def flags_store(settings: FlagsLocation) -> StoreProvider | None:
    """The rollout flags the triage function reads: a local file, AppConfig, or none."""
    if settings.flags_file:
        return FileFlagStore(settings.flags_file, max_age=0)
    if settings.appconfig_application and settings.appconfig_environment and settings.appconfig_profile:
        return appconfig_store(
            settings.appconfig_application,
            settings.appconfig_environment,
            settings.appconfig_profile,
            settings.flags_max_age_seconds,
        )
    return None


def _rollout(
    digest: RoiDigest, records: list[DecisionRecord], now: datetime
) -> tuple[RolloutStatus | None, str | None]:
    """Each workflow's rollout evidence, or why the flags could not be read (the digest still goes out)."""
    try:
        document = digest.flags.get_configuration() if digest.flags is not None else {}
    except ConfigurationStoreError as exc:
        count("FlagsUnavailable")  # the same alarm as the triage function failing closed
        logger.warning("rollout flags unavailable for the digest", error=str(exc))
        return None, f"the rollout flags could not be read: {exc}"
    return status(records, digest.policy, document, now), None


def run(digest: RoiDigest, now: datetime | None = None, days: int = 7) -> dict[str, Any]:
    count("DigestRuns")
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    everything = digest.decisions.scan()
    records = [r for r in everything if r.created_at >= since]
    baselines = {name: wf.roi_baseline for name, wf in digest.policy.workflows.items()}
    stats = weekly(records, baselines, since=since, until=now, workflow=None)
    summary = totals(stats)
    rollout, rollout_problem = _rollout(digest, everything, now)
    posted = {}
    for name, workflow in digest.policy.workflows.items():
        text, blocks = slack_digest(
            summary, stats, workflow=name, period=f"the last {days} days",
            rollout=rollout.workflows.get(name) if rollout else None, rollout_problem=rollout_problem,
        )  # fmt: skip
        channel, ts = digest.slack.post(workflow.review.channel, text, blocks)
        posted[name] = {"channel": channel, "ts": ts}
        count("DigestsPosted", Workflow=name)
    logger.info("roi digest posted", workflows=sorted(posted), decisions=len(records))
    return {"posted": posted, "decisions": len(records)}
