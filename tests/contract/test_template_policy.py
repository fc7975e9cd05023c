"""House rules for template.yaml, checked on every run (what custom cfn-lint rules would encode)."""

from __future__ import annotations

import pytest

from tests.builders import ROOT
from triage_local.template import Template

TEMPLATE = Template.load(ROOT / "template.yaml", region="us-east-1")
FUNCTIONS = TEMPLATE.resources_of("AWS::Serverless::Function")
QUEUES = TEMPLATE.resources_of("AWS::SQS::Queue")
# Alarms, the dashboard and the on-call topic live in a nested application (infra/monitoring/template.yaml).
MONITORING_APP = TEMPLATE.resources["Monitoring"]["Properties"]
MONITORING = Template.load(ROOT / MONITORING_APP["Location"], region="us-east-1")
ALARMS = MONITORING.resources_of("AWS::CloudWatch::Alarm")


def _dead_letter_queues() -> set[str]:
    targets = set()
    for queue in QUEUES.values():
        redrive = (queue.get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            targets.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
    return targets


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_retention(function):
    groups = [
        g["Properties"]
        for g in TEMPLATE.resources_of("AWS::Logs::LogGroup").values()
        if g["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert groups, f"{function} has no /aws/lambda log group"
    assert groups[0].get("RetentionInDays")


@pytest.mark.parametrize("queue", sorted(set(QUEUES) - _dead_letter_queues()))
def test_every_work_queue_redrives_to_a_dlq_with_an_alarm(queue):
    redrive = QUEUES[queue]["Properties"].get("RedrivePolicy")
    assert redrive, f"{queue} has no RedrivePolicy"
    dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    # The parent passes the DLQ's name to the monitoring stack, whose alarm watches that parameter.
    assert MONITORING_APP["Parameters"][f"{dlq}Name"] == {"Fn::GetAtt": [dlq, "QueueName"]}
    watched = [
        a for a in ALARMS.values() if a["Properties"].get("Dimensions", [{}])[0].get("Value") == {"Ref": f"{dlq}Name"}
    ]
    assert watched, f"no alarm watches {dlq}"
    assert watched[0]["Properties"]["AlarmActions"]


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_every_queue_is_encrypted(queue):
    assert QUEUES[queue]["Properties"].get("SqsManagedSseEnabled") is True


def test_queue_visibility_timeout_is_at_least_six_times_its_consumers_timeout():
    default_timeout = TEMPLATE.function_globals().get("Timeout", 3)
    for name, function in FUNCTIONS.items():
        props = function["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            visibility = QUEUES[queue]["Properties"]["VisibilityTimeout"]
            assert visibility >= 6 * props.get("Timeout", default_timeout), f"{queue} vs {name}"


def test_no_wildcard_actions_in_inline_policies():
    for name, function in FUNCTIONS.items():
        for policy in function["Properties"].get("Policies") or []:
            for statement in (policy.get("Statement") or []) if isinstance(policy, dict) else []:
                assert statement.get("Action") not in ("*", ["*"]), name


def test_runtime_and_architecture_match_the_lambda_target():
    glob = TEMPLATE.function_globals()
    assert glob["Runtime"] == "python3.13"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"


def test_every_alarm_notifies_the_on_call_topic():
    for name, alarm in ALARMS.items():
        assert alarm["Properties"].get("AlarmActions") == [{"Ref": "AlarmTopic"}], name


def _statements() -> list[tuple[str, dict]]:
    found = []
    for name, resource in TEMPLATE.resources.items():
        props = resource.get("Properties") or {}
        for policy in props.get("Policies") or []:
            if isinstance(policy, dict):
                document = policy.get("PolicyDocument", policy)
                found.extend((name, s) for s in document.get("Statement") or [])
    return found


def test_no_statement_grants_every_action_on_every_resource():
    statements = _statements()
    assert statements, "expected inline statements to check"
    for name, statement in statements:
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        assert "*" not in actions, f"{name} grants '*' actions"


def test_every_alarm_tells_on_call_what_to_check():
    for name, alarm in ALARMS.items():
        assert len(alarm["Properties"].get("AlarmDescription", "")) > 30, name


def test_the_monitoring_stack_gets_every_parameter_it_declares():
    declared = set(MONITORING.parameters)
    given = set(MONITORING_APP["Parameters"])
    assert given == declared


def test_appconfig_rolls_back_on_alarms_of_the_monitoring_stack():
    monitors = TEMPLATE.resources["RolloutEnvironment"]["Properties"]["Monitors"]
    arns = [m["AlarmArn"]["Fn::GetAtt"] for m in monitors]
    assert {a[0] for a in arns} == {"Monitoring"}
    assert {a[1].removeprefix("Outputs.").removesuffix("Arn") for a in arns} <= set(ALARMS)
