"""The weekly ROI digest: decisions from DecisionsTable (moto), posted to each workflow's channel (fake Slack)."""

from __future__ import annotations

import time

import pytest

from tests.builders import FakeLocal, harness, ticket_event, zendesk_documents
from tests.integration.conftest import Stack, load_handler
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.policy import load_policy
from triage_local.sandboxes import FakeSlack
from triage_local.worker import LocalLambdaContext


def test_weekly_digest_posts_each_workflows_numbers_to_its_channel(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    policy = load_policy()
    h = harness(policy, documents={("zendesk", "40211"): zendesk_documents()})
    h.service.deps.local = FakeLocal(answers={"category": ("billing", 0.95), "priority": ("normal", 0.9)})
    store = DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb)
    record = h.service.process(ticket_event()).record
    assert store.create(record)

    with FakeSlack(token="xoxb-digest") as slack:
        secret_id = stack.url("VendorSecret")
        stack.session.client("secretsmanager").put_secret_value(
            SecretId=secret_id, SecretString='{"SLACK_BOT_TOKEN": "xoxb-digest"}'
        )
        for key, value in {
            "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"),
            "EXCEPTION_QUEUE_URL": stack.url("ExceptionQueue"),
            "SLACK_API_URL": f"{slack.url}/api/",
            "TRIAGE_SECRET_ID": secret_id,
            "POWERTOOLS_SERVICE_NAME": "roi-digest",
        }.items():
            monkeypatch.setenv(key, value)
        result = load_handler("roi_digest").lambda_handler({}, LocalLambdaContext(int(time.time() * 1000) + 60_000))

        support = slack.messages(slack.channel_id("#support-triage-review"))
        revops = slack.messages(slack.channel_id("#revops-triage-review"))

    assert result["decisions"] == 1
    assert set(result["posted"]) == {"zendesk-support", "hubspot-tickets"}
    assert len(support) == 1
    assert len(revops) == 1
    assert "zendesk-support" in support[0]["text"]
    assert len(support[0]["blocks"]) <= 50
