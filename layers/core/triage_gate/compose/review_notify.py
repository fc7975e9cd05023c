"""ReviewNotifyFunction: ExceptionQueue → Slack review messages, and reviewers' outcomes applied.

ExceptionQueue carries new review cases (DecisionMessage) and reviewers' clicks (ReviewJob), told apart
by `kind`. Slack failures follow the write-back discipline: a rate limit puts the record back for its
Retry-After, anything else is retried, then the DLQ (which alarms). A case is never lost to a Slack outage.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aws_lambda_powertools.utilities.typing import LambdaContext

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.control_table import DynamoExampleStore
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.adapters.sqs_queue import SqsMessageQueue, SqsRequeue
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.compose.common import Lazy, vendor_secrets
from triage_gate.compose.sqs import SqsRecord, parse_message, sqs_batch
from triage_gate.config import ReviewNotifySettings
from triage_gate.errors import RateLimited
from triage_gate.messages import ReviewJob, parse_exception_message
from triage_gate.observability import count, logger
from triage_gate.policy import load_policy
from triage_gate.review.service import ReviewWorker


class ReviewNotify(msgspec.Struct, frozen=True):
    worker: ReviewWorker
    requeue: SqsRequeue  # a Slack 429 puts the record back for exactly its Retry-After


def build(settings: ReviewNotifySettings | None = None, aws: AwsClients | None = None) -> ReviewNotify:
    settings = settings or ReviewNotifySettings.from_env()
    aws = aws or AwsClients()
    secrets = vendor_secrets(settings, aws=aws)
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    worker = ReviewWorker(
        policy=load_policy(settings.policy_path),
        ledger=DynamoDecisionStore(settings.decisions_table_name, ddb),
        slack=SlackWebClient(secrets, settings.slack_api_url),
        actions=SqsMessageQueue(settings.actions_queue_url, sqs),
        context=VendorContext(
            secrets, zendesk_base_url=settings.zendesk_base_url, hubspot_base_url=settings.hubspot_base_url
        ),
        zendesk_base_url=settings.zendesk_base_url,
        examples=DynamoExampleStore(settings.control_table_name, ddb) if settings.control_table_name else None,
    )
    return ReviewNotify(worker, SqsRequeue(settings.exception_queue_url, sqs))


def process_exception_message(body: str, notify: ReviewNotify) -> str:
    message = parse_message(parse_exception_message, body, "ExceptionQueue", "DecisionMessage or ReviewJob")
    if isinstance(message, ReviewJob):
        logger.set_correlation_id(message.decision_id)
        result = notify.worker.complete(message)
        count("ReviewOutcomes", Result=result)
    else:
        logger.set_correlation_id(message.correlation_id)
        result = notify.worker.post(message)
        count("ReviewsPosted", Workflow=message.workflow, Result=result)
    logger.info("exception queue", result=result)
    return result


def handle_batch(event: dict[str, Any], context: LambdaContext, notify: Lazy[ReviewNotify]) -> dict[str, Any]:
    def record_handler(record: SqsRecord) -> None:
        built = notify.get()
        try:
            process_exception_message(record.body, built)
        except RateLimited as exc:
            built.requeue.later(record.receipt_handle, exc.retry_after)
            raise

    return sqs_batch(event, context, record_handler)
