"""SlackActionsFunction, ReviewNotifyFunction and ReviewBacklogFunction against the template's resources (moto)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.integration.conftest import SpyingAws, Stack, load_handler
from tests.integration.review.conftest import (
    BOT_TOKEN,
    PROPOSED,
    REVIEW,
    SIGNING_SECRET,
    WORKFLOW,
    ZD_EMAIL,
    ZD_TOKEN,
    shown,
)
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.compose import review_notify
from triage_gate.compose import slack_actions as slack_actions_function
from triage_gate.compose.common import Lazy
from triage_gate.messages import DecisionMessage, ReviewJob
from triage_gate.review.signing import block_actions_payload, signed_interaction
from triage_gate.triage.decision import DecisionRecord, decision_message
from triage_local.sandboxes import FakeSlack, FakeZendesk
from triage_local.worker import LocalLambdaContext


# ---------------------------------------------------------------- the Lambda functions (moto)
def apigw(body: bytes, headers: dict[str, str], *, encode: bool = False) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event for POST /slack/interactions."""
    return {
        "version": "2.0", "routeKey": "POST /slack/interactions", "rawPath": "/slack/interactions",
        "rawQueryString": "", "headers": {k.lower(): v for k, v in headers.items()},
        "body": base64.b64encode(body).decode() if encode else body.decode(), "isBase64Encoded": encode,
        "requestContext": {"http": {"method": "POST", "path": "/slack/interactions"}, "requestId": "req-1",
                           "domainName": "api.example.test"},
    }  # fmt: skip


@dataclass
class Functions:
    stack: Stack
    ledger: DynamoDecisionStore
    aws: SpyingAws  # the functions' boto3 clients, SQS spied on

    @property
    def visibility_calls(self) -> list[dict[str, Any]]:
        return self.aws.visibility_calls

    def pending_case(self, record: DecisionRecord) -> str:
        """A decision whose review message is in Slack (channel, ts as ReviewNotifyFunction recorded them)."""
        self.ledger.create(record)
        ts = f"{time.time():.6f}"
        self.ledger.review_posted(record.decision_id, "C0REVIEW", ts, datetime.now(UTC).isoformat(), WORKFLOW)
        return ts

    def jobs(self) -> list[dict[str, Any]]:
        return self.stack.drain("ExceptionQueue")

    def receive(self) -> list[dict[str, Any]]:
        got = self.stack.sqs.receive_message(QueueUrl=self.stack.url("ExceptionQueue"), MaxNumberOfMessages=10,
                                             AttributeNames=["All"], VisibilityTimeout=0)  # fmt: skip
        return list(got.get("Messages", []))

    def notify(self, module: ModuleType, messages: list[dict[str, Any]]) -> dict[str, Any]:
        context = LocalLambdaContext(int(time.time() * 1000) + 30_000)
        return dict(module.lambda_handler(self.stack.sqs_event("ExceptionQueue", messages), context))


@pytest.fixture
def functions(stack: Stack, slack: FakeSlack, zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> Functions:
    """The environment template.yaml gives SlackActionsFunction and ReviewNotifyFunction, and the vendor secret."""
    secret_id = stack.url("VendorSecret")
    secrets = stack.session.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    current.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, ZENDESK_EMAIL=ZD_EMAIL,
                   ZENDESK_API_TOKEN=ZD_TOKEN)  # fmt: skip
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))
    env = {
        "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"), "EXCEPTION_QUEUE_URL": stack.url("ExceptionQueue"),
        "ACTIONS_QUEUE_URL": stack.url("ActionsQueue"), "CONTROL_TABLE_NAME": stack.url("ControlTable"),
        "TRIAGE_SECRET_ID": secret_id, "SLACK_API_URL": slack.url + "/api/", "ZENDESK_BASE_URL": zendesk.url,
    }  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    aws = SpyingAws([])
    return Functions(stack, DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb), aws)


@pytest.fixture
def slack_actions(functions: Functions) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module = load_handler("slack_actions", functions.aws)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return dict(module.lambda_handler(event, LocalLambdaContext(int(time.time() * 1000) + 3_000)))

    return invoke


def signed_click(record: DecisionRecord, ts: str, *, secret: str = SIGNING_SECRET, now: float | None = None,
                 action_id: str = "approve", user: str = "UALICE") -> tuple[bytes, dict[str, str]]:  # fmt: skip
    payload = block_actions_payload(action_id, record.decision_id, user_id=user, channel="C0REVIEW", ts=ts)
    return signed_interaction(payload, secret, now=now)


def test_interactions_endpoint_acks_a_signed_click_with_an_empty_200_and_claims(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)

    started = time.monotonic()
    response = slack_actions(apigw(body, headers))
    elapsed = time.monotonic() - started

    assert response["statusCode"] == 200
    assert response["body"] == ""
    assert elapsed < 3.0
    assert functions.ledger.get(record.decision_id).review["state"] == "claimed"  # type: ignore[union-attr]
    [job] = [ReviewJob.from_data(j) for j in functions.jobs()]
    assert (job.kind, job.verdict, job.user_id, job.ts) == ("review_outcome", "approve", "UALICE", ts)


def test_interactions_endpoint_rejects_a_bad_signature_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, secret="not-the-signing-secret")

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


def test_interactions_endpoint_rejects_a_tampered_body_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, action_id="escalate")
    tampered = body.replace(b"escalate", b"approve")

    response = slack_actions(apigw(tampered, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"


def test_interactions_endpoint_rejects_a_replayed_request_with_401(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts, now=time.time() - 600)  # correctly signed, 10 minutes ago

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "stale_timestamp"
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_interactions_endpoint_rejects_missing_signature_headers_with_401(functions, slack_actions, record, missing):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)
    del headers[missing]

    response = slack_actions(apigw(body, headers))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "missing_signature"
    assert functions.jobs() == []


def test_interactions_endpoint_verifies_a_base64_encoded_body(functions, slack_actions, record):
    ts = functions.pending_case(record)
    body, headers = signed_click(record, ts)

    response = slack_actions(apigw(body, headers, encode=True))

    assert response["statusCode"] == 200
    assert functions.ledger.get(record.decision_id).review["state"] == "claimed"  # type: ignore[union-attr]
    assert len(functions.jobs()) == 1


def test_interactions_endpoint_acks_a_dropdown_change_without_claiming(functions, slack_actions, record):
    ts = functions.pending_case(record)
    payload = block_actions_payload("approve", record.decision_id, user_id="UALICE", channel="C0REVIEW", ts=ts)
    payload["actions"] = [{"type": "static_select", "action_id": "reason", "selected_option": {"value": "other"}}]
    body, headers = signed_interaction(payload, SIGNING_SECRET)

    response = slack_actions(apigw(body, headers))

    assert (response["statusCode"], response["body"]) == (200, "")
    assert functions.ledger.get(record.decision_id).review["state"] == "pending"  # type: ignore[union-attr]
    assert functions.jobs() == []


def test_interactions_endpoint_two_reviewers_at_once_claim_once(functions, record, atomic_conditional_writes):
    ts = functions.pending_case(record)
    built = Lazy.of(slack_actions_function.build(aws=functions.aws))  # built once, as on a warm Lambda
    built.get().secrets.get()
    requests = [apigw(*signed_click(record, ts, user=user)) for user in ("UALICE", "UBOB")]
    start = threading.Barrier(2)
    responses: list[dict[str, Any]] = []

    def post(event: dict[str, Any]) -> None:
        start.wait()
        responses.append(slack_actions_function.handle(event, built))

    threads = [threading.Thread(target=post, args=(event,)) for event in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r["statusCode"] for r in responses] == [200, 200]
    jobs = [ReviewJob.from_data(j) for j in functions.jobs()]
    assert sorted(j.kind for j in jobs) == ["notice", "review_outcome"]
    [outcome] = [j for j in jobs if j.kind == "review_outcome"]
    [notice] = [j for j in jobs if j.kind == "notice"]
    assert {outcome.user_id, notice.user_id} == {"UALICE", "UBOB"}
    assert notice.notice == "This case is already resolved."


def test_process_exception_message_posts_a_decision_and_completes_a_review_job(functions, record, slack):
    functions.ledger.create(record)

    notify = review_notify.build(aws=functions.aws)

    assert review_notify.process_exception_message(decision_message(record).to_json(), notify) == "posted"

    [message] = slack.messages(REVIEW)
    stored = functions.ledger.get(record.decision_id)
    assert stored is not None
    assert stored.review is not None
    assert stored.review["ts"] == message["ts"]
    assert functions.ledger.claim_review(record.decision_id, "UALICE", "approve")
    job = ReviewJob(kind="review_outcome", decision_id=record.decision_id, verdict="approve", user_id="UALICE",
                    channel=stored.review["channel"], ts=message["ts"], requested_at=datetime.now(UTC))  # fmt: skip

    assert review_notify.process_exception_message(job.to_json(), notify) == "approve"

    [applied] = [DecisionMessage.from_data(b) for b in functions.stack.drain("ActionsQueue")]
    assert (applied.decision_id, applied.action, applied.labels) == (record.decision_id, "apply", PROPOSED)
    assert "approved" in shown(slack.message(REVIEW, message["ts"]))


def test_review_notify_puts_a_rate_limited_case_back_for_retry_after(functions, record, slack):
    functions.ledger.create(record)
    functions.stack.sqs.send_message(QueueUrl=functions.stack.url("ExceptionQueue"),
                                     MessageBody=decision_message(record).to_json())  # fmt: skip
    [message] = functions.receive()
    slack.fail_next(429, headers={"Retry-After": "7"})

    response = functions.notify(load_handler("review_notify", functions.aws), [message])

    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    [call] = functions.visibility_calls
    assert call["ReceiptHandle"] == message["ReceiptHandle"]
    assert call["QueueUrl"] == functions.stack.url("ExceptionQueue")
    assert call["VisibilityTimeout"] == 8
    assert slack.messages(REVIEW) == []


def test_review_notify_slack_down_redelivers_then_dead_letters_never_drops(functions, record, slack, stack):
    functions.ledger.create(record)
    stack.sqs.send_message(QueueUrl=stack.url("ExceptionQueue"),
                           MessageBody=decision_message(record).to_json())  # fmt: skip
    slack.fail_next(503, times=1000)
    module = load_handler("review_notify", functions.aws)
    max_receives = stack.template.resources["ExceptionQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    responses = []
    for _ in range(max_receives):
        messages = functions.receive()
        assert len(messages) == 1
        responses.append(functions.notify(module, messages))

    assert all(r == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]} for r in responses)
    assert functions.receive() == []  # the next receive moves it to the DLQ
    dead = stack.drain("ExceptionDlq")
    assert [DecisionMessage.from_data(b).decision_id for b in dead] == [record.decision_id]
    assert functions.visibility_calls == []


def test_review_backlog_function_reposts_overdue_cases_and_emits_the_oldest_age(functions, record, slack, capsys):
    functions.ledger.create(record)
    posted_at = (datetime.now(UTC) - timedelta(minutes=45)).isoformat()
    functions.ledger.review_posted(record.decision_id, slack.channel_id(REVIEW), "1764244800.000100", posted_at,
                                   WORKFLOW)  # fmt: skip
    module = load_handler("review_backlog", functions.aws)

    result = module.lambda_handler({}, LocalLambdaContext(int(time.time() * 1000) + 60_000))

    assert result["workflows"][WORKFLOW]["pending"] == 1
    assert 45 <= result["workflows"][WORKFLOW]["oldest_minutes"] < 46
    [repost] = slack.messages(REVIEW)
    assert repost["text"].startswith("<!subteam^S05SUPLEADS> review overdue: waiting 45 min (SLA 30 min)")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    oldest = [m for m in emitted if "OldestPendingReviewAge" in m and m.get("Workflow") == WORKFLOW]
    assert len(oldest) == 1
    value = oldest[0]["OldestPendingReviewAge"]
    assert 45 <= (value[0] if isinstance(value, list) else value) < 46
    assert functions.ledger.pending_reviews()[0]["sla_notified"] is True
