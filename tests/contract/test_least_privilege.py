"""Least privilege, both ways: each function's role grants what its code calls, and nothing more.

The grants are the roles SAM's own translator makes of template.yaml (policy templates expanded, intrinsics
resolved to ARNs named after logical ids). The calls are what the functions did under enforced IAM in the
test suite's local runs (`fixtures/aws_calls_observed.json`; every run of the integration suite fails if a
function makes a call that file does not list, and `make iam-observed` adds them). A missing grant fails the
integration tests with AccessDenied; a grant no call uses fails here, unless it is listed below with the
reason the local runs cannot exercise it.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ROOT
from triage_local.aws_calls import symbolic_physical
from triage_local.iam import function_roles, translate
from triage_local.template import Template

OBSERVED_PATH = ROOT / "tests" / "contract" / "fixtures" / "aws_calls_observed.json"
OBSERVED: dict[str, list[str]] = json.loads(OBSERVED_PATH.read_text(encoding="utf-8"))

TEMPLATE = Template.load(ROOT / "template.yaml", region="us-east-1")
TEMPLATE.physical = symbolic_physical(TEMPLATE)
ROLES = function_roles(TEMPLATE, translate(TEMPLATE))

# Managed policies the Lambda service uses on the function's behalf (its code calls none of them).
SERVICE_MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": "the Lambda service writes the logs",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": "Tracing: Active, the Lambda service sends the traces",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole":
        "added by SAM for an SQS event: the event source mapping receives and deletes the messages",
}  # fmt: skip
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table"
QUEUE = "arn:aws:sqs:us-east-1:123456789012"
APPCONFIG = "arn:aws:appconfig:us-east-1:123456789012:application/RolloutApplication/environment/RolloutEnvironment/configuration/RolloutProfile"  # noqa: E501
# Grants the local runs cannot exercise, each with its reason: (function, action, resource) -> why.
NOT_EXERCISED_LOCALLY = {
    **{
        (function, action, APPCONFIG): "locally the flags come from FLAGS_FILE; deployed, Powertools' "
        "AppConfigStore reads the rollout flags with exactly these two calls"
        for function in ("TriageFunction", "RoiDigestFunction")
        for action in ("appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration")
    },
    ("IngestFunction", "dynamodb:DeleteItem", f"{TABLE}/DedupeTable"): "releases the dedupe claims when SQS "
    "refuses the enqueue (moto's SQS cannot be made to fail under the runner; in process: "
    "tests/integration/test_ingest_handler.py::test_queue_outage_answers_503_with_retry_after_and_keeps_the_event_"
    "redeliverable)",
    ("WritebackFunction", "sqs:ChangeMessageVisibility", f"{QUEUE}:ActionsQueue"): "a vendor 429 whose Retry-After "
    "exceeds the time left puts the action back for that long (in process: tests/integration/writeback/"
    "test_handler.py::test_handler_puts_a_rate_limited_record_back_for_retry_after)",
}


def grants(function: str, template: Template = TEMPLATE, roles: dict[str, Any] = ROLES) -> list[tuple[str, str]]:
    """(action, resource) pairs the function's inline policies allow, intrinsics resolved."""
    pairs = []
    for document in roles[function].inline_policies.values():
        for statement in _as_list(template.resolve(document).get("Statement")):
            assert statement.get("Effect") == "Allow", f"{function}: only Allow statements expected"
            pairs += [(a, r) for a in _as_list(statement["Action"]) for r in _as_list(statement["Resource"])]
    return pairs


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _calls(function: str) -> list[tuple[str, str]]:
    return [tuple(grant.split(" ", 1)) for grant in OBSERVED.get(function, [])]  # type: ignore[misc]


def _covers(grant: tuple[str, str], call: tuple[str, str]) -> bool:
    return fnmatchcase(call[0].lower(), grant[0].lower()) and fnmatchcase(call[1], grant[1])


def test_every_function_of_the_template_was_observed() -> None:
    assert set(OBSERVED) == set(ROLES), "run `make iam-observed` after adding or renaming a function"


def unused_grants(function: str, template: Template = TEMPLATE, roles: dict[str, Any] = ROLES) -> list[str]:
    calls = _calls(function)
    return [
        f"{action} on {resource}"
        for action, resource in grants(function, template, roles)
        if not any(_covers((action, resource), call) for call in calls)
        and (function, action, resource) not in NOT_EXERCISED_LOCALLY
    ]


@pytest.mark.parametrize("function", sorted(ROLES))
def test_no_grant_is_broader_than_the_calls_its_code_makes(function: str) -> None:
    assert unused_grants(function) == [], f"{function}'s role grants what its code never calls: narrow template.yaml"


def test_a_broader_grant_is_reported_with_each_action_no_call_uses(tmp_path: Path) -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    anchor = "        - SQSSendMessagePolicy:\n            QueueName: !GetAtt TriageQueue.QueueName\n"
    assert anchor in text
    broader = text.replace(anchor, anchor + "        - DynamoDBReadPolicy:\n            TableName: !Ref DedupeTable\n")
    (tmp_path / "template.yaml").write_text(broader, encoding="utf-8")
    (tmp_path / "infra").symlink_to(ROOT / "infra", target_is_directory=True)  # the nested monitoring stack
    template = Template.load(tmp_path / "template.yaml", region="us-east-1")
    template.physical = symbolic_physical(template)

    unused = unused_grants("IngestFunction", template, function_roles(template, translate(template)))

    assert f"dynamodb:Scan on {TABLE}/DedupeTable" in unused
    assert f"dynamodb:GetItem on {TABLE}/DedupeTable/index/*" in unused
    assert f"dynamodb:PutItem on {TABLE}/DedupeTable" not in unused  # what the code calls is not listed


@pytest.mark.parametrize("function", sorted(ROLES))
def test_every_call_the_code_makes_is_granted(function: str) -> None:
    given = grants(function)
    missing = [f"{a} on {r}" for a, r in _calls(function) if not any(_covers(g, (a, r)) for g in given)]
    assert missing == [], f"{function} calls what its role does not grant"


@pytest.mark.parametrize("function", sorted(ROLES))
def test_managed_policies_are_only_the_ones_the_lambda_service_uses(function: str) -> None:
    assert set(ROLES[function].managed_policy_arns) <= set(SERVICE_MANAGED)


@pytest.mark.parametrize("function", sorted(ROLES))
def test_every_grant_names_its_resource(function: str) -> None:
    assert [(a, r) for a, r in grants(function) if r == "*" or a.endswith(":*")] == []


def test_the_exceptions_list_only_grants_the_template_makes() -> None:
    every = {(f, a, r) for f in ROLES for a, r in grants(f)}
    assert set(NOT_EXERCISED_LOCALLY) <= every, "an exception outlived its grant: remove it"
