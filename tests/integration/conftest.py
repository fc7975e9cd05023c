"""Integration fixtures: moto with the template's resources, the ingest handler in-process."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.factories import HUBSPOT_SECRET, HUBSPOT_URL, ROOT, ZENDESK_SECRET
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


def load_handler(function: str) -> ModuleType:
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_app", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
