"""IngestFunction in-process against moto, with the queue, table and secret made from template.yaml."""

from __future__ import annotations

import json
import time

import pytest

from tests.builders import load_event, sign_hubspot, sign_zendesk
from tests.integration.conftest import load_handler
from triage_gate.messages import TicketEvent
from triage_local.worker import LocalLambdaContext


def test_zendesk_event_is_verified_queued_and_recorded(ingest, stack):
    response = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")))

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["accepted"] == 1
    [queued] = stack.drain("TriageQueue")
    event = TicketEvent.from_data(queued)
    assert (event.source, event.ticket_id, event.event_type) == ("zendesk", "40211", "ticket.created")
    item = stack.ddb.get_item(TableName=stack.url("DedupeTable"), Key={"pk": {"S": event.dedupe_key}})["Item"]
    assert item["state"]["S"] == "queued"
    assert int(item["expires_at"]["N"]) > int(item["first_seen"]["N"])


def test_zendesk_redelivery_is_acknowledged_but_not_queued_twice(ingest, stack):
    first = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")))
    again = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")))

    assert first["statusCode"] == again["statusCode"] == 200
    assert json.loads(again["body"])["duplicates"] == 1
    assert len(stack.drain("TriageQueue")) == 1


def test_hubspot_batch_queues_ticket_events_and_ignores_the_rest(ingest, stack):
    response = ingest(sign_hubspot(load_event("ingest__hubspot_batch.json")))

    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert (body["accepted"], body["ignored"]) == (2, 2)
    queued = sorted(TicketEvent.from_data(b).event_type for b in stack.drain("TriageQueue"))
    assert queued == ["ticket.created", "ticket.property_changed"]


def test_signature_made_with_another_secret_is_refused_and_nothing_queued(ingest, stack):
    response = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json"), secret="leaked-old-secret"))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"
    assert stack.drain("TriageQueue") == []


def test_queue_outage_answers_503_with_retry_after_and_keeps_the_event_redeliverable(
    ingest, stack, monkeypatch: pytest.MonkeyPatch
):
    import triage_gate.adapters.sqs_queue as sqs_queue

    monkeypatch.setattr(sqs_queue.time, "sleep", lambda _s: None)
    monkeypatch.setenv("TRIAGE_QUEUE_URL", stack.url("TriageQueue") + "-gone")
    event = load_event("ingest__zendesk_ticket_created.json")

    refused = ingest(sign_zendesk(event))

    assert refused["statusCode"] == 503
    assert 0 < int(refused["headers"]["Retry-After"]) < 60
    # The claim was given back: once the queue is back, Zendesk's retry is accepted, not a duplicate.
    monkeypatch.setenv("TRIAGE_QUEUE_URL", stack.url("TriageQueue"))
    fresh = load_handler("ingest")  # a new instance, built with the queue that is back
    context = LocalLambdaContext(int(time.time() * 1000) + 10_000)
    retried = fresh.lambda_handler(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")), context)
    assert json.loads(retried["body"])["accepted"] == 1
    assert len(stack.drain("TriageQueue")) == 1


def test_unreadable_secret_answers_503_not_401(ingest, stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRIAGE_SECRET_ID", "triage-gate/dev/missing")

    response = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")))

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "secrets_unavailable"


def test_dedupe_table_outage_still_queues_the_event(ingest, stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEDUPE_TABLE_NAME", "no-such-table")

    response = ingest(sign_zendesk(load_event("ingest__zendesk_ticket_created.json")))

    assert response["statusCode"] == 200
    assert len(stack.drain("TriageQueue")) == 1


def test_template_queue_redrives_to_the_dlq(stack):
    attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.url("TriageQueue"), AttributeNames=["All"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.template.physical["TriageDlq"]["Arn"]
    assert int(redrive["maxReceiveCount"]) == 5
