"""Secrets and raw PII never appear in logs: one end-to-end local run, every function's output captured and scanned.

The stack runs on generated secrets with the fake Anthropic server; the events/ samples go in signed, the
decisions are routed and written back, one review case is answered from Slack, then the whole log is searched
for every secret value and every raw PII value the seeded tickets carry.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import EVENTS_DIR, ROOT
from triage_gate.triage.decision import DecisionRecord
from triage_local import demo_data
from triage_local.demo import review_demo, wait_for_decisions, wait_for_writebacks
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample, send

SAMPLES = (
    "ingest__zendesk_ticket_created.json",
    "ingest__zendesk_comment_added.json",
    "ingest__zendesk_trigger_ticket_created.json",
    "ingest__hubspot_batch.json",
    "ingest__zendesk_staff_comment.json",
    "ingest__zendesk_user_created.json",
)
# ticket.created 40211, comment_added 40198, trigger 40215 and the HubSpot ticket.creation.
EXPECTED_DECISIONS = 4
# Raw PII in the seeded tickets and users (infra/local/triage_local/demo_data.py).
PII = (
    "priya@northwind.test",
    "tomas@globex.test",
    "mia.chen@northwind.test",
    "+44 20 7946 0958",
    "7946 0958",
)


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    properties = request["tools"][0]["input_schema"]["properties"]
    answer: dict[str, Any] = {"rationale": "double charge on an invoice"}
    if "category" in properties:
        enum = properties["category"].get("enum") or ["billing"]
        answer.update(category="billing" if "billing" in enum else enum[0], category_confidence=0.94)
    return answer


@dataclass
class Run:
    log: str
    secrets: dict[str, str]
    decisions: list[DecisionRecord]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    generated = {
        "ZENDESK_WEBHOOK_SECRET": "zdwh-" + secrets.token_urlsafe(24),
        "HUBSPOT_CLIENT_SECRET": "hscs-" + secrets.token_hex(18),
        "SLACK_SIGNING_SECRET": "slss-" + secrets.token_hex(16),
        "SLACK_BOT_TOKEN": "xoxb-" + secrets.token_hex(12),
        "ZENDESK_API_TOKEN": "zdapi-" + secrets.token_urlsafe(18),
        "HUBSPOT_ACCESS_TOKEN": "pat-" + secrets.token_hex(16),
        "ANTHROPIC_API_KEY": "sk-ant-" + secrets.token_urlsafe(24),
    }
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=generated["ZENDESK_API_TOKEN"],
        hubspot_token=generated["HUBSPOT_ACCESS_TOKEN"], anthropic_key=generated["ANTHROPIC_API_KEY"],
        slack_token=generated["SLACK_BOT_TOKEN"],
    )  # fmt: skip
    log = io.StringIO()
    with sandboxes:
        demo_data.seed(sandboxes)
        sandboxes.anthropic.responder = _answer
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
        environ.update({**sandboxes.env(), **generated, "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL})
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ)
        with LocalRunner(config, log=log) as runner:
            for name in SAMPLES:
                sample = Sample.load(EVENTS_DIR / name)
                key = "ZENDESK_WEBHOOK_SECRET" if sample.source == "zendesk" else "HUBSPOT_CLIENT_SECRET"
                assert send(sample, runner.base_url, generated[key]).status_code == 200, name
            # One refused delivery too: the rejection path logs as well.
            bad = Sample.load(EVENTS_DIR / "ingest__zendesk_priority_changed.json")
            assert send(bad, runner.base_url, "not-the-secret").status_code == 401
            decisions = wait_for_decisions(runner, EXPECTED_DECISIONS)
            wait_for_writebacks(runner, [d for d in decisions if d.action == "apply"])
            if any(d.action == "review" for d in decisions):
                review_demo(runner, sandboxes, decisions, generated["SLACK_SIGNING_SECRET"], io.StringIO())
        yield Run(log.getvalue(), generated, decisions)


def test_the_run_logged_decisions(run: Run) -> None:
    assert len(run.decisions) >= EXPECTED_DECISIONS, [(d.source, d.ticket_id) for d in run.decisions]
    compact = run.log.replace(" ", "")
    assert '"message":"decision"' in compact or '"message":"triage"' in compact, run.log[-2000:]
    assert '"message":"webhookrejected"' in compact  # spaces removed above


@pytest.mark.parametrize(
    "name",
    [
        "ZENDESK_WEBHOOK_SECRET",
        "HUBSPOT_CLIENT_SECRET",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "ZENDESK_API_TOKEN",
        "HUBSPOT_ACCESS_TOKEN",
        "ANTHROPIC_API_KEY",
    ],
)
def test_no_secret_value_in_the_logs(run: Run, name: str) -> None:
    value = run.secrets[name]
    assert value not in run.log
    # Nor its distinctive tail (a value cut, masked at the front, or split over a JSON escape).
    assert value[-12:] not in run.log


@pytest.mark.parametrize("value", PII)
def test_no_raw_pii_in_the_logs(run: Run, value: str) -> None:
    assert value not in run.log
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 10:  # a phone number, however it is re-spaced
        assert digits not in re.sub(r"[\s()+.-]", "", run.log)
