"""TriageFunction: TicketEvents from TriageQueue → guarded decisions → ActionsQueue / ExceptionQueue."""

from __future__ import annotations

from typing import Any

import msgspec
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.claude import ClaudeModel
from triage_gate.adapters.control_table import (
    DynamoBreakerStore,
    DynamoBudgetStore,
    DynamoExampleStore,
    DynamoTicketClaims,
)
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.flag_stores import FileFlagStore, appconfig_store
from triage_gate.adapters.language_detector import FastTextLanguageDetector
from triage_gate.adapters.local_models import LocalModelCache
from triage_gate.adapters.sqs_queue import SqsMessageQueue
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.compose.common import Lazy, vendor_secrets
from triage_gate.compose.sqs import SqsRecord, parse_message, sqs_batch
from triage_gate.config import TriageSettings
from triage_gate.messages import TicketEvent
from triage_gate.observability import count, logger
from triage_gate.policy import load_policy
from triage_gate.rollout import FlagRollout, PolicyRollout, Rollout
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.service import TriageOutcome, TriageService
from triage_gate.triage.telemetry import flags_unavailable, record_outcome


class NotEnoughTime(Exception):
    """Too little of the invocation is left to finish a record; it goes back to the queue."""


class Triage(msgspec.Struct, frozen=True):
    service: TriageService
    min_remaining_ms: int


def build(settings: TriageSettings | None = None, aws: AwsClients | None = None) -> Triage:
    settings = settings or TriageSettings.from_env()
    aws = aws or AwsClients()
    policy = load_policy(settings.policy_path)
    secrets = vendor_secrets(settings, aws=aws)
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    deps = TriageDeps(
        policy=policy,
        context=VendorContext(
            secrets, zendesk_base_url=settings.zendesk_base_url, hubspot_base_url=settings.hubspot_base_url
        ),
        remote=ClaudeModel(secrets, policy.prices, settings.anthropic_base_url),
        local=LocalModelCache(),
        languages=FastTextLanguageDetector(),
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
    return Triage(TriageService(deps), settings.min_remaining_ms)


def rollout(settings: TriageSettings) -> Rollout:
    """Flags from a file (local), AppConfig (deployed), or none: the policy file's modes."""
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


def process_record(body: str, triage: Triage, remaining_ms: int) -> TriageOutcome:
    event = parse_message(TicketEvent.from_json, body, "TriageQueue", "TicketEvent")
    logger.set_correlation_id(event.correlation_id)
    if remaining_ms < triage.min_remaining_ms:
        count("RecordsDeferred", Source=event.source)
        raise NotEnoughTime(f"{remaining_ms} ms left")
    outcome = triage.service.process(event)
    record_outcome(event, outcome)
    return outcome


def handle_batch(event: dict[str, Any], context: LambdaContext, triage: Lazy[Triage]) -> dict[str, Any]:
    count("TriageBatches")

    def record_handler(record: SqsRecord) -> None:
        process_record(record.body, triage.get(), context.get_remaining_time_in_millis())

    return sqs_batch(event, context, record_handler)
