"""Read a SAM template and resolve the intrinsic functions the runner needs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "triage-gate-local",
    "AWS::NoValue": None,
}


class TemplateError(Exception):
    pass


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns short-form tags (!Ref, !GetAtt, !Sub, ...) into long-form dicts."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return data


@dataclass
class Template:
    path: Path
    body: dict[str, Any]
    region: str
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # Logical id -> {"Ref": ..., "<Attr>": ...}: filled in as resources are provisioned.
    physical: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, region: str, overrides: Mapping[str, str] | None = None) -> Template:
        template = cls(path.resolve(), load_yaml(path), region, dict(overrides or {}))
        unknown = set(template.parameter_overrides) - set(template.parameters)
        if unknown:
            raise TemplateError(f"unknown parameter override(s): {', '.join(sorted(unknown))}")
        return template

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Resources") or {})

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Parameters") or {})

    def resources_of(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types and self.condition_holds(v)}

    def function_globals(self) -> dict[str, Any]:
        return dict((self.body.get("Globals") or {}).get("Function") or {})

    def parameter_value(self, name: str) -> Any:
        if name in self.parameter_overrides:
            return self.parameter_overrides[name]
        spec = self.parameters.get(name)
        if spec is None:
            raise TemplateError(f"!Ref {name}: no such parameter or resource")
        if "Default" not in spec:
            raise TemplateError(f"parameter {name} has no Default; pass --parameter {name}=VALUE")
        return spec["Default"]

    def condition_holds(self, resource: Mapping[str, Any]) -> bool:
        name = resource.get("Condition")
        return True if not name else bool(self.resolve(self.body["Conditions"][name]))

    # ------------------------------------------------------------------ intrinsics
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._intrinsics().get(key)
            if handler:
                return handler(arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: str(self.resolve(a[0])).join(str(self.resolve(x)) for x in self.resolve(a[1])),
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::If": self._if,
            # CloudFormation compares values as strings ("0" equals 0).
            "Fn::Equals": lambda a: str(self.resolve(a[0])) == str(self.resolve(a[1])),
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::And": lambda a: all(self.resolve(x) for x in a),
            "Fn::Or": lambda a: any(self.resolve(x) for x in a),
            "Condition": lambda a: self.resolve(self.body["Conditions"][a]),
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::Region":
            return self.region
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.physical:
            return self.physical[name]["Ref"]
        if name in self.resources:
            # Not provisioned locally (an API, a layer, an alarm): its logical id stands in.
            return name
        return self.parameter_value(name)

    def _get_att(self, arg: Any) -> Any:
        logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        attrs = self.physical.get(logical)
        if attrs is None or attribute not in attrs:
            return f"{logical}.{attribute}"
        return attrs[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _if(self, arg: list[Any]) -> Any:
        condition, when_true, when_false = arg
        return self.resolve(when_true if self.resolve(self.body["Conditions"][condition]) else when_false)
