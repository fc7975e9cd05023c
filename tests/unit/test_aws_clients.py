"""AwsClients: one session, one client per (service, timeouts), each made at its first use and then kept, so a
first request that never calls a service does not pay for its client; and the Secrets Manager client is not
touched until the secret is read."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from triage_gate.adapters.aws import AwsClients, LazyClient
from triage_gate.adapters.secrets import SecretsManagerSecrets


class CountingSession:
    """A boto3 session that records every client it makes."""

    def __init__(self) -> None:
        self.session = boto3.session.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.made: list[str] = []

    def client(self, service: str, **kwargs: Any) -> Any:
        self.made.append(service)
        return self.session.client(service, **kwargs)


def test_a_client_is_made_at_its_first_use_then_kept() -> None:
    session = CountingSession()
    aws = AwsClients(session)

    sqs = aws.client("sqs")
    assert isinstance(sqs, LazyClient)
    assert not sqs.made
    assert session.made == []
    assert repr(sqs) == "LazyClient(not made yet)"

    assert sqs.meta.service_model.service_name == "sqs"
    assert sqs.meta.region_name == "us-east-1"
    assert sqs.exceptions.QueueDoesNotExist.__name__ == "QueueDoesNotExist"
    assert sqs.made
    assert session.made == ["sqs"]
    assert aws.client("sqs") is sqs  # the same client for the same service and timeouts


def test_each_timeout_pair_is_its_own_client_with_those_timeouts() -> None:
    session = CountingSession()
    aws = AwsClients(session)

    fast = aws.client("dynamodb", connect_timeout=1.0, read_timeout=1.5)
    slow = aws.client("dynamodb", read_timeout=30.0)

    assert fast is not slow
    assert fast.meta.config.connect_timeout == 1.0
    assert fast.meta.config.read_timeout == 1.5
    assert slow.meta.config.read_timeout == 30.0
    assert slow.meta.config.retries["mode"] == "standard"
    assert slow.meta.config.retries["total_max_attempts"] == 3  # botocore's count: 2 retries after the first
    assert session.made == ["dynamodb", "dynamodb"]


def test_calls_go_to_the_real_client() -> None:
    aws = AwsClients(CountingSession())
    ddb = aws.client("dynamodb")
    with Stubber(ddb.unwrap()) as stub:
        stub.add_response("get_item", {"Item": {"pk": {"S": "a"}}}, {"TableName": "t", "Key": {"pk": {"S": "a"}}})
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


def test_a_client_that_cannot_be_made_raises_at_its_first_use_and_again_later() -> None:
    aws = AwsClients(CountingSession())
    unknown = aws.client("no-such-service")

    for _ in range(2):
        with pytest.raises(Exception, match="no-such-service"):
            unknown.meta  # noqa: B018 - the attribute access is what makes the client
    assert not unknown.made


def test_the_secret_client_is_made_at_the_first_read_not_when_the_function_is_built() -> None:
    session = CountingSession()
    client = AwsClients(session).client("secretsmanager")
    secrets = SecretsManagerSecrets("vendor", client, max_age_seconds=300)
    assert session.made == []  # built: nothing made

    with Stubber(client.unwrap()) as stub:
        stub.add_response("get_secret_value", {"SecretString": json.dumps({"SLACK_BOT_TOKEN": "xoxb-1"})})
        token = secrets.get().SLACK_BOT_TOKEN
    assert token is not None
    assert token.get_secret_value() == "xoxb-1"
    assert session.made == ["secretsmanager"]
