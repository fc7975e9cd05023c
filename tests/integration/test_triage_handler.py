"""TriageFunction's handler in-process against moto (tables and queues from template.yaml)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.builders import ticket_event
from tests.emf import emf_documents, emf_metrics
from tests.integration.conftest import Stack, load_handler
from triage_gate.messages import DecisionMessage
from triage_local.worker import LocalLambdaContext


@pytest.fixture
def triage(stack: Stack, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    env = {
        "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"),
        "CONTROL_TABLE_NAME": stack.url("ControlTable"),
        "ACTIONS_QUEUE_URL": stack.url("ActionsQueue"),
        "EXCEPTION_QUEUE_URL": stack.url("ExceptionQueue"),
        "TRIAGE_SECRET_ID": stack.url("VendorSecret"),
        "POWERTOOLS_SERVICE_NAME": "triage",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    module = load_handler("triage")

    def invoke(bodies: list[str], remaining_ms: int = 60_000) -> dict[str, Any]:
        records = [
            {"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body,
             "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
             "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:TriageQueue",
             "awsRegion": "us-east-1"}
            for i, body in enumerate(bodies)
        ]  # fmt: skip
        context = LocalLambdaContext(int(time.time() * 1000) + remaining_ms)
        return dict(module.lambda_handler({"Records": records}, context))

    return invoke


def test_batch_decides_each_event_and_reports_only_the_bad_record(triage, stack):
    good = ticket_event().to_json()

    response = triage([good, "{not json", good])

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    items = stack.ddb.scan(TableName=stack.url("DecisionsTable"))["Items"]
    assert len(items) == 1  # the same event twice in one batch decides once
    routed = stack.drain("ExceptionQueue") + stack.drain("ActionsQueue")
    assert [DecisionMessage.from_data(b).ticket_id for b in routed] == ["40211"]


def test_a_record_is_not_started_without_enough_time_left(triage, stack):
    response = triage([ticket_event().to_json()], remaining_ms=5_000)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert stack.ddb.scan(TableName=stack.url("DecisionsTable"))["Items"] == []


def test_decision_metrics_are_emitted(triage, stack, capsys):
    triage([ticket_event().to_json()])

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    names = {m["Name"] for blob in emf for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"Decisions", "Classified", "StageLatency", "EndToEndLatency"} <= names


def test_one_invocation_flushes_its_metrics_as_a_handful_of_documents(triage, stack, capsys):
    """Three decisions and a bad record: before, ~13 records per decision; now one flush of a few documents,
    every metric with the dimensions the README's Operations section and the alarms name."""
    events = [
        ticket_event(ticket_id=str(40300 + i), event_id=f"evt-{i}", dedupe_key=f"zendesk:1:evt-{i}") for i in range(3)
    ]
    capsys.readouterr()

    response = triage([e.to_json() for e in events] + ["{not json"])

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-3"}]}
    out = capsys.readouterr().out
    assert 1 <= len(emf_documents(out)) <= 5
    metrics = emf_metrics(out)  # every document is valid EMF (tests/emf.py checks the limits)
    keys = {m.name: m.keys for m in metrics}
    service = frozenset({"service"})
    assert keys["TriageBatches"] == service
    assert keys["InvalidQueueMessages"] == {"Queue"} | service
    assert keys["Decisions"] == {"Workflow", "Action"} | service
    assert keys["DecisionsByMode"] == {"Workflow", "Mode"} | service
    assert keys["Escalations"] == {"Workflow", "Reason"} | service
    assert keys["FallbackUsed"] == {"Workflow", "Fallback"} | service
    assert keys["StageLatency"] == {"Workflow", "Stage"} | service
    assert {m.keys for m in metrics if m.name == "EndToEndLatency"} == {frozenset({"Workflow"} | service), service}
    assert sum(v for m in metrics if m.name == "Decisions" for v in m.values) == 3
    assert {m.name for m in metrics} >= {"Classified", "EscalationRate", "FallbackRate"}


def test_a_ticket_is_decided_once_whatever_events_follow(triage, stack):
    created = ticket_event()
    comment = ticket_event("ingest__zendesk_comment_added.json", ticket_id=created.ticket_id)
    trigger = ticket_event("ingest__zendesk_trigger_ticket_created.json", ticket_id=created.ticket_id)

    first = triage([created.to_json()])
    later = triage([comment.to_json(), trigger.to_json()])

    assert first == later == {"batchItemFailures": []}
    items = stack.ddb.scan(TableName=stack.url("DecisionsTable"))["Items"]
    assert len(items) == 1  # the comment and the trigger found the ticket decided: no work, no model call
    claim = stack.ddb.get_item(TableName=stack.url("ControlTable"), Key={"pk": {"S": "ticket#zendesk:40211"}})
    assert claim["Item"]["ticket_state"]["S"] == "decided"
    assert claim["Item"]["decision_id"]["S"] == created.dedupe_key
