"""WritebackFunction's handler against moto: batches, redelivery, the DLQ, Retry-After."""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import pytest

from tests.integration.conftest import SpyingAws, Stack, load_handler
from tests.integration.writeback.conftest import (
    HS_TICKET,
    HS_TOKEN,
    ZD_EMAIL,
    ZD_TICKET,
    ZD_TOKEN,
    decision,
    notes_with_ref,
)
from triage_gate.adapters import vendor_http
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.messages import DecisionMessage
from triage_gate.triage.decision import DecisionRecord, decision_message
from triage_local.sandboxes import FakeHubSpot, FakeZendesk
from triage_local.worker import LocalLambdaContext


# ---------------------------------------------------------------- WritebackFunction's handler (moto)
class Writeback:
    def __init__(self, stack: Stack, module: ModuleType, visibility_calls: list[dict[str, Any]]) -> None:
        self.stack, self.module, self.visibility_calls = stack, module, visibility_calls
        self.decisions = DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb)

    def enqueue(self, record: DecisionRecord) -> None:
        """What TriageFunction does for an apply decision: store it, send its message to ActionsQueue."""
        self.decisions.create(record)
        body = decision_message(record).to_json()
        self.stack.sqs.send_message(QueueUrl=self.stack.url("ActionsQueue"), MessageBody=body)

    def receive(self, visibility_timeout: int | None = None) -> list[dict[str, Any]]:
        extra = {} if visibility_timeout is None else {"VisibilityTimeout": visibility_timeout}
        got = self.stack.sqs.receive_message(QueueUrl=self.stack.url("ActionsQueue"), MaxNumberOfMessages=10,
                                             AttributeNames=["All"], **extra)  # fmt: skip
        return list(got.get("Messages", []))

    def invoke(self, messages: list[dict[str, Any]], remaining_ms: int = 60_000) -> dict[str, Any]:
        context = LocalLambdaContext(int(time.time() * 1000) + remaining_ms)
        response = dict(self.module.lambda_handler(self.stack.sqs_event("ActionsQueue", messages), context))
        for message in messages:  # what Lambda's event source mapping does with the records that succeeded
            if {"itemIdentifier": message["MessageId"]} not in response["batchItemFailures"]:
                self.stack.sqs.delete_message(QueueUrl=self.stack.url("ActionsQueue"),
                                              ReceiptHandle=message["ReceiptHandle"])  # fmt: skip
        return response

    def state(self, record: DecisionRecord) -> dict[str, Any] | None:
        stored = self.decisions.get(record.decision_id)
        return stored.writeback if stored else None

    def queue_depth(self, logical: str) -> tuple[int, int]:
        attrs = self.stack.sqs.get_queue_attributes(
            QueueUrl=self.stack.url(logical),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def writeback(stack: Stack, zendesk: FakeZendesk, hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> Writeback:
    secret_id = stack.url("VendorSecret")
    secrets = stack.session.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    current.update(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN, HUBSPOT_ACCESS_TOKEN=HS_TOKEN)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))
    env = {
        "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"),
        "ACTIONS_QUEUE_URL": stack.url("ActionsQueue"),
        "TRIAGE_SECRET_ID": secret_id,
        "ZENDESK_BASE_URL": zendesk.url,
        "HUBSPOT_BASE_URL": hubspot.url,
        "POWERTOOLS_SERVICE_NAME": "writeback",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    aws = SpyingAws([])
    return Writeback(stack, load_handler("writeback", aws), aws.visibility_calls)


def test_handler_applies_the_action_and_records_it_on_the_decision(writeback, zendesk):
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive())

    assert response == {"batchItemFailures": []}
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118
    assert len(notes_with_ref(zendesk, record)) == 1
    state = writeback.state(record)
    assert state is not None
    assert (state["status"], state["steps"], state["mode"]) == ("applied", ["fields", "note"], "auto")


def test_handler_redelivered_message_produces_one_note(writeback, zendesk, hubspot):
    zd_record, hs_record = decision(), decision(source="hubspot")
    writeback.enqueue(zd_record)
    writeback.enqueue(hs_record)
    messages = writeback.receive()
    assert len(messages) == 2

    first = writeback.invoke(messages)
    second = writeback.invoke(messages)  # SQS at-least-once: the same batch again

    assert first == second == {"batchItemFailures": []}
    assert len(notes_with_ref(zendesk, zd_record)) == 1
    assert len(hubspot.notes_for(HS_TICKET)) == 1


def test_handler_reports_a_persistent_500_and_redrive_moves_it_to_the_dlq(writeback, zendesk, stack):
    zendesk.fail_next(500, times=1000)
    record = decision()
    writeback.enqueue(record)
    max_receives = stack.template.resources["ActionsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    responses = []
    for _ in range(max_receives):
        messages = writeback.receive(visibility_timeout=0)
        assert len(messages) == 1
        responses.append(writeback.invoke(messages))

    assert all(r == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]} for r in responses)
    assert writeback.receive(visibility_timeout=0) == []  # the next receive moves it to the DLQ
    dead = stack.drain("ActionsDlq")
    assert [DecisionMessage.from_data(b).decision_id for b in dead] == [record.decision_id]
    assert len(zendesk.requests) == max_receives * (vendor_http.MAX_TRANSIENT_RETRIES + 1)  # bounded per receive
    assert writeback.state(record) is None  # never recorded as a vendor rejection


def test_handler_puts_a_rate_limited_record_back_for_retry_after(writeback, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "30"})
    record = decision()
    writeback.enqueue(record)
    [message] = writeback.receive()

    started = time.monotonic()
    response = writeback.invoke([message], remaining_ms=10_000)
    elapsed = time.monotonic() - started

    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert sleeps.calls == []
    assert elapsed < 3.0
    [call] = writeback.visibility_calls
    assert call["ReceiptHandle"] == message["ReceiptHandle"]
    assert call["QueueUrl"] == writeback.stack.url("ActionsQueue")
    assert 30 <= call["VisibilityTimeout"] <= 32
    assert writeback.receive() == []  # not visible again before the delay
    assert writeback.queue_depth("ActionsQueue") == (0, 1)


def test_handler_waits_out_a_short_429_within_the_lambda_time(writeback, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=2)
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive(), remaining_ms=60_000)

    assert response == {"batchItemFailures": []}
    assert sleeps.calls == [1.0, 1.0]
    assert writeback.visibility_calls == []
    assert writeback.state(record)["status"] == "applied"


def test_handler_records_a_422_and_does_not_retry_the_message(writeback, zendesk):
    zendesk.fail_next(422, body={"error": "RecordInvalid", "description": "Record validation errors"})
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive())

    assert response == {"batchItemFailures": []}  # deleted: retrying cannot help
    state = writeback.state(record)
    assert state is not None
    assert (state["status"], state["http_status"]) == ("failed", 422)
    assert writeback.queue_depth("ActionsQueue") == (0, 0)
    assert len(zendesk.requests) == 1


def test_handler_reports_only_the_bad_record_of_a_batch(writeback, zendesk):
    record = decision()
    writeback.enqueue(record)
    writeback.stack.sqs.send_message(QueueUrl=writeback.stack.url("ActionsQueue"), MessageBody="{not json")
    messages = writeback.receive()
    bad = next(m for m in messages if m["Body"] == "{not json")

    response = writeback.invoke(messages)

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    assert writeback.state(record)["status"] == "applied"
