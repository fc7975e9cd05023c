"""Signed webhook in → TriageFunction (via the runner's SQS mapping) → decision record and queue message,
with the Zendesk and Anthropic sandboxes standing in for the vendors."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import EVENTS_DIR, ROOT
from triage_gate.triage.decision import DecisionRecord
from triage_local import demo_data
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample, send

SECRET = "pipeline-zd-secret"
ANTHROPIC_KEY = "sk-ant-pipeline"


def _billing(request: dict[str, Any]) -> dict[str, Any]:
    properties = request["tools"][0]["input_schema"]["properties"]
    answer: dict[str, Any] = {"rationale": "double charge on an invoice"}
    if "category" in properties:
        answer.update(category="billing", category_confidence=0.94)
    return answer


@pytest.fixture(scope="module")
def pipeline() -> Iterator[tuple[LocalRunner, Sandboxes]]:
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN, anthropic_key=ANTHROPIC_KEY,
    )  # fmt: skip
    with sandboxes:
        demo_data.seed(sandboxes)
        sandboxes.anthropic.responder = _billing
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
        environ.update(
            {
                **sandboxes.env(),
                "ZENDESK_WEBHOOK_SECRET": SECRET,
                "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
                "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
                "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                "SLACK_BOT_TOKEN": "xoxb-sandbox-token",
            }
        )
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ)
        with LocalRunner(config, log=io.StringIO()) as runner:
            yield runner, sandboxes


def _decision(runner: LocalRunner, ticket_id: str, timeout: float = 30) -> DecisionRecord:
    ddb = runner.session.client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in ddb.scan(TableName=runner.physical_id("DecisionsTable"), ConsistentRead=True)["Items"]:
            record = DecisionRecord.from_json(item["record"]["S"])
            if record.ticket_id == ticket_id and item["status"]["S"] == "routed":
                return record
        time.sleep(0.2)
    raise AssertionError(f"no routed decision for ticket {ticket_id}")


def test_webhook_becomes_a_claude_decision_applied_through_the_actions_queue(pipeline):
    runner, sandboxes = pipeline

    response = send(Sample.load(EVENTS_DIR / "ingest__zendesk_ticket_created.json"), runner.base_url, SECRET)

    assert response.status_code == 200
    record = _decision(runner, "40211")
    assert record.workflow == "zendesk-support"
    assert record.tasks["category"].model == "claude-haiku-4-5"
    assert record.labels["category"] == "billing"
    assert record.context_fields["organization.organization_fields.tier"] == "growth"
    assert record.tokens["input"] > 0
    assert record.action == "apply", record.reason_codes
    # WritebackFunction (fed from ActionsQueue) put the decision on the sandboxed Zendesk ticket.
    deadline = time.monotonic() + 20
    while "ai_triaged" not in (sandboxes.zendesk.ticket(40211) or {}).get("tags", []) and time.monotonic() < deadline:
        time.sleep(0.2)
    ticket = sandboxes.zendesk.ticket(40211)
    assert {"ai_triaged", "ai_billing", "web_form"} <= set(ticket["tags"])
    # The model saw the ticket the Zendesk API returned, with the requester's email masked.
    sent = sandboxes.anthropic.sent_text()
    assert "INV-2026-1187" in sent
    assert "priya@northwind.test" not in sent
    assert "Priya" not in sent  # the requester's own name, known from the context, is masked too


def test_trigger_webhook_without_text_is_classified_from_the_fetched_ticket(pipeline):
    runner, _sandboxes = pipeline

    send(Sample.load(EVENTS_DIR / "ingest__zendesk_trigger_ticket_created.json"), runner.base_url, SECRET)

    record = _decision(runner, "40215")
    assert record.context_error is None, record.context_error
    assert record.context_fields["ticket.subject"] == "Can't log in after enabling two-factor"
    assert record.redactions.get("phone") == 1
    assert "7946 0958" not in json.dumps(record.to_data())


def test_triage_report_reads_the_decisions_the_pipeline_made(pipeline, tmp_path, capsys):
    from triage_tools.cli import main

    runner, _ = pipeline
    _decision(runner, "40211")

    code = main(["report", "--url", runner.base_url, "--since", "400d", "--out", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "zendesk-support" in out
    assert "hours recovered" in out
    assert "<svg" in (tmp_path / "report.html").read_text()
    assert json.loads((tmp_path / "roi.json").read_text())["totals"]["zendesk-support"]["decisions"] >= 1
