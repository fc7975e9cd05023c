"""Sequences of events on one ticket, through the real HTTP path: the runner shared by this package's tests.

The local runner (gateway, queues, functions in their own processes) against stateful vendor fakes that
behave as the vendors do: Zendesk sends its webhooks for every change — our own write-backs included —,
answers a stale `safe_update` with 409, replaces the list on `tags`, and keeps audits that name who
changed what; HubSpot keeps property history; Slack posts what it is given. What these tests prove lives
*between* events: a second event on the same ticket, our write-back echoing back, a replay with other
headers, a retry after an ambiguous failure.

One runner serves every test of this package (`stack` is package-scoped): each test uses its own ticket ids
and the words it looks for in the model's prompts.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.builders import ROOT
from triage_gate.adapters.decisions_table import record_from_item
from triage_gate.intake.signatures import signed_zendesk_headers
from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy
from triage_gate.triage.decision import DecisionRecord
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes

ZD_SECRET, HS_SECRET, SLACK_SECRET = "between-zd-secret", "between-hs-secret", "between-slack-secret"
ZD_EMAIL, ZD_TOKEN, HS_TOKEN, API_KEY = "bot@acme.test", "zd-token", "hs-token", "sk-ant-between"
REQUESTER, ORGANIZATION = 7001, 7101
GROUPS = (36002117, 36002118, 36002119, 36002120, 36002121)
QUEUES = ("TriageQueue", "ActionsQueue", "ExceptionQueue")

# Claude, scripted by keyword: every label with 0.95 confidence (so decisions apply unless a rule says not).
KEYWORDS = {"invoice": "billing", "charged": "billing", "export": "bug", "crash": "bug", "password": "account_access",
            "breach": "security", "quote": "sales_inquiry", "renew": "renewal"}  # fmt: skip


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """Category by keyword (else the taxonomy's first label), priority normal/MEDIUM, confidence 0.95."""
    text = json.dumps(request["messages"]).lower()
    properties = request["tools"][0]["input_schema"]["properties"]
    out: dict[str, Any] = {"rationale": "keyword"}
    if "category" in properties:
        allowed = properties["category"]["enum"]
        found = [label for word, label in KEYWORDS.items() if word in text and label in allowed]
        out |= {"category": found[0] if found else allowed[0], "category_confidence": 0.95}
    if "priority" in properties:
        allowed = properties["priority"]["enum"]
        out |= {"priority": "normal" if "normal" in allowed else "MEDIUM", "priority_confidence": 0.95}
    return out


def write_policy(directory: Path) -> Path:
    """The shipped policy with every task on Claude (scripted above), so each decision is deterministic."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for workflow in data["workflows"].values():
        workflow["mode"] = "auto"
        for task in workflow["tasks"].values():
            task.update(route="haiku", route_rules=[], thresholds={"default": 0.5})
            task["local_model"] = str(DEFAULT_POLICY_PATH.parent / task["local_model"])
    data["workflows"]["zendesk-support"]["rules"]["always_review"] = {"category": ["security"]}
    data["workflows"]["hubspot-tickets"]["rules"]["always_review"] = {}
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    load_policy(path)  # valid, or the test setup says why
    return path


def flags(directory: Path) -> Path:
    no_ai = [{"action": "VALUE_IN_KEY", "key": "tags", "value": "no_ai"}]
    document = {
        "mode.zendesk-support": {"default": "auto", "boolean_type": False,
                                 "rules": {"tickets tagged no_ai are off": {"when_match": "off", "conditions": no_ai}}},
        "mode.hubspot-tickets": {"default": "auto", "boolean_type": False},
    }  # fmt: skip
    path = directory / "flags.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@dataclass
class Stack:
    runner: LocalRunner
    sandboxes: Sandboxes
    log: io.StringIO

    @property
    def zendesk_url(self) -> str:
        return f"{self.runner.base_url}/webhooks/zendesk"

    def settle(self, timeout: float = 45.0) -> None:
        """Every webhook delivered and every queue drained (twice in a row: a consumer may be mid-batch)."""
        deadline = time.monotonic() + timeout
        if self.sandboxes.zendesk.webhooks is not None:
            assert self.sandboxes.zendesk.webhooks.sender.wait_idle(timeout)
        quiet = 0
        while quiet < 3:
            assert time.monotonic() < deadline, f"queues did not drain: {self.runner.queue_depths()}"
            depths = self.runner.queue_depths()
            busy = sum(depths[q]["visible"] + depths[q]["in_flight"] for q in QUEUES)
            quiet = quiet + 1 if busy == 0 else 0
            time.sleep(0.3)

    def decisions(self, ticket_id: int | str) -> list[DecisionRecord]:
        ddb = self.runner.session.client("dynamodb")
        items = ddb.scan(TableName=self.runner.physical_id("DecisionsTable"), ConsistentRead=True)["Items"]
        return [r for r in map(record_from_item, items) if r.ticket_id == str(ticket_id)]

    def writeback(self, record: DecisionRecord) -> dict[str, Any]:
        ddb = self.runner.session.client("dynamodb")
        key = {"pk": {"S": record.decision_id}}
        item = ddb.get_item(TableName=self.runner.physical_id("DecisionsTable"), Key=key, ConsistentRead=True)["Item"]
        return json.loads(item["writeback"]["S"]) if "writeback" in item else {}

    def ai_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        comments = self.sandboxes.zendesk.comments_for(ticket_id)
        return [c for c in comments if c["body"].startswith("AI triage")]

    def model_calls(self, marker: str) -> int:
        """Anthropic requests whose prompt carried ``marker`` (each test's tickets carry their own words)."""
        return sum(
            marker.lower() in json.dumps(r["messages"]).lower() for r in self.sandboxes.anthropic.message_requests()
        )

    def post_zendesk(self, body: bytes, extra: dict[str, str] | None = None) -> requests.Response:
        headers = {**signed_zendesk_headers(ZD_SECRET, body, _now()), **(extra or {})}
        return requests.post(self.zendesk_url, data=body, headers=headers, timeout=15)


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("between")
    sandboxes = Sandboxes(zendesk_email=ZD_EMAIL, zendesk_token=ZD_TOKEN, hubspot_token=HS_TOKEN, anthropic_key=API_KEY)
    with sandboxes:
        _seed(sandboxes)
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
        environ.update({
            **sandboxes.env(), "ZENDESK_WEBHOOK_SECRET": ZD_SECRET, "HUBSPOT_CLIENT_SECRET": HS_SECRET,
            "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": "xoxb-sandbox-token", "ZENDESK_EMAIL": ZD_EMAIL,
            "ZENDESK_API_TOKEN": ZD_TOKEN, "HUBSPOT_ACCESS_TOKEN": HS_TOKEN, "ANTHROPIC_API_KEY": API_KEY,
            "POLICY_PATH": str(write_policy(directory)), "FLAGS_FILE": str(flags(directory)),
        })  # fmt: skip
        log = io.StringIO()
        # Two warm workers per function from the start (N is at least 2 for each): events that arrive together
        # really run at once, so the races between them happen here as in AWS.
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ, retry_delay_seconds=1,
                              prewarm=2)  # fmt: skip
        with LocalRunner(config, log=log) as runner:
            yield Stack(runner, sandboxes, log)


def _seed(sandboxes: Sandboxes) -> None:
    zendesk = sandboxes.zendesk
    for group in GROUPS:
        zendesk.add_group(group)
    zendesk.add_organization(ORGANIZATION, name="Northwind Traders", organization_fields={"tier": "growth"})
    zendesk.add_user(REQUESTER, name="Priya Kapoor", email="priya@northwind.test", organization_id=ORGANIZATION)
    sandboxes.slack.add_channel("#support-triage-review")
    sandboxes.slack.add_channel("#revops-triage-review")
    sandboxes.slack.add_channel("#triage-escalations")
    sandboxes.hubspot.allow_properties("ai_triage_category")
    sandboxes.anthropic.responder = answer


@pytest.fixture
def zendesk(stack: Stack) -> Iterator[Any]:
    yield stack.sandboxes.zendesk
    stack.sandboxes.zendesk.disconnect()


def new_ticket(stack: Stack, ticket_id: int, subject: str, description: str, **fields: Any) -> None:
    """A customer opens a ticket: Zendesk creates it and sends its "created" webhooks."""
    stack.sandboxes.zendesk.add_ticket(
        ticket_id, notify=True, age=timedelta(0), subject=subject, description=description,
        requester_id=REQUESTER, organization_id=ORGANIZATION, status="new", priority="low", **fields,
    )  # fmt: skip
