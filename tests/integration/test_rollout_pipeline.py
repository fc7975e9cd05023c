"""Through the local runner: a flag change switches a workflow from shadow to auto without a restart,
auto decisions reach the sandboxed Zendesk ticket, and a later human change is recorded as an override."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import ROOT, load_event
from triage_gate.triage.decision import DecisionRecord
from triage_local import demo_data
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample, send

SECRET = "rollout-zd-secret"


def _write_flags(path: Path, mode: str) -> None:
    path.write_text(json.dumps({"mode.zendesk-support": {"default": mode, "boolean_type": False}}))
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRunner, Sandboxes, Path]]:
    flags = tmp_path_factory.mktemp("flags") / "flags.json"
    _write_flags(flags, "shadow")
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN,
    )  # fmt: skip
    with sandboxes:
        demo_data.seed(sandboxes)
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_", "ANTHROPIC"))}
        environ.update(
            {
                **sandboxes.env(),
                "ZENDESK_WEBHOOK_SECRET": SECRET,
                "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
                "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
                "FLAGS_FILE": str(flags),
                "FLAGS_MAX_AGE_SECONDS": "1",
            }
        )
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ)
        with LocalRunner(config, log=io.StringIO()) as runner:
            yield runner, sandboxes, flags


def _record(runner: LocalRunner, decision_id: str, until: str = "routed", timeout: float = 30) -> DecisionRecord:
    ddb = runner.session.client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = ddb.get_item(
            TableName=runner.physical_id("DecisionsTable"), Key={"pk": {"S": decision_id}}, ConsistentRead=True
        ).get("Item")
        finished = until != "writeback" or (
            "writeback" in (item or {}) and json.loads(item["writeback"]["S"]).get("status") in ("applied", "failed")
        )
        if item and item["status"]["S"] == "routed" and (until == "routed" or until in item) and finished:
            record = DecisionRecord.from_json(item["record"]["S"])
            for attr in ("writeback",):
                if attr in item:
                    setattr(record, attr, json.loads(item[attr]["S"]))
            if "overrides" in item:
                record.override = {"findings": [json.loads(v["S"]) for v in item["overrides"]["L"]]}
            return record
        time.sleep(0.2)
    raise AssertionError(f"{decision_id} did not reach {until}")


def _send_comment(runner: LocalRunner, event_id: str, ticket_id: str) -> str:
    event = load_event("ingest__zendesk_comment_added.json")
    body = json.loads(event["body"])
    body["id"] = event_id
    body["detail"]["id"] = ticket_id
    body["subject"] = f"zen:ticket:{ticket_id}"
    sample = Sample("zendesk", json.dumps(body).encode(), {"content-type": "application/json"})
    assert send(sample, runner.base_url, SECRET).status_code == 200
    return f"zendesk:90817263:{event_id}"


def test_flag_change_switches_shadow_to_auto_and_the_ticket_is_updated(stack):
    runner, sandboxes, flags = stack

    # A ticket is decided once: the shadow decision and the auto one are about two tickets.
    shadow = _record(runner, _send_comment(runner, "evt-shadow", "40215"))
    _write_flags(flags, "auto")
    time.sleep(1.5)  # the flags' cache time
    auto = _record(runner, _send_comment(runner, "evt-auto", "40198"), until="writeback")

    assert (shadow.mode, shadow.action) == ("shadow", "record")
    assert (auto.mode, auto.action) == ("auto", "apply"), auto.reason_codes
    assert auto.writeback["status"] == "applied"
    ticket = sandboxes.zendesk.ticket(40198)
    assert "ai_triaged" in ticket["tags"]
    assert "reports" in ticket["tags"]  # the agent's tags are still there
    assert ticket["group_id"] == 36002118  # the bug team, from the policy's write-back mapping


def test_human_change_after_an_auto_write_back_is_recorded_as_an_override(stack):
    runner, _sandboxes, flags = stack
    _write_flags(flags, "auto")
    time.sleep(1.5)
    decision_id = _send_comment(runner, "evt-override", "40211")
    decided = _record(runner, decision_id, until="writeback")
    assert decided.action == "apply", decided.reason_codes
    human = "urgent" if decided.labels["priority"] != "urgent" else "low"

    change = load_event("ingest__zendesk_priority_changed.json")
    body = json.loads(change["body"])
    body["detail"].update(id="40211", priority=human.upper())
    body["subject"] = "zen:ticket:40211"
    body["event"] = {"current": human.upper(), "previous": "NORMAL"}
    sample = Sample("zendesk", json.dumps(body).encode(), {"content-type": "application/json"})
    assert send(sample, runner.base_url, SECRET).status_code == 200

    record = _record(runner, decision_id, until="overrides")
    [finding] = record.override["findings"]
    assert (finding["kind"], finding["task"], finding["human_label"]) == ("override", "priority", human)
