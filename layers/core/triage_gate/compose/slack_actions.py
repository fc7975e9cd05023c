"""SlackActionsFunction: POST /slack/interactions — verify, claim the case, enqueue, ack within 3 s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.sqs_queue import SqsMessageQueue
from triage_gate.compose.common import Lazy, vendor_secrets
from triage_gate.config import SlackActionsSettings
from triage_gate.http import WebhookRequest, error_response
from triage_gate.observability import count, logger
from triage_gate.ports import SecretsProvider
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.service import ReviewDesk
from triage_gate.review.signing import SlackRequestVerifier

# The ack path: a DynamoDB conditional write and an SQS send, nothing else, well inside Slack's 3 s.
FAST = {"connect_timeout": 1.0, "read_timeout": 2.0}
RETRY_AFTER_SECONDS = 5  # Slack does not retry on its own: the user clicks again


class SlackActions(msgspec.Struct, frozen=True):
    desk: ReviewDesk
    secrets: SecretsProvider
    signature_max_age_seconds: int

    def verifier(self) -> SlackRequestVerifier:
        """Built per request: the secret may have been rotated (current and previous both verify)."""
        keys = self.secrets.get().signing_keys("SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_PREVIOUS")
        return SlackRequestVerifier(keys, max_age_seconds=self.signature_max_age_seconds)


def build(settings: SlackActionsSettings | None = None, aws: AwsClients | None = None) -> SlackActions:
    settings = settings or SlackActionsSettings.from_env()
    aws = aws or AwsClients()
    ledger = DynamoDecisionStore(settings.decisions_table_name, aws.client("dynamodb", **FAST))
    desk = ReviewDesk(ledger, SqsMessageQueue(settings.exception_queue_url, aws.client("sqs", **FAST)))
    return SlackActions(desk, vendor_secrets(settings, aws=aws), settings.slack_signature_max_age_seconds)


def handle(event: Mapping[str, Any], slack: Lazy[SlackActions]) -> dict[str, Any]:
    count("SlackInteractions")
    try:
        built = slack.get()
        request = WebhookRequest.from_apigw_v2(event)
        built.verifier().verify(request.headers, request.body)
        action = parse_interaction(request.body)
        if action is None:  # a dropdown change, another payload type: nothing to do
            return {"statusCode": 200, "body": ""}
        logger.set_correlation_id(action.decision_id)
        result = built.desk.act(action)
    except Exception as exc:  # every error has its answer in one place
        return error_response(exc, source="slack", retry_after_seconds=RETRY_AFTER_SECONDS)
    count("ReviewClicks", Action=action.action.removesuffix("_anyway"), Result=result)
    logger.info("review click", action=action.action, result=result, user=action.user_id)
    return {"statusCode": 200, "body": ""}
