"""Integration fixtures: moto with the template's resources, the ingest handler in-process."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.builders import HUBSPOT_SECRET, HUBSPOT_URL, ROOT, ZENDESK_SECRET
from tests.contract.recorded_requests import ContractWatch
from tests.integration.least_privilege import least_privilege  # noqa: F401 (session-wide, autouse)
from triage_gate.adapters.aws import AwsClients
from triage_gate.compose.common import Lazy
from triage_local.provision import provision
from triage_local.template import Template
from triage_local.worker import LocalLambdaContext


class Stack:
    """The template's resources in moto, with the physical ids the handlers are given."""

    def __init__(self, template: Template, session: Any) -> None:
        self.template = template
        self.session = session
        self.sqs = session.client("sqs")
        self.ddb = session.client("dynamodb")

    def url(self, logical: str) -> str:
        return str(self.template.physical[logical]["Ref"])

    def sqs_event(self, logical: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda SQS event for messages received from a queue (what the event source mapping sends)."""
        arn = self.template.physical[logical]["Arn"]
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]},
             "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
             "eventSourceARN": arn, "awsRegion": "us-east-1"}
            for m in messages
        ]  # fmt: skip
        return {"Records": records}

    def drain(self, logical: str) -> list[dict[str, Any]]:
        """Every message body on a queue (received and deleted)."""
        bodies: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.url(logical), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url(logical), ReceiptHandle=message["ReceiptHandle"])


# Tests of the fakes themselves drive them with hand-made requests, invalid ones on purpose: those requests are
# not our code's, so their violations are listed in the test's report (a teardown section) instead of failing it.
INTEGRATION = ROOT / "tests" / "integration"
FAKE_SELF_TESTS = (INTEGRATION / "sandboxes", INTEGRATION / "test_slack_sandbox.py")


@pytest.fixture(autouse=True)
def vendor_contracts(request: pytest.FixtureRequest) -> Iterator[ContractWatch]:
    """Every request a fake Slack, Zendesk or HubSpot answers during the test must conform to the vendor's
    contract (Slack's Web API spec; our request schemas from Zendesk's and HubSpot's docs): a violation fails
    the test at teardown, naming the request and what is wrong. See tests/contract/recorded_requests.py."""
    with ContractWatch() as watch:
        yield watch
    violations = watch.violations()
    if not violations:
        return
    heading = f"{len(violations)} vendor contract violation(s) in {watch.checked} request(s):"
    listed = "\n  ".join([heading, *violations])
    if any(Path(request.path).resolve().is_relative_to(path) for path in FAKE_SELF_TESTS):
        request.node.add_report_section("teardown", "vendor contracts (hand-made requests, not failed)", listed)
        return
    pytest.fail(listed)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")


@pytest.fixture
def stack(aws_credentials: None) -> Iterator[Stack]:
    """template.yaml's queues, tables and secret, created in moto from the template itself."""
    with mock_aws():
        template = Template.load(ROOT / "template.yaml", region="us-east-1")
        session = boto3.session.Session(region_name="us-east-1")
        environ = {"ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET, "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET}
        provision(template, session, environ)
        yield Stack(template, session)


def load_handler(function: str, aws: AwsClients | None = None) -> ModuleType:
    """functions/<function>/app.py, freshly loaded (a cold start); ``aws`` stands in for its boto3 clients."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_app", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if aws is not None:
        compose = getattr(module, function)  # app.py imports its composition module by the function's name
        module.SERVICE = Lazy(lambda: compose.build(aws=aws))
    return module


class SqsSpy:
    """An SQS client with its change_message_visibility calls recorded (the Retry-After requeue)."""

    def __init__(self, inner: Any, calls: list[dict[str, Any]]) -> None:
        self._inner, self._calls = inner, calls

    def change_message_visibility(self, **kwargs: Any) -> Any:
        self._calls.append(kwargs)
        return self._inner.change_message_visibility(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SpyingAws(AwsClients):
    """The function's clients, with SQS spied on."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        super().__init__()
        self.visibility_calls = calls

    def client(self, service: str, *, connect_timeout: float = 2.0, read_timeout: float = 3.0) -> Any:
        made = super().client(service, connect_timeout=connect_timeout, read_timeout=read_timeout)
        return SqsSpy(made, self.visibility_calls) if service == "sqs" else made


@pytest.fixture
def ingest(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Invoke IngestFunction's handler in-process with the environment the template gives it."""
    env = {
        "TRIAGE_QUEUE_URL": stack.url("TriageQueue"),
        "DEDUPE_TABLE_NAME": stack.url("DedupeTable"),
        "TRIAGE_SECRET_ID": stack.url("VendorSecret"),
        "HUBSPOT_WEBHOOK_URL": HUBSPOT_URL,
        "POWERTOOLS_SERVICE_NAME": "ingest",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    module = load_handler("ingest")

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        context = LocalLambdaContext(int(time.time() * 1000) + 10_000)
        return dict(module.lambda_handler(event, context))

    return invoke
