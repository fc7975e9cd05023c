"""The composition root: the one place that picks adapters for the domain services."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from triage_gate.config import SecretSettings, ingest_settings
from triage_gate.intake.service import IntakeService
from triage_gate.ports import SecretsProvider

if TYPE_CHECKING:
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.slack_client import SlackWebClient
    from triage_gate.config import TriageSettings
    from triage_gate.policy import Policy
    from triage_gate.review.service import ReviewBacklog, ReviewDesk, ReviewWorker
    from triage_gate.rollout import Rollout
    from triage_gate.triage.service import TriageService
    from triage_gate.writeback.ports import VendorWriter
    from triage_gate.writeback.service import WritebackService

# Calls made before the 2xx must fit the vendors' ack windows (HubSpot: 5 s).
FAST = {"connect_timeout": 1.0, "read_timeout": 2.0}


@lru_cache(maxsize=1)
def intake_service() -> IntakeService:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.dedupe_table import DynamoDedupeStore
    from triage_gate.adapters.sqs_queue import SqsEventQueue

    settings = ingest_settings()
    dedupe = DynamoDedupeStore(
        settings.dedupe_table_name,
        client("dynamodb", **FAST),
        ttl_seconds=settings.dedupe_ttl_seconds,
        lease_seconds=settings.dedupe_lease_seconds,
    )
    queue = SqsEventQueue(settings.triage_queue_url, client("sqs", **FAST))
    return IntakeService(settings, vendor_secrets(), dedupe, queue)


@lru_cache(maxsize=1)
def vendor_secrets() -> SecretsProvider:
    from triage_gate.adapters.secrets import EnvironmentSecrets, SecretsManagerSecrets

    settings = SecretSettings.from_env()
    if settings.triage_secret_id:
        return SecretsManagerSecrets(settings.triage_secret_id, max_age_seconds=settings.secrets_max_age_seconds)
    return EnvironmentSecrets()


@lru_cache(maxsize=1)
def triage_service() -> TriageService:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.claude import ClaudeModel
    from triage_gate.adapters.control_table import (
        DynamoBreakerStore,
        DynamoBudgetStore,
        DynamoExampleStore,
        DynamoTicketClaims,
    )
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.local_models import LocalModelCache
    from triage_gate.adapters.sqs_queue import SqsMessageQueue
    from triage_gate.config import triage_settings
    from triage_gate.policy import cached_policy
    from triage_gate.triage.endpoint import flags_unavailable
    from triage_gate.triage.service import TriageDeps, TriageService

    settings = triage_settings()
    policy = cached_policy(settings.policy_path)
    secrets = vendor_secrets()
    ddb, sqs = client("dynamodb"), client("sqs")
    from triage_gate.adapters.vendor_context import VendorContext

    return TriageService(
        TriageDeps(
            policy=policy,
            context=VendorContext(
                secrets, zendesk_base_url=settings.zendesk_base_url, hubspot_base_url=settings.hubspot_base_url
            ),
            remote=ClaudeModel(secrets, policy.prices, settings.anthropic_base_url),
            local=LocalModelCache(),
            breakers=DynamoBreakerStore(settings.control_table_name, ddb),
            budgets=DynamoBudgetStore(settings.control_table_name, ddb),
            decisions=DynamoDecisionStore(settings.decisions_table_name, ddb),
            actions=SqsMessageQueue(settings.actions_queue_url, sqs),
            exceptions=SqsMessageQueue(settings.exception_queue_url, sqs),
            claims=DynamoTicketClaims(settings.control_table_name, ddb),
            rollout=rollout(settings),
            on_flags_unavailable=flags_unavailable,
            examples=DynamoExampleStore(settings.control_table_name, ddb),
        )
    )


def rollout(settings: TriageSettings) -> Rollout:
    from triage_gate.adapters.flag_stores import FileFlagStore, appconfig_store
    from triage_gate.rollout import FlagRollout, PolicyRollout

    if settings.flags_file:
        return FlagRollout(FileFlagStore(settings.flags_file, max_age=min(5, settings.flags_max_age_seconds)))
    if settings.appconfig_application and settings.appconfig_environment and settings.appconfig_profile:
        store = appconfig_store(
            settings.appconfig_application,
            settings.appconfig_environment,
            settings.appconfig_profile,
            settings.flags_max_age_seconds,
        )
        return FlagRollout(store)
    return PolicyRollout()


@lru_cache(maxsize=1)
def writeback_service() -> WritebackService:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.vendor_writers import HubSpotWriter, ZendeskWriter
    from triage_gate.config import writeback_settings
    from triage_gate.policy import cached_policy
    from triage_gate.writeback.service import WritebackService

    settings = writeback_settings()
    secrets = vendor_secrets()
    writers: dict[str, VendorWriter] = {
        "zendesk": ZendeskWriter(secrets, settings.zendesk_base_url),
        "hubspot": HubSpotWriter(secrets, settings.hubspot_base_url),
    }
    ledger = DynamoDecisionStore(settings.decisions_table_name, client("dynamodb"))
    return WritebackService(cached_policy(settings.policy_path), writers, ledger)


@lru_cache(maxsize=1)
def review_desk() -> ReviewDesk:
    """The ack path of Slack interactions: a DynamoDB conditional write and an SQS send, nothing else."""
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.sqs_queue import SqsMessageQueue
    from triage_gate.config import review_settings
    from triage_gate.review.service import ReviewDesk

    settings = review_settings()
    ledger = DynamoDecisionStore(settings.decisions_table_name, client("dynamodb", **FAST))
    return ReviewDesk(ledger, SqsMessageQueue(settings.exception_queue_url, client("sqs", **FAST)))


@lru_cache(maxsize=1)
def review_worker() -> ReviewWorker:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.control_table import DynamoExampleStore
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.slack_client import SlackWebClient
    from triage_gate.adapters.sqs_queue import SqsMessageQueue
    from triage_gate.adapters.vendor_context import VendorContext
    from triage_gate.config import review_settings
    from triage_gate.policy import cached_policy
    from triage_gate.review.service import ReviewWorker

    settings = review_settings()
    secrets = vendor_secrets()
    if not settings.actions_queue_url:
        from triage_gate.errors import ConfigurationError

        raise ConfigurationError("ACTIONS_QUEUE_URL is required to apply reviewed decisions")
    return ReviewWorker(
        policy=cached_policy(settings.policy_path),
        ledger=DynamoDecisionStore(settings.decisions_table_name, client("dynamodb")),
        slack=SlackWebClient(secrets, settings.slack_api_url),
        actions=SqsMessageQueue(settings.actions_queue_url, client("sqs")),
        context=VendorContext(
            secrets, zendesk_base_url=settings.zendesk_base_url, hubspot_base_url=settings.hubspot_base_url
        ),
        zendesk_base_url=settings.zendesk_base_url,
        examples=DynamoExampleStore(settings.control_table_name, client("dynamodb"))
        if settings.control_table_name
        else None,
    )


@lru_cache(maxsize=1)
def review_backlog() -> ReviewBacklog:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.slack_client import SlackWebClient
    from triage_gate.config import review_settings
    from triage_gate.policy import cached_policy
    from triage_gate.review.service import ReviewBacklog

    settings = review_settings()
    return ReviewBacklog(
        policy=cached_policy(settings.policy_path),
        ledger=DynamoDecisionStore(settings.decisions_table_name, client("dynamodb")),
        slack=SlackWebClient(vendor_secrets(), settings.slack_api_url),
        zendesk_base_url=settings.zendesk_base_url,
    )


def roi_digest_parts() -> tuple[Policy, DynamoDecisionStore, SlackWebClient]:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.decisions_table import DynamoDecisionStore
    from triage_gate.adapters.slack_client import SlackWebClient
    from triage_gate.config import review_settings
    from triage_gate.policy import cached_policy

    settings = review_settings()
    store = DynamoDecisionStore(settings.decisions_table_name, client("dynamodb", read_timeout=30.0))
    return cached_policy(settings.policy_path), store, SlackWebClient(vendor_secrets(), settings.slack_api_url)
