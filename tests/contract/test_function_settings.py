"""Each function's environment in template.yaml matches the settings model its composition reads: every
required setting is set, and nothing is set that the function never reads (a stale variable misleads)."""

from __future__ import annotations

import pytest

from tests.builders import ROOT
from triage_gate.config import (
    EnvSettings,
    IngestSettings,
    ReviewBacklogSettings,
    ReviewNotifySettings,
    RoiDigestSettings,
    SlackActionsSettings,
    TriageSettings,
    WritebackSettings,
)
from triage_local.template import Template

TEMPLATE = Template.load(ROOT / "template.yaml", region="us-east-1")
FUNCTIONS = TEMPLATE.resources_of("AWS::Serverless::Function")
SETTINGS: dict[str, type[EnvSettings]] = {
    "functions/ingest/": IngestSettings,
    "functions/triage/": TriageSettings,
    "functions/writeback/": WritebackSettings,
    "functions/slack_actions/": SlackActionsSettings,
    "functions/review_notify/": ReviewNotifySettings,
    "functions/review_backlog/": ReviewBacklogSettings,
    "functions/roi_digest/": RoiDigestSettings,
}
# Powertools reads POWERTOOLS_* itself; STAGE is a label for people reading the console, read by no code.
NOT_OURS = {"STAGE"}


def _environment(function: str) -> set[str]:
    globals_env = TEMPLATE.function_globals()["Environment"]["Variables"]
    own = FUNCTIONS[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {name for name in {**globals_env, **own} if not name.startswith("POWERTOOLS_")} - NOT_OURS


def _settings(function: str) -> type[EnvSettings]:
    code_uri = FUNCTIONS[function]["Properties"]["CodeUri"]
    assert code_uri in SETTINGS, f"{function} ({code_uri}) has no settings model in this test"
    return SETTINGS[code_uri]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_required_setting_is_set_by_the_template(function):
    settings = _settings(function)
    required = settings.required_variables()
    assert required <= _environment(function), f"{function} misses {sorted(required - _environment(function))}"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_sets_nothing_the_function_does_not_read(function):
    read = set(_settings(function).variables())
    assert _environment(function) <= read, f"{function} is given {sorted(_environment(function) - read)}"


# The vendor API bases a deployer sets, and whether they may be empty (unset).
VENDOR_URL_PARAMETERS = {"ZendeskBaseUrl": True, "HubSpotBaseUrl": False, "AnthropicBaseUrl": True,
                         "SlackApiUrl": False}  # fmt: skip
URL_SAMPLES = ["https://slack.com/api/", "http://127.0.0.1:9/api/", "https://acme.zendesk.com", "slack.com/api/",
               "ftp://slack.com/api/", "https://", "https://a b", "https://a.example/x?y=1"]  # fmt: skip


@pytest.mark.parametrize("parameter", sorted(VENDOR_URL_PARAMETERS))
def test_a_vendor_url_parameter_refuses_at_deploy_what_the_function_would_refuse(parameter: str) -> None:
    """CloudFormation checks AllowedPattern at deploy; the function's settings check the same at its cold start."""
    import re

    from triage_gate.config import VENDOR_URL_PATTERN

    allowed = TEMPLATE.parameters[parameter]["AllowedPattern"]
    for value in URL_SAMPLES:
        assert bool(re.fullmatch(allowed, value)) == bool(re.search(VENDOR_URL_PATTERN, value)), value
    assert bool(re.fullmatch(allowed, "")) == VENDOR_URL_PARAMETERS[parameter]
