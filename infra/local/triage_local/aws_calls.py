"""The AWS calls each function made under its own role, as the embedded AWS decided them.

``triage_local.aws_server`` appends one JSON line per distinct (role, action, resource, allowed) decision.
The runner follows that file while it runs, so every denied call shows in the function's log as
``AccessDenied: <action> on <resource>`` however the function's code handles the error. The test suite
merges what the runners saw into an observations file (``tests/contract/fixtures/aws_calls_observed.json``,
``make iam-observed``): what the least-privilege contract test compares the template's grants with.

Resources are written in a form that does not depend on the run: a resource's ARN names its logical id
(``arn:aws:dynamodb:us-east-1:123456789012:table/DecisionsTable``), as :func:`symbolic_physical` gives them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage_local.template import PSEUDO_PARAMETERS, Template

ARN_ATTRIBUTES = ("Arn", "TopicArn")


@dataclass(frozen=True)
class AwsCall:
    function: str
    action: str
    resource: str
    allowed: bool

    @property
    def grant(self) -> str:
        return f"{self.action} {self.resource}"


def symbolic_physical(template: Template) -> dict[str, dict[str, Any]]:
    """Physical ids named after logical ids, for the resources the runner provisions."""
    region, account = template.region, PSEUDO_PARAMETERS["AWS::AccountId"]
    physical: dict[str, dict[str, Any]] = {}
    for logical, resource in template.resources.items():
        kind = resource.get("Type")
        if kind == "AWS::SQS::Queue":
            url = f"https://sqs.{region}.amazonaws.com/{account}/{logical}"
            arn = f"arn:aws:sqs:{region}:{account}:{logical}"
            physical[logical] = {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": logical}
        elif kind in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            physical[logical] = {"Ref": logical, "Arn": f"arn:aws:dynamodb:{region}:{account}:table/{logical}"}
        elif kind == "AWS::SecretsManager::Secret":
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{logical}"
            physical[logical] = {"Ref": arn, "Arn": arn, "Id": arn}
        elif kind == "AWS::SNS::Topic":
            arn = f"arn:aws:sns:{region}:{account}:{logical}"
            physical[logical] = {"Ref": arn, "TopicArn": arn, "TopicName": logical}
    return physical


class ResourceNames:
    """Rewrites the runner's physical ARNs as their symbolic ones (a table's index keeps its suffix)."""

    def __init__(self, template: Template) -> None:
        symbolic = symbolic_physical(template)
        pairs = []
        for logical, ids in template.physical.items():
            for attribute in ARN_ATTRIBUTES:
                if attribute in ids and attribute in symbolic.get(logical, {}):
                    pairs.append((str(ids[attribute]), str(symbolic[logical][attribute])))
        self._pairs = sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def symbolic(self, resource: str) -> str:
        for physical, symbolic in self._pairs:
            if resource == physical or resource.startswith(physical + "/"):
                return symbolic + resource[len(physical) :]
        return resource


def read_calls(path: Path, role_functions: dict[str, str], names: ResourceNames) -> list[AwsCall]:
    if not path.exists():
        return []
    return list(_parse(path.read_text(encoding="utf-8").splitlines(), role_functions, names))


def _parse(lines: Iterable[str], role_functions: dict[str, str], names: ResourceNames | None) -> Iterable[AwsCall]:
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        function = role_functions.get(entry["role"], entry["role"])
        resource = names.symbolic(entry["resource"]) if names else entry["resource"]
        yield AwsCall(function, entry["action"], resource, bool(entry["allowed"]))


def observations(calls: Iterable[AwsCall]) -> dict[str, list[str]]:
    """Each function's calls (allowed or denied: its code made them) as sorted ``"action resource"`` grants."""
    observed: dict[str, set[str]] = {}
    for call in calls:
        observed.setdefault(call.function, set()).add(call.grant)
    return {function: sorted(grants) for function, grants in sorted(observed.items())}


def merge_observations(path: Path, calls: Iterable[AwsCall]) -> None:
    """Add the calls to the observations JSON file (function -> grants), keeping what it already lists."""
    observed: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for function, grants in observations(calls).items():
        observed[function] = sorted({*observed.get(function, []), *grants})
    path.write_text(json.dumps(dict(sorted(observed.items())), indent=2) + "\n", encoding="utf-8")


class DeniedCallReporter:
    """Follows the call log and writes each denied call into its function's log, once."""

    def __init__(self, path: Path, role_functions: dict[str, str], log: Callable[[str, str], None]) -> None:
        self._path, self._roles, self._log = path, role_functions, log
        self._offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="iam-denials", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.report_new()

    def report_new(self) -> None:
        if not self._path.exists():
            return
        with self._path.open("rb") as stream:
            stream.seek(self._offset)
            data = stream.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for call in _parse(complete.decode("utf-8").splitlines(), self._roles, None):
            if not call.allowed:
                self._log(call.function, f"AccessDenied: {call.action} on {call.resource} (not granted by its role)")

    def _follow(self) -> None:
        while not self._stop.wait(0.2):
            self.report_new()
