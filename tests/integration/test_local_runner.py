"""The local runner over real HTTP on loopback: template.yaml end to end, and a template it never saw."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.builders import EVENTS_DIR, ROOT
from triage_gate.triage.decision import DecisionRecord
from triage_local.runner import LocalRunner, RunnerConfig, wait_until_healthy
from triage_local.webhooks import Sample, send

FIXTURES = Path(__file__).parent / "fixtures"
SECRETS = {"ZENDESK_WEBHOOK_SECRET": "runner-zd-secret", "HUBSPOT_CLIENT_SECRET": "runner-hs-secret"}


def _environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
    return {**env, **SECRETS}


@pytest.fixture(scope="module")
def runner() -> Iterator[LocalRunner]:
    config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=_environ())
    with LocalRunner(config, log=io.StringIO()) as running:
        yield running


def _decided(runner: LocalRunner, expected: int, timeout: float = 30) -> list[DecisionRecord]:
    """Decision records once TriageFunction (fed by the runner's SQS mapping) has routed them."""
    ddb = runner.session.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        items = ddb.scan(TableName=runner.physical_id("DecisionsTable"), ConsistentRead=True)["Items"]
        routed = [DecisionRecord.from_json(i["record"]["S"]) for i in items if i["status"]["S"] == "routed"]
        if len(routed) >= expected or time.monotonic() > deadline:
            return routed


def test_healthz_reports_routes_and_queues(runner):
    health = requests.get(f"{runner.base_url}/healthz", timeout=5).json()

    assert health["status"] == "ok"
    assert {"POST /webhooks/zendesk", "POST /webhooks/hubspot"} <= set(health["routes"])
    assert {"TriageQueue", "TriageDlq"} <= set(health["queues"])


def test_signed_webhooks_flow_to_the_triage_queue_once(runner):
    zendesk = Sample.load(EVENTS_DIR / "ingest__zendesk_trigger_ticket_created.json")
    hubspot = Sample.load(EVENTS_DIR / "ingest__hubspot_batch.json")

    first = send(zendesk, runner.base_url, SECRETS["ZENDESK_WEBHOOK_SECRET"])
    batch = send(hubspot, runner.base_url, SECRETS["HUBSPOT_CLIENT_SECRET"])
    duplicate = send(zendesk, runner.base_url, SECRETS["ZENDESK_WEBHOOK_SECRET"])

    assert (first.status_code, batch.status_code, duplicate.status_code) == (200, 200, 200)
    assert duplicate.json()["duplicates"] == 1
    assert batch.json()["accepted"] == 2
    # The trigger's ticket.created and HubSpot's ticket.creation are classified; the property change is
    # watched, not classified. The duplicate delivery made no second decision.
    decided = _decided(runner, expected=2)
    assert sorted((d.source, d.ticket_id, d.event_type) for d in decided) == [
        ("hubspot", "19800231", "ticket.created"),
        ("zendesk", "40215", "ticket.created"),
    ]
    deadline = time.monotonic() + 20
    while runner.queue_depths()["TriageQueue"] != {"visible": 0, "in_flight": 0} and time.monotonic() < deadline:
        time.sleep(0.2)  # the property change is still being compared with the decision
    depths = runner.queue_depths()
    assert depths["TriageQueue"] == {"visible": 0, "in_flight": 0}
    assert depths["TriageDlq"]["visible"] == 0


def test_without_a_flags_file_functions_read_the_templates_initial_appconfig_flags(runner):
    flags = runner.function_env(runner.functions["TriageFunction"].spec)["FLAGS_FILE"]

    assert flags == runner.flags_file
    assert json.loads(Path(flags).read_text()) == {}  # RolloutInitialFlags: what a new stack deploys


def test_hubspot_signature_covers_the_runners_own_url(runner):
    hubspot = Sample.load(EVENTS_DIR / "ingest__hubspot_batch.json")
    elsewhere = "https://example.invalid/webhooks/hubspot"
    from triage_local.webhooks import signed_headers

    response = requests.post(
        f"{runner.base_url}/webhooks/hubspot",
        data=hubspot.body,
        headers=signed_headers(hubspot, SECRETS["HUBSPOT_CLIENT_SECRET"], elsewhere),
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"


def test_stale_and_oversized_requests_are_refused_over_http(runner):
    zendesk = Sample.load(EVENTS_DIR / "ingest__zendesk_ticket_created.json")
    stale = send(zendesk, runner.base_url, SECRETS["ZENDESK_WEBHOOK_SECRET"], age=timedelta(minutes=6))
    huge = Sample("zendesk", b'{"pad": "' + b"x" * 1_100_000 + b'"}', {"content-type": "application/json"})
    too_big = send(huge, runner.base_url, SECRETS["ZENDESK_WEBHOOK_SECRET"])

    assert (stale.status_code, stale.json()["error"]) == (401, "stale_timestamp")
    assert (too_big.status_code, too_big.json()["error"]) == (413, "payload_too_large")


def test_unknown_route_is_404_like_api_gateway(runner):
    response = requests.post(f"{runner.base_url}/webhooks/salesforce", data=b"{}", timeout=5)

    assert response.status_code == 404


@pytest.fixture(scope="module")
def echo_runner() -> Iterator[LocalRunner]:
    config = RunnerConfig(
        template_path=FIXTURES / "echo_template.yaml",
        port=0,
        environ=_environ(),
        retry_delay_seconds=0,
        parameter_overrides={"StageName": "ci"},
    )
    with LocalRunner(config, log=io.StringIO()) as running:
        yield running


def _seen(runner: LocalRunner) -> list[dict[str, str]]:
    ddb = runner.session.client("dynamodb")
    items = ddb.scan(TableName=runner.physical_id("SeenTable"))["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def test_sqs_mapping_deletes_successes_and_redrives_failures_to_the_dlq(echo_runner):
    sqs = echo_runner.session.client("sqs")
    queue = echo_runner.physical_id("WorkQueue")
    dlq = echo_runner.physical_id("WorkDlq")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": 1}))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"n": 2, "fail": True}))

    def dlq_has_the_failure() -> bool:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        return [json.loads(m["Body"]) for m in got] == [{"n": 2, "fail": True}]

    _wait_for(dlq_has_the_failure)
    seen = {json.loads(s["body"])["n"]: s for s in _seen(echo_runner)}
    # The good record was delivered once; the bad one on each of its maxReceiveCount (2) receives.
    assert seen[1]["receive_count"] == "1"
    assert seen[2]["receive_count"] == "2"
    assert all(s["source_arn"] == echo_runner.physical_id("WorkQueue", "Arn") for s in seen.values())
    assert echo_runner.queue_depths()["WorkQueue"]["visible"] == 0


def test_http_route_with_path_parameter_and_binary_body(echo_runner):
    response = requests.post(
        f"{echo_runner.base_url}/echo/alpha",
        data=b"\x00\xff",
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["path_parameters"] == {"name": "alpha"}
    assert body["base64"] is True
    assert body["body"] == "AP8="
    assert body["stage_env"] == "ci"
    assert 0 < body["remaining_ms"] <= 5000


def test_handler_exception_is_a_500_and_the_worker_survives(echo_runner):
    first = requests.get(f"{echo_runner.base_url}/broken", timeout=10)
    second = requests.get(f"{echo_runner.base_url}/broken", timeout=10)

    assert first.status_code == second.status_code == 500
    assert first.json() == {"message": "Internal Server Error"}


def test_triage_local_stops_cleanly_on_ctrl_c(tmp_path):
    env = {**_environ(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage_tools.cli", "local", "--port", "0", "--template", str(ROOT / "template.yaml")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = ""
        deadline = time.monotonic() + 60
        while "Triage Gate local stack on" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "triage local exited early"
            assert time.monotonic() < deadline
        base_url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert wait_until_healthy(base_url)["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_runner_reuses_resources_on_an_endpoint_the_user_runs():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        urls = []
        for _ in range(2):
            config = RunnerConfig(
                template_path=ROOT / "template.yaml", port=0, endpoint_url=f"http://{host}:{port}", environ=_environ()
            )
            with LocalRunner(config, log=io.StringIO()) as running:
                urls.append(running.physical_id("TriageQueue"))
                assert running.endpoint_url == f"http://{host}:{port}"
        assert urls[0] == urls[1]
    finally:
        server.stop()


def test_triage_send_posts_a_signed_sample_to_the_runner(runner, capsys):
    from triage_tools.cli import main

    path = EVENTS_DIR / "ingest__zendesk_priority_changed.json"
    secret = SECRETS["ZENDESK_WEBHOOK_SECRET"]

    assert main(["send", str(path), "--url", runner.base_url, "--secret", secret]) == 0
    out = capsys.readouterr().out
    assert out.startswith("HTTP 200")
    assert json.loads(out.split("\n", 1)[1])["accepted"] == 1
    assert main(["send", str(path), "--url", runner.base_url, "--secret", "wrong"]) == 1


def test_a_poison_message_ends_in_the_dlq_with_its_reason_logged():
    log = io.StringIO()
    config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=_environ(), retry_delay_seconds=0)
    with LocalRunner(config, log=log) as running:
        sqs = running.session.client("sqs")
        sqs.send_message(QueueUrl=running.physical_id("TriageQueue"), MessageBody='{"not": "a ticket event"}')
        dlq = running.physical_id("TriageDlq")

        def in_dlq() -> bool:
            return running.queue_depths()["TriageDlq"]["visible"] == 1

        _wait_for(in_dlq, timeout=40)
        body = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=1)["Messages"][0]["Body"]

    assert body == '{"not": "a ticket event"}'
    text = log.getvalue()
    assert "does not parse as a TicketEvent" in text
    assert text.count("does not parse as a TicketEvent") == 5  # one per receive, then the DLQ
    assert "InvalidQueueMessages" in text
    failures = [json.loads(line.split("] ", 1)[1]) for line in text.splitlines() if "record failed" in line]
    assert len(failures) == 5  # each failed receive's reason reaches the function log at error level
    assert all(f["level"] == "ERROR" and "ValidationError" in f["error"] for f in failures)
