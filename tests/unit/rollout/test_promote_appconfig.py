"""`triage rollout promote` in AWS, end to end with boto3 against moto (+ the AppConfig deployments moto lacks):
a new hosted version holding the validated document, a deployment with the stack's strategy, a second
deployment refused while one is in progress, the audit trail in the ControlTable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.unit.rollout import shadow
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.policy import load_policy
from triage_gate.rollout import validate_flags
from triage_local.sandboxes.appconfig_api import install
from triage_local.sandboxes.appconfig_deployments import DEPLOYMENTS
from triage_tools.cli import main
from triage_tools.rollout.audit import DynamoAuditTrail
from triage_tools.rollout.change import plan_change

LOCAL_FLAGS = json.loads(Path("infra/local/flags.json").read_text(encoding="utf-8"))
STACK = "triage-gate-test"


@dataclass
class Deployed:
    appconfig: Any
    ddb: Any
    app: str
    env: str
    profile: str
    strategy: str
    clock: list[datetime]

    def advance(self, minutes: float) -> None:
        self.clock[0] += timedelta(minutes=minutes)

    def content(self, version: int) -> dict[str, Any]:
        found = self.appconfig.get_hosted_configuration_version(
            ApplicationId=self.app, ConfigurationProfileId=self.profile, VersionNumber=version
        )
        return json.loads(found["Content"].read())  # type: ignore[no-any-return]

    def deployments(self) -> list[dict[str, Any]]:
        return self.appconfig.list_deployments(ApplicationId=self.app, EnvironmentId=self.env)["Items"]  # type: ignore[no-any-return]


def _table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )  # fmt: skip


def _stack(outputs: dict[str, str]) -> None:
    """A CloudFormation stack with the outputs `triage rollout --stack` reads."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=STACK, TemplateBody=json.dumps(template)
    )


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """The template's rollout resources and tables, the local flags deployed (COMPLETE) as version 1."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("TRIAGE_ACTOR", raising=False)
    clock = [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(DEPLOYMENTS, "clock", lambda: clock[0])
    install()
    with mock_aws():
        appconfig = boto3.client("appconfig", region_name="us-east-1")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        app = appconfig.create_application(Name="triage-gate-test")["Id"]
        profile = appconfig.create_configuration_profile(
            ApplicationId=app, Name="rollout", LocationUri="hosted", Type="AWS.Freeform"
        )["Id"]
        alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:model-degraded"
        env = appconfig.create_environment(ApplicationId=app, Name="test", Monitors=[{"AlarmArn": alarm}])["Id"]
        strategy = appconfig.create_deployment_strategy(
            Name="triage-gate-test-linear", DeploymentDurationInMinutes=10, GrowthType="LINEAR", GrowthFactor=25,
            FinalBakeTimeInMinutes=10, ReplicateTo="NONE",
        )["Id"]  # fmt: skip
        appconfig.create_hosted_configuration_version(
            ApplicationId=app, ConfigurationProfileId=profile, Content=json.dumps(LOCAL_FLAGS).encode(),
            ContentType="application/json",
        )  # fmt: skip
        appconfig.start_deployment(
            ApplicationId=app, EnvironmentId=env, ConfigurationProfileId=profile, ConfigurationVersion="1",
            DeploymentStrategyId=strategy,
        )  # fmt: skip
        for name in ("decisions", "control"):
            _table(ddb, name)
        _stack({"RolloutApplicationId": app, "RolloutEnvironmentId": env, "RolloutProfileId": profile,
                "RolloutDeploymentStrategyId": strategy, "DecisionsTableName": "decisions",
                "ControlTableName": "control"})  # fmt: skip
        found = Deployed(appconfig, ddb, app, env, profile, strategy, clock)
        found.advance(25)  # the initial deployment is COMPLETE
        store = DynamoDecisionStore("decisions", ddb)
        for record in shadow(100, 100, workflow="hubspot-tickets", created=datetime.now(UTC) - timedelta(hours=1)):
            store.create(record)
        yield found


def promote(*extra: str) -> int:
    return main(["rollout", "promote", "--workflow", "hubspot-tickets", "--stack", STACK, *extra])


def status() -> dict[str, Any]:
    return dict(json.loads(_captured(["rollout", "status", "--stack", STACK, "--json"])))


def _captured(argv: list[str]) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


def test_promote_creates_a_hosted_version_and_deploys_it_with_the_stacks_strategy(deployed):
    assert promote("--to", "assist") == 0

    expected = plan_change(LOCAL_FLAGS, "hubspot-tickets", load_policy().workflows["hubspot-tickets"], "assist")
    assert deployed.content(2) == expected.document
    assert validate_flags(deployed.content(2)) == []
    latest = deployed.deployments()[0]
    assert (latest["DeploymentNumber"], latest["ConfigurationVersion"], latest["State"]) == (2, "2", "DEPLOYING")
    detail = deployed.appconfig.get_deployment(
        ApplicationId=deployed.app, EnvironmentId=deployed.env, DeploymentNumber=2
    )
    assert detail["DeploymentStrategyId"] == deployed.strategy
    assert detail["Description"].startswith("mode.hubspot-tickets: 'default' shadow -> assist by arn:aws:")


def test_the_audit_trail_is_an_item_collection_per_workflow_in_the_control_table(deployed):
    assert promote("--to", "assist") == 0
    deployed.advance(25)
    assert promote("--to", "shadow", "--reason", "too many overrides in the pilot") == 0

    recent = DynamoAuditTrail("control", deployed.ddb).recent(["hubspot-tickets", "zendesk-support"], limit=5)

    assert [(e.from_mode, e.to_mode, e.kind) for e in recent.entries] == [
        ("assist", "shadow", "roll_back"), ("shadow", "assist", "promotion"),
    ]  # fmt: skip
    latest = recent.entries[0]
    assert latest.identity is not None
    assert latest.identity.startswith("arn:aws:")
    assert latest.actor == latest.identity  # no --actor, no $TRIAGE_ACTOR: the AWS caller
    assert latest.result["version"] == 3
    assert latest.result["deployment"] == 3
    assert latest.result["strategy"] == deployed.strategy
    keys = {item["pk"]["S"] for item in deployed.ddb.scan(TableName="control")["Items"]}
    assert keys == {"rollout-audit#hubspot-tickets", "rollout-audit#hubspot-tickets#00000001",
                    "rollout-audit#hubspot-tickets#00000002"}  # fmt: skip


def test_a_second_change_is_refused_while_a_deployment_is_in_progress(deployed, capsys):
    assert promote("--to", "assist") == 0
    capsys.readouterr()

    assert promote("--to", "shadow") == 1

    assert "deployment 2 (version 2) is DEPLOYING at 25% in AppConfig" in capsys.readouterr().err
    with pytest.raises(deployed.appconfig.exceptions.ResourceNotFoundException):
        deployed.content(3)  # no version was created for the refused change
    with pytest.raises(deployed.appconfig.exceptions.ConflictException, match="Deployment number 2 is DEPLOYING"):
        deployed.appconfig.start_deployment(
            ApplicationId=deployed.app, EnvironmentId=deployed.env, ConfigurationProfileId=deployed.profile,
            ConfigurationVersion="1", DeploymentStrategyId=deployed.strategy,
        )  # fmt: skip


def test_status_reads_what_is_deployed_and_an_alarm_roll_back_leaves_the_previous_flags(deployed):
    assert promote("--to", "assist") == 0

    during = status()
    assert during["deployment_in_progress"].startswith("deployment 2 (version 2) is DEPLOYING")
    assert _default_mode(during) == "shadow"  # version 1 is what the functions read until version 2 completes

    assert DEPLOYMENTS.alarm(deployed.app, deployed.env)
    after_alarm = status()
    assert deployed.deployments()[0]["State"] == "ROLLED_BACK"
    assert after_alarm["deployment_in_progress"] is None
    assert _default_mode(after_alarm) == "shadow"

    assert promote("--to", "assist") == 0
    deployed.advance(20)
    assert _default_mode(status()) == "assist"


def _default_mode(found: dict[str, Any]) -> str:
    segments = found["workflows"]["hubspot-tickets"]["segments"]
    return str(next(s["mode"] for s in segments if s["label"] == "default"))


def test_unknown_strategy_or_version_are_refused_as_aws_does(deployed, capsys):
    assert promote("--to", "assist", "--deployment-strategy", "nope123") == 1
    assert "cannot use deployment strategy nope123" in capsys.readouterr().err
    with pytest.raises(deployed.appconfig.exceptions.ResourceNotFoundException):
        deployed.content(2)  # checked before a version was created
    with pytest.raises(deployed.appconfig.exceptions.BadRequestException, match="Configuration version '99'"):
        deployed.appconfig.start_deployment(
            ApplicationId=deployed.app, EnvironmentId=deployed.env, ConfigurationProfileId=deployed.profile,
            ConfigurationVersion="99", DeploymentStrategyId=deployed.strategy,
        )  # fmt: skip
    with pytest.raises(deployed.appconfig.exceptions.ResourceNotFoundException):
        deployed.appconfig.get_environment(ApplicationId=deployed.app, EnvironmentId="zzzz999")


def test_a_deployed_table_without_appconfig_ids_is_a_usage_error(deployed, capsys):
    code = main(["rollout", "status", "--table", "decisions"])

    assert code == 2
    assert "a deployed stack's flags are in AppConfig: give --stack NAME" in capsys.readouterr().err
