"""Against a deployed stack, found through its outputs. Excluded by default (`-m e2e` to run).

Needs TRIAGE_STACK_NAME, AWS credentials, and the vendor secret values in ZENDESK_WEBHOOK_SECRET /
HUBSPOT_CLIENT_SECRET (the same ones stored in the stack's secret).
"""

from __future__ import annotations

import os

import pytest

from tests.builders import EVENTS_DIR
from triage_local.webhooks import Sample, send

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    stack = os.environ.get("TRIAGE_STACK_NAME")
    if not stack:
        pytest.skip("TRIAGE_STACK_NAME is not set: no deployed stack to test")
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_deployed_zendesk_webhook_accepts_a_signed_event_and_refuses_a_forged_one(outputs):
    secret = os.environ.get("ZENDESK_WEBHOOK_SECRET") or pytest.skip("ZENDESK_WEBHOOK_SECRET is not set")
    sample = Sample.load(EVENTS_DIR / "ingest__zendesk_trigger_ticket_updated.json")

    accepted = send(sample, outputs["WebhookBaseUrl"], secret)
    forged = send(sample, outputs["WebhookBaseUrl"], "forged")

    assert accepted.status_code == 200
    assert forged.status_code == 401


def test_deployed_hubspot_webhook_accepts_a_signed_batch(outputs):
    secret = os.environ.get("HUBSPOT_CLIENT_SECRET") or pytest.skip("HUBSPOT_CLIENT_SECRET is not set")

    response = send(Sample.load(EVENTS_DIR / "ingest__hubspot_batch.json"), outputs["WebhookBaseUrl"], secret)

    assert response.status_code == 200
    assert response.json()["received"] == 4
