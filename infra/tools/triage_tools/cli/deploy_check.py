"""``triage deploy-check --env ENV``: before ``sam deploy``, the parameters this environment will deploy with —
from samconfig.toml, else the template's defaults — and refusal when one would deploy a stack that cannot work:
a Zendesk workflow with no ``ZendeskBaseUrl`` (no context fetch, no write-back: every write-back would retry
into the DLQ), no ``AlarmEmail`` (alarms would reach nobody), or a value still reading ``CHANGE-ME``.
``make deploy`` runs it first."""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLACEHOLDER = "CHANGE-ME"


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str
    source: str  # "samconfig.toml [prod]" or "template default"
    description: str


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "deploy-check",
        help="the parameters a deploy would use, and refusal when one would make the stack unable to work",
        description=__doc__,
    )
    cmd.add_argument("--env", default="default", help="the samconfig.toml environment (default, dev, prod)")
    cmd.add_argument("--root", type=Path, default=Path("."), help="project root (template.yaml, samconfig.toml)")
    cmd.add_argument("--policy", type=Path, help="policy file (default: the shipped one)")
    cmd.set_defaults(func=_cmd_deploy_check)


def _cmd_deploy_check(args: argparse.Namespace) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import load_policy
    from triage_local.template import load_yaml

    try:
        config = tomllib.loads((args.root / "samconfig.toml").read_text(encoding="utf-8"))
        template = load_yaml(args.root / "template.yaml")
        policy = load_policy(args.policy)
    except (OSError, tomllib.TOMLDecodeError, ConfigurationError) as exc:
        print(f"triage deploy-check: {exc}", file=sys.stderr)
        return 2
    try:
        parameters = deploy_parameters(config, template, args.env)
    except ValueError as exc:
        print(f"triage deploy-check: {exc}", file=sys.stderr)
        return 2
    print(f"Parameters for `sam deploy --config-env {args.env}`:")
    width = max(len(p.name) for p in parameters.values())
    for parameter in parameters.values():
        shown = parameter.value if parameter.value != "" else "(empty)"
        print(f"  {parameter.name:<{width}}  {shown}  [{parameter.source}]")
    sources: set[str] = {w.source for w in policy.workflows.values()}
    problems = problems_with(parameters, sources) + capability_problems(config, template, args.env)
    for problem in problems:
        print(f"triage deploy-check: {problem}", file=sys.stderr)
    if problems:
        print(
            f"triage deploy-check: fix samconfig.toml [{args.env}.deploy.parameters] parameter_overrides",
            file=sys.stderr,
        )
        return 2
    return 0


def deploy_parameters(config: Mapping[str, Any], template: Mapping[str, Any], env: str) -> dict[str, Parameter]:
    """Every template parameter with the value ``sam deploy --config-env env`` would give it."""
    section = config.get(env, {}).get("deploy", {}).get("parameters")
    if section is None:
        known = sorted(name for name, body in config.items() if isinstance(body, dict) and "deploy" in body)
        raise ValueError(f"samconfig.toml has no [{env}.deploy.parameters] (environments: {known})")
    overrides = _overrides(str(section.get("parameter_overrides", "")))
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ValueError(f"samconfig.toml [{env}] overrides parameters the template does not declare: {unknown}")
    out = {}
    for name, body in declared.items():
        if name in overrides:
            value, source = overrides[name], f"samconfig.toml [{env}]"
        else:
            value, source = str(body.get("Default", "")), "template default"
        out[name] = Parameter(name, value, source, str(body.get("Description", "")).strip())
    return out


def problems_with(parameters: Mapping[str, Parameter], sources: set[str]) -> list[str]:
    problems = [
        f"{p.name} is still {p.value!r}: replace it with the real value"
        for p in parameters.values()
        if PLACEHOLDER in p.value
    ]
    if "zendesk" in sources and not parameters["ZendeskBaseUrl"].value:
        problems.append(
            "ZendeskBaseUrl is empty but the policy has a Zendesk workflow: the stack could neither read ticket "
            "context nor write anything back (every write-back would retry into ActionsDlq); set it to "
            "https://<subdomain>.zendesk.com"
        )
    if not parameters["AlarmEmail"].value:
        problems.append("AlarmEmail is empty: every alarm would reach nobody; set the on-call address")
    for name in ("PolicyPath", "FlagsFile"):
        if parameters[name].value:
            problems.append(f"{name} is for local runs only; a deployed stack uses the layer's policy and AppConfig")
    return problems


def capability_problems(config: Mapping[str, Any], template: Mapping[str, Any], env: str) -> list[str]:
    """CloudFormation refuses a stack with IAM roles without CAPABILITY_IAM, and one with a nested application
    (the monitoring stack) without CAPABILITY_AUTO_EXPAND."""
    section = config.get(env, {}).get("deploy", {}).get("parameters", {})
    given = set(str(section.get("capabilities", "")).split())
    types = {str(body.get("Type")) for body in (template.get("Resources") or {}).values()}
    needed = {"CAPABILITY_IAM"}
    if "AWS::Serverless::Application" in types:
        needed.add("CAPABILITY_AUTO_EXPAND")
    missing = sorted(needed - given - ({"CAPABILITY_IAM"} if "CAPABILITY_NAMED_IAM" in given else set()))
    return [f"samconfig.toml [{env}.deploy.parameters] capabilities lacks {name}" for name in missing]


def _overrides(text: str) -> dict[str, str]:
    pairs = {}
    for token in shlex.split(text):
        name, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"samconfig.toml parameter_overrides: {token!r} is not Name=Value")
        pairs[name] = value
    return pairs
