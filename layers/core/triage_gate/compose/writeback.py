"""WritebackFunction: ActionsQueue → Zendesk / HubSpot updates, once, with the outcome on the decision."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.sqs_queue import SqsRequeue
from triage_gate.adapters.vendor_writers import HubSpotWriter, ZendeskWriter
from triage_gate.compose.common import Lazy, vendor_secrets
from triage_gate.compose.sqs import SqsRecord, parse_message, sqs_batch
from triage_gate.config import WritebackSettings
from triage_gate.errors import RateLimited
from triage_gate.messages import DecisionMessage
from triage_gate.observability import count, logger
from triage_gate.policy import load_policy
from triage_gate.writeback.ports import VendorWriter
from triage_gate.writeback.service import WritebackOutcome, WritebackService
from triage_gate.writeback.telemetry import record_outcome

# Vendor calls stop this long before the Lambda deadline, leaving time to record the outcome.
DEADLINE_MARGIN_MS = 5_000


class Writeback(msgspec.Struct, frozen=True):
    service: WritebackService
    requeue: SqsRequeue  # a vendor 429 puts the action back for exactly its Retry-After


def build(settings: WritebackSettings | None = None, aws: AwsClients | None = None) -> Writeback:
    settings = settings or WritebackSettings.from_env()
    aws = aws or AwsClients()
    secrets = vendor_secrets(settings, aws=aws)
    writers: dict[str, VendorWriter] = {
        "zendesk": ZendeskWriter(secrets, settings.zendesk_base_url),
        "hubspot": HubSpotWriter(secrets, settings.hubspot_base_url),
    }
    ledger = DynamoDecisionStore(settings.decisions_table_name, aws.client("dynamodb"))
    service = WritebackService(load_policy(settings.policy_path), writers, ledger)
    return Writeback(service, SqsRequeue(settings.actions_queue_url, aws.client("sqs")))


def process_action(body: str, writeback: Writeback, remaining_ms: int) -> WritebackOutcome:
    message = parse_message(DecisionMessage.from_json, body, "ActionsQueue", "DecisionMessage")
    logger.set_correlation_id(message.correlation_id)
    deadline = time.monotonic() + max(0, remaining_ms - DEADLINE_MARGIN_MS) / 1000
    try:
        outcome = writeback.service.process(message, deadline)
    except RateLimited as exc:
        count("WritebackRateLimited", Source=message.source)
        logger.warning("vendor rate limit; the action goes back to the queue", retry_after=exc.retry_after)
        raise
    except Exception:
        count("WritebackFailures", Workflow=message.workflow, Reason="transient")
        raise
    record_outcome(message, outcome)
    return outcome


def handle_batch(event: dict[str, Any], context: LambdaContext, writeback: Lazy[Writeback]) -> dict[str, Any]:
    """A vendor 429 whose Retry-After does not fit in the time left puts the record back for exactly that
    long (a visibility change) and reports it as a partial failure; nothing sleeps past the deadline."""

    def record_handler(record: SqsRecord) -> None:
        built = writeback.get()
        try:
            process_action(record.body, built, context.get_remaining_time_in_millis())
        except RateLimited as exc:
            built.requeue.later(record.receipt_handle, exc.retry_after)
            raise

    return sqs_batch(event, context, record_handler)
