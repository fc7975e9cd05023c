"""Where the rollout flags live, and how a change reaches them.

- :class:`FileFlags`: the JSON file the local stack reads (``FLAGS_FILE``; ``make local`` and ``make demo`` use
  ``infra/local/flags.json``). Written atomically (a temporary file renamed over it), so TriageFunction never
  reads half a document; it re-reads the file when its mtime changes.
- :class:`AppConfigFlags`: a deployed stack's AppConfig application/environment/profile. The current flags are
  the content of the environment's latest ``COMPLETE`` deployment of the profile (a deployment rolled back by an
  alarm, or reverted, is not current). A change is a new hosted configuration version and ``StartDeployment``
  with the stack's deployment strategy (whose bake time watches the alarms that roll it back), refused while
  another deployment is in progress for the environment.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["AppConfigFlags", "FileFlags", "FlagsError", "FlagsTarget", "stack_outputs"]

IN_PROGRESS = ("DEPLOYING", "BAKING", "VALIDATING", "ROLLING_BACK")


class FlagsError(Exception):
    """The flags could not be read or written (a runtime failure: exit 1)."""


class FlagsTarget(Protocol):
    @property
    def where(self) -> str: ...

    def read(self) -> dict[str, Any]: ...

    def busy(self) -> str | None:
        """Why a change cannot be made now (a deployment in progress), or None."""
        ...

    def write(self, document: dict[str, Any], description: str) -> dict[str, Any]:
        """Make ``document`` the flags; what was done (file, version, deployment), JSON-ready."""
        ...


@dataclass(frozen=True)
class FileFlags:
    path: Path

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def audit_path(self) -> Path:
        """The audit trail beside the flags it governs: ``flags.json`` → ``flags.audit.jsonl``."""
        return self.path.with_name(f"{self.path.stem}.audit.jsonl")

    def read(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FlagsError(f"no flags file at {self.path} (give --flags FILE, or set FLAGS_FILE)") from None
        except (OSError, ValueError) as exc:
            raise FlagsError(f"cannot read the flags file {self.path}: {exc}") from exc
        if not isinstance(document, dict):
            raise FlagsError(f"{self.path}: the flags must be a JSON object")
        return document

    def busy(self) -> str | None:
        return None

    def write(self, document: dict[str, Any], description: str) -> dict[str, Any]:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        except OSError as exc:
            raise FlagsError(f"cannot write the flags file {self.path}: {exc}") from exc
        return {"file": str(self.path)}


@dataclass(frozen=True)
class AppConfigFlags:
    client: Any  # boto3 appconfig
    application_id: str
    environment_id: str
    profile_id: str
    strategy_id: str | None = None

    @property
    def where(self) -> str:
        return f"AppConfig {self.application_id}/{self.environment_id}/{self.profile_id}"

    def _deployments(self) -> list[dict[str, Any]]:
        """The environment's deployments of this profile, newest first."""
        found: list[dict[str, Any]] = []
        kwargs = {"ApplicationId": self.application_id, "EnvironmentId": self.environment_id, "MaxResults": 50}
        try:
            while True:
                page = self.client.list_deployments(**kwargs)
                found.extend(page.get("Items", []))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        except (BotoCoreError, ClientError) as exc:
            raise FlagsError(f"cannot list the deployments of {self.where}: {exc}") from exc
        return [d for d in found if d.get("ConfigurationProfileId") == self.profile_id]

    def read(self) -> dict[str, Any]:
        current = next((d for d in self._deployments() if d.get("State") == "COMPLETE"), None)
        if current is None:
            return {}  # nothing deployed yet: no flags, every workflow in its policy mode
        version = current["ConfigurationVersion"]
        try:
            found = self.client.get_hosted_configuration_version(
                ApplicationId=self.application_id, ConfigurationProfileId=self.profile_id, VersionNumber=int(version)
            )
        except (BotoCoreError, ClientError) as exc:
            raise FlagsError(f"cannot read version {version} of {self.where}: {exc}") from exc
        content = found["Content"]
        raw = content.read() if hasattr(content, "read") else content
        try:
            document = json.loads(raw or b"{}")
        except ValueError as exc:
            raise FlagsError(f"version {version} of {self.where} is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise FlagsError(f"version {version} of {self.where}: the flags must be a JSON object")
        return document

    def busy(self) -> str | None:
        for deployment in self._deployments():
            if deployment.get("State") in IN_PROGRESS:
                return (
                    f"deployment {deployment['DeploymentNumber']} (version {deployment.get('ConfigurationVersion')})"
                    f" is {deployment['State']} at {deployment.get('PercentageComplete', 0):g}% in {self.where}:"
                    " wait until it completes (or stop it) before another change"
                )
        return None

    def write(self, document: dict[str, Any], description: str) -> dict[str, Any]:
        if not self.strategy_id:
            raise FlagsError("no deployment strategy: give --deployment-strategy or --stack")
        text = description.encode("ascii", "replace").decode("ascii")[:1024]  # AppConfig: ASCII only
        try:  # a strategy that does not exist would leave a version created and never deployed
            self.client.get_deployment_strategy(DeploymentStrategyId=self.strategy_id)
        except (BotoCoreError, ClientError) as exc:
            raise FlagsError(f"cannot use deployment strategy {self.strategy_id}: {exc}") from exc
        try:
            version = self.client.create_hosted_configuration_version(
                ApplicationId=self.application_id, ConfigurationProfileId=self.profile_id,
                Content=json.dumps(document, indent=2).encode(), ContentType="application/json", Description=text,
            )["VersionNumber"]  # fmt: skip
        except (BotoCoreError, ClientError) as exc:
            raise FlagsError(f"cannot create a configuration version in {self.where}: {exc}") from exc
        try:
            started = self.client.start_deployment(
                ApplicationId=self.application_id, EnvironmentId=self.environment_id,
                ConfigurationProfileId=self.profile_id, ConfigurationVersion=str(version),
                DeploymentStrategyId=self.strategy_id, Description=text,
            )  # fmt: skip
        except (BotoCoreError, ClientError) as exc:
            raise FlagsError(f"version {version} was created in {self.where} but not deployed: {exc}") from exc
        return {"appconfig": self.where, "version": version, "deployment": started["DeploymentNumber"],
                "state": started.get("State"), "strategy": self.strategy_id}  # fmt: skip


# The stack outputs `triage rollout` reads (template.yaml's Outputs).
STACK_OUTPUTS = ("RolloutApplicationId", "RolloutEnvironmentId", "RolloutProfileId", "RolloutDeploymentStrategyId",
                 "DecisionsTableName", "ControlTableName")  # fmt: skip


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """A deployed stack's outputs by key."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as exc:
        raise FlagsError(f"cannot describe stack {stack_name}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])} if stacks else {}
    missing = [key for key in STACK_OUTPUTS if key not in outputs]
    if missing:
        raise FlagsError(f"stack {stack_name} has no output {', '.join(missing)} (deploy the current template)")
    return outputs
