"""`triage deploy-check`: the parameters a deploy would use, and refusal before a stack that cannot work."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.builders import ROOT
from triage_tools.cli import main


def _project(tmp_path: Path, overrides: str, capabilities: str = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND") -> Path:
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "samconfig.toml").write_text(
        f'version = 0.1\n[prod.deploy.parameters]\ncapabilities = "{capabilities}"\n'
        f'parameter_overrides = "{overrides}"\n',
        encoding="utf-8",
    )
    return tmp_path


def _check(root: Path) -> int:
    return main(["deploy-check", "--env", "prod", "--root", str(root)])


def test_complete_parameters_pass_and_every_parameter_is_listed_with_its_source(tmp_path, capsys):
    root = _project(
        tmp_path, 'Stage=\\"prod\\" ZendeskBaseUrl=\\"https://acme.zendesk.com\\" AlarmEmail=\\"oncall@acme.test\\"'
    )

    assert _check(root) == 0

    out = capsys.readouterr().out
    assert "https://acme.zendesk.com  [samconfig.toml [prod]]" in out
    assert "HubSpotBaseUrl             https://api.hubapi.com  [template default]" in out
    assert out.count("[template default]") + out.count("[samconfig.toml [prod]]") == 24  # every parameter


def test_the_shipped_samconfig_is_refused_until_its_placeholders_are_replaced(capsys):
    assert _check(ROOT) == 2

    err = capsys.readouterr().err
    assert "ZendeskBaseUrl is still 'https://CHANGE-ME.zendesk.com'" in err
    assert "AlarmEmail is still 'CHANGE-ME@example.com'" in err


def test_a_zendesk_workflow_without_a_zendesk_url_is_refused(tmp_path, capsys):
    root = _project(tmp_path, 'Stage=\\"prod\\" AlarmEmail=\\"oncall@acme.test\\"')

    assert _check(root) == 2

    assert "ZendeskBaseUrl is empty but the policy has a Zendesk workflow" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ('Stage=\\"prod\\" NoSuchParameter=\\"1\\"', "does not declare: ['NoSuchParameter']"),
        ("Stage", "'Stage' is not Name=Value"),
    ],
)
def test_bad_samconfig_overrides_are_usage_errors(tmp_path, capsys, overrides, message):
    assert _check(_project(tmp_path, overrides)) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_environment_names_the_known_ones(tmp_path, capsys):
    root = _project(tmp_path, 'Stage=\\"prod\\"')

    assert main(["deploy-check", "--env", "staging", "--root", str(root)]) == 2
    assert "no [staging.deploy.parameters] (environments: ['prod'])" in capsys.readouterr().err


def test_a_nested_application_needs_auto_expand(tmp_path, capsys):
    complete = 'Stage=\\"prod\\" ZendeskBaseUrl=\\"https://acme.zendesk.com\\" AlarmEmail=\\"oncall@acme.test\\"'
    root = _project(tmp_path, complete, capabilities="CAPABILITY_IAM")

    assert _check(root) == 2
    assert "capabilities lacks CAPABILITY_AUTO_EXPAND" in capsys.readouterr().err


def test_every_shipped_environment_deploys_with_the_capabilities_the_template_needs():
    import tomllib

    from triage_local.template import load_yaml
    from triage_tools.cli.deploy_check import capability_problems

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    template = load_yaml(ROOT / "template.yaml")
    for env in ("default", "dev", "prod"):
        assert capability_problems(config, template, env) == []
