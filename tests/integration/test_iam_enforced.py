"""IAM enforced by the local runner: each function holds only its own role, as SAM expands the template.

A template that forgets a permission fails here, with the denied action and resource in the function's log,
instead of failing in the first deployment; an unknown key is refused; `TRIAGE_ENFORCE_IAM=0` turns it off.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.least_privilege import mark_denials_expected
from triage_local.runner import LocalRunner, RunnerConfig, enforce_iam_from

FIXTURES = Path(__file__).parent / "fixtures"


def _template_without_the_consumers_policy(directory: Path) -> Path:
    text = (FIXTURES / "echo_template.yaml").read_text(encoding="utf-8")
    start = text.index("      # The runner enforces IAM")
    end = text.index("      Events:", start)
    (directory / "echo_function").symlink_to(FIXTURES / "echo_function", target_is_directory=True)
    path = directory / "template.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert "DynamoDBWritePolicy" not in path.read_text(encoding="utf-8")
    return path


def _environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_"))}
    return {**env, **extra}


def _wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_a_permission_the_template_lacks_is_denied_and_named_in_the_functions_log(tmp_path: Path) -> None:
    log = io.StringIO()
    config = RunnerConfig(template_path=_template_without_the_consumers_policy(tmp_path), port=0,
                          environ=_environ(), retry_delay_seconds=0)  # fmt: skip
    with LocalRunner(config, log=log) as runner:
        mark_denials_expected(runner)
        sqs = runner.session.client("sqs")
        sqs.send_message(QueueUrl=runner.physical_id("WorkQueue"), MessageBody=json.dumps({"n": 1}))
        _wait_for(lambda: bool(runner.denied_calls()))
        table_arn = runner.physical_id("SeenTable", "Arn")
        _wait_for(lambda: f"AccessDenied: dynamodb:PutItem on {table_arn}" in log.getvalue())
        # The record was not lost: it failed, and SQS redrives it to the DLQ after maxReceiveCount.
        dlq = runner.physical_id("WorkDlq")
        _wait_for(lambda: int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                             ["Attributes"]["ApproximateNumberOfMessages"]) == 1)  # fmt: skip

    denied = runner.denied_calls()
    assert [(c.function, c.action) for c in denied] == [("ConsumerFunction", "dynamodb:PutItem")]
    assert "ERROR 1 AWS call(s) were denied" in log.getvalue()


def test_each_function_holds_only_its_own_roles_grants() -> None:
    config = RunnerConfig(template_path=FIXTURES / "echo_template.yaml", port=0, environ=_environ(),
                          retry_delay_seconds=0)  # fmt: skip
    with LocalRunner(config, log=io.StringIO()) as runner:
        mark_denials_expected(runner)  # the put_item below is denied on purpose
        consumer = runner.function_env(runner.functions["ConsumerFunction"].spec)
        echo = runner.function_env(runner.functions["EchoFunction"].spec)
        assert consumer["AWS_ACCESS_KEY_ID"] != echo["AWS_ACCESS_KEY_ID"]
        assert consumer["AWS_SESSION_TOKEN"]  # an assumed role's temporary credentials
        # EchoFunction's role has no DynamoDB statement: its credentials cannot write the consumer's table.
        ddb = boto3.client(
            "dynamodb", endpoint_url=runner.endpoint_url, region_name="us-east-1",
            aws_access_key_id=echo["AWS_ACCESS_KEY_ID"], aws_secret_access_key=echo["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=echo["AWS_SESSION_TOKEN"],
        )  # fmt: skip
        with pytest.raises(ClientError) as denied:
            ddb.put_item(TableName=runner.physical_id("SeenTable"), Item={"id": {"S": "x"}})
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "dynamodb:PutItem" in str(denied.value)
        # A key moto never issued is refused outright.
        stranger = boto3.client("sqs", endpoint_url=runner.endpoint_url, region_name="us-east-1",
                                aws_access_key_id="AKIAUNKNOWN", aws_secret_access_key="nope")  # fmt: skip
        with pytest.raises(ClientError):
            stranger.list_queues()


def test_the_switch_turns_enforcement_off(tmp_path: Path) -> None:
    config = RunnerConfig(template_path=_template_without_the_consumers_policy(tmp_path), port=0,
                          environ=_environ(TRIAGE_ENFORCE_IAM="0"), retry_delay_seconds=0)  # fmt: skip
    with LocalRunner(config, log=io.StringIO()) as runner:
        assert runner.iam is None
        sqs = runner.session.client("sqs")
        sqs.send_message(QueueUrl=runner.physical_id("WorkQueue"), MessageBody=json.dumps({"n": 1}))
        ddb = runner.session.client("dynamodb")
        _wait_for(lambda: ddb.scan(TableName=runner.physical_id("SeenTable"))["Count"] == 1)
    assert runner.aws_calls() == []


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("0", False), ("False", False)])
def test_the_switch_reads_one_and_zero(value: str, expected: bool) -> None:
    assert enforce_iam_from({"TRIAGE_ENFORCE_IAM": value}) is expected
    assert enforce_iam_from({}) is True


def test_a_bad_switch_value_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="TRIAGE_ENFORCE_IAM must be 1 or 0, got 'maybe'"):
        enforce_iam_from({"TRIAGE_ENFORCE_IAM": "maybe"})


def test_the_template_translation_gives_the_role_sam_would() -> None:
    from triage_local.iam import function_roles, translate
    from triage_local.template import Template

    template = Template.load(FIXTURES / "echo_template.yaml", region="us-east-1")
    roles = function_roles(template, translate(template))

    consumer = roles["ConsumerFunction"]
    actions = {a for doc in consumer.inline_policies.values() for s in doc["Statement"] for a in s["Action"]}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions  # DynamoDBWritePolicy, expanded by SAM
    assert any(arn.endswith("AWSLambdaSQSQueueExecutionRole") for arn in consumer.managed_policy_arns)
    assert roles["EchoFunction"].inline_policies == {}


def test_a_code_uri_under_globals_translates_too(tmp_path: Path) -> None:
    from triage_local.iam import function_roles, translate
    from triage_local.template import Template

    text = (FIXTURES / "echo_template.yaml").read_text(encoding="utf-8")
    text = text.replace("      CodeUri: echo_function/\n", "").replace(
        "    Timeout: 5\n", "    Timeout: 5\n    CodeUri: echo_function/\n"
    )
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    template = Template.load(tmp_path / "template.yaml", region="us-east-1")

    assert set(function_roles(template, translate(template))) == {"ConsumerFunction", "EchoFunction", "BrokenFunction"}
