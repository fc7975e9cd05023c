"""The three review entry points: Slack interactions (HTTP), the ExceptionQueue worker, the backlog."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from triage_gate.errors import ConfigurationError, InvalidSignature, MissingSignature, RequestRejected, StaleTimestamp
from triage_gate.intake.http import WebhookRequest, json_response, rejection_response
from triage_gate.observability import MetricUnit, count, logger, measure
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.models import ReviewJob
from triage_gate.triage.decision import DecisionMessage


def handle_interaction_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """POST /slack/interactions: verify, one conditional write, one enqueue, then the 200 (< 3 s)."""
    from triage_gate.wiring import review_desk

    try:
        request = WebhookRequest.from_apigw_v2(event)
        _verify_slack(request)
        action = parse_interaction(request.body)
    except RequestRejected as exc:
        count("WebhookRejected", Source="slack", Reason=exc.reason)
        logger.info("slack interaction rejected", reason=exc.reason)
        return rejection_response(exc)
    except ConfigurationError as exc:
        count("WebhookUnavailable", Source="slack", Reason="misconfigured")
        logger.error("slack interactions misconfigured", detail=str(exc))
        return json_response(503, {"error": "misconfigured", "message": "the service is misconfigured"})
    if action is None:
        return {"statusCode": 200, "body": ""}
    logger.set_correlation_id(action.decision_id)
    result = review_desk().act(action)
    count("ReviewClicks", Action=action.action.removesuffix("_anyway"), Result=result)
    logger.info("review click", action=action.action, result=result, user=action.user_id)
    return {"statusCode": 200, "body": ""}


def _verify_slack(request: WebhookRequest) -> None:
    """Slack's v0 scheme over the raw bytes; computed here so hostile bytes can only ever fail to match."""
    import hmac

    from triage_gate.config import review_settings
    from triage_gate.review.signing import slack_signature
    from triage_gate.wiring import vendor_secrets

    secret = vendor_secrets().get().SLACK_SIGNING_SECRET
    if secret is None:
        raise ConfigurationError("SLACK_SIGNING_SECRET is not set")
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        raise MissingSignature("missing x-slack-signature or x-slack-request-timestamp")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise StaleTimestamp("x-slack-request-timestamp is not a unix timestamp")
    if abs(time.time() - int(timestamp)) > review_settings().slack_signature_max_age_seconds:
        raise StaleTimestamp("Slack request timestamp is outside the replay window")
    expected = slack_signature(secret.get_secret_value(), timestamp, request.body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise InvalidSignature("Slack signature does not match the body and timestamp")


def process_exception_message(body: str) -> str:
    """ExceptionQueue carries new review cases (DecisionMessage) and reviewer outcomes (ReviewJob)."""
    from triage_gate.wiring import review_worker

    try:
        job = ReviewJob.model_validate_json(body) if '"kind"' in body else None
        message = None if job else DecisionMessage.model_validate_json(body)
    except ValidationError:
        count("InvalidQueueMessages", Queue="ExceptionQueue")
        logger.error("ExceptionQueue message does not parse")
        raise
    worker = review_worker()
    if job is not None:
        logger.set_correlation_id(job.decision_id)
        result = worker.complete(job)
        count("ReviewOutcomes", Result=result)
    else:
        assert message is not None
        logger.set_correlation_id(message.correlation_id)
        result = worker.post(message)
        count("ReviewsPosted", Workflow=message.workflow, Result=result)
    logger.info("exception queue", result=result)
    return result


def run_backlog() -> dict[str, dict[str, float]]:
    from triage_gate.wiring import review_backlog

    stats = review_backlog().run()
    for workflow, entry in stats.items():
        measure("PendingReviews", entry["pending"], MetricUnit.Count, Workflow=workflow)
        measure("OldestPendingReviewAge", entry["oldest_minutes"], MetricUnit.NoUnit, Workflow=workflow)
    logger.info("review backlog", stats=stats)
    return stats
