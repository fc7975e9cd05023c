"""AppConfig environments, deployment strategies and deployments for moto, which (5.2.5) implements only
applications, configuration profiles and hosted configuration versions: the state and its rules.

:func:`triage_local.sandboxes.appconfig_api.install` adds the operations to moto's AppConfig routes, shaped as
botocore's service model (``appconfig/2019-10-09``) and the API reference describe them, so
``triage rollout promote`` runs end to end with boto3 against ``mock_aws``:

- ``CreateEnvironment``/``GetEnvironment``/``ListEnvironments``/``UpdateEnvironment``/``DeleteEnvironment``;
  ``CreateDeploymentStrategy``/``GetDeploymentStrategy``/``ListDeploymentStrategies``/``DeleteDeploymentStrategy``
  (the four predefined ``AppConfig.*`` strategies exist too); ``StartDeployment``/``GetDeployment``/
  ``ListDeployments`` (newest first)/``StopDeployment``.
- A deployment runs on the strategy's clock: ``DEPLOYING`` for ``DeploymentDurationInMinutes`` (its
  ``PercentageComplete`` growing by ``GrowthFactor`` per step, linearly or doubling), then ``BAKING`` for
  ``FinalBakeTimeInMinutes``, then ``COMPLETE``; the environment is ``DEPLOYING`` meanwhile.
  :meth:`Deployments.alarm` is a monitor's alarm firing: an in-progress deployment is ``ROLLED_BACK``
  (triggered by ``CLOUDWATCH_ALARM``) and the environment too. Time is :attr:`Deployments.clock`.
- Errors as AWS sends them: ``ConflictException`` (409) when a deployment is in progress for the environment
  (or ``LatestDeploymentNumber`` is not the latest), ``ResourceNotFoundException`` (404) for an unknown
  application, environment, profile, strategy or deployment, ``BadRequestException`` (400) for an unknown
  configuration version, a malformed strategy id, or stopping a deployment that is not ``DEPLOYING`` without
  ``AllowRevert``. The exact wording of AWS's messages is not documented; these name the resource.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.appconfig.models import AppConfigBackend, appconfig_backends
from moto.core.exceptions import JsonRESTError

__all__ = ["DEPLOYMENTS", "BadRequest", "Conflict", "Deployment", "Deployments", "Environment", "NotFound", "Strategy"]

IN_PROGRESS = ("DEPLOYING", "BAKING", "VALIDATING", "ROLLING_BACK")
_STRATEGY_ID = re.compile(r"(^[a-z0-9]{4,7}$|^AppConfig\.[A-Za-z0-9]{9,40}$)")
_REVERT_WINDOW = timedelta(hours=72)


class BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message)


class NotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class Conflict(JsonRESTError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Strategy:
    id: str
    name: str
    duration: int
    growth_factor: float
    bake: int = 0
    growth_type: str = "LINEAR"
    description: str = ""
    replicate_to: str = "NONE"

    def to_json(self) -> dict[str, Any]:
        return {"Id": self.id, "Name": self.name, "Description": self.description,
                "DeploymentDurationInMinutes": self.duration, "GrowthType": self.growth_type,
                "GrowthFactor": self.growth_factor, "FinalBakeTimeInMinutes": self.bake,
                "ReplicateTo": self.replicate_to}  # fmt: skip

    def percentage(self, minutes: float) -> float:
        """Share of targets served the new version ``minutes`` into the deployment."""
        if self.duration <= 0 or minutes >= self.duration:
            return 100.0
        if self.growth_type == "EXPONENTIAL":
            steps = max(1, math.ceil(math.log2(100 / self.growth_factor)) + 1)
            doublings = math.floor(minutes / (self.duration / steps))
            return min(100.0, self.growth_factor * float(2**doublings))
        steps = max(1, math.ceil(100 / self.growth_factor))
        return min(100.0, self.growth_factor * (1 + math.floor(minutes / (self.duration / steps))))


PREDEFINED = {
    s.id: s
    for s in (
        Strategy("AppConfig.Linear20PercentEvery6Minutes", "AppConfig.Linear20PercentEvery6Minutes", 30, 20, 30),
        Strategy("AppConfig.Canary10Percent20Minutes", "AppConfig.Canary10Percent20Minutes", 20, 10, 10, "EXPONENTIAL"),
        Strategy("AppConfig.AllAtOnce", "AppConfig.AllAtOnce", 0, 100, 10),
        Strategy("AppConfig.Linear50PercentEvery30Seconds", "AppConfig.Linear50PercentEvery30Seconds", 1, 50, 1),
    )
}


@dataclass
class Environment:
    app_id: str
    id: str
    name: str
    description: str = ""
    monitors: list[dict[str, str]] = field(default_factory=list)
    state: str = "READY_FOR_DEPLOYMENT"

    def to_json(self) -> dict[str, Any]:
        return {"ApplicationId": self.app_id, "Id": self.id, "Name": self.name, "Description": self.description,
                "State": self.state, "Monitors": self.monitors}  # fmt: skip


@dataclass
class Deployment:
    app_id: str
    env_id: str
    number: int
    profile: Any  # moto's ConfigurationProfile
    version: str
    strategy: Strategy
    started: datetime
    description: str = ""
    version_label: str | None = None
    stopped: tuple[str, datetime, str] | None = None  # (final state, when, triggered by)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._event("DEPLOYMENT_STARTED", "USER", "Deployment started", self.started)

    def _event(self, kind: str, by: str, text: str, at: datetime) -> None:
        self.events.insert(0, {"EventType": kind, "TriggeredBy": by, "Description": text, "OccurredAt": _iso(at)})

    def state(self, now: datetime) -> str:
        if self.stopped is not None:
            return self.stopped[0]
        minutes = (now - self.started).total_seconds() / 60
        if minutes < self.strategy.duration:
            return "DEPLOYING"
        return "BAKING" if minutes < self.strategy.duration + self.strategy.bake else "COMPLETE"

    def completed_at(self) -> datetime:
        return self.started + timedelta(minutes=self.strategy.duration + self.strategy.bake)

    def stop(self, final: str, by: str, now: datetime) -> None:
        if final == "ROLLED_BACK":
            self._event("ROLLBACK_STARTED", by, "Rollback started", now)
            self._event("ROLLBACK_COMPLETED", by, "Rollback completed", now)
        else:
            self._event("REVERT_COMPLETED", by, "Revert completed", now)
        self.stopped = (final, now, by)

    def _timeline(self, now: datetime) -> list[dict[str, Any]]:
        """The events so far: the recorded ones and the strategy's own milestones up to ``now``."""
        events = list(self.events)
        end = self.stopped[1] if self.stopped else now
        bake_at = self.started + timedelta(minutes=self.strategy.duration)
        if bake_at <= end:
            events.append({"EventType": "BAKE_TIME_STARTED", "TriggeredBy": "APPCONFIG",
                           "Description": "Bake time started", "OccurredAt": _iso(bake_at)})  # fmt: skip
        if self.stopped is None and self.completed_at() <= now:
            events.append({"EventType": "DEPLOYMENT_COMPLETED", "TriggeredBy": "APPCONFIG",
                           "Description": "Deployment completed", "OccurredAt": _iso(self.completed_at())})  # fmt: skip
        return sorted(events, key=lambda e: e["OccurredAt"], reverse=True)

    def summary(self, now: datetime) -> dict[str, Any]:
        state = self.state(now)
        minutes = ((self.stopped[1] if self.stopped else now) - self.started).total_seconds() / 60
        found = {"DeploymentNumber": self.number, "ConfigurationProfileId": self.profile.id,
                 "ConfigurationName": self.profile.name, "ConfigurationVersion": self.version,
                 "DeploymentDurationInMinutes": self.strategy.duration, "GrowthType": self.strategy.growth_type,
                 "GrowthFactor": self.strategy.growth_factor, "FinalBakeTimeInMinutes": self.strategy.bake,
                 "State": state, "PercentageComplete": self.strategy.percentage(minutes),
                 "StartedAt": _iso(self.started), "Type": "USER"}  # fmt: skip
        if state == "COMPLETE":
            found["CompletedAt"] = _iso(self.completed_at())
        if self.version_label:
            found["VersionLabel"] = self.version_label
        return found

    def to_json(self, now: datetime) -> dict[str, Any]:
        found = self.summary(now)
        del found["Type"]
        return {**found, "ApplicationId": self.app_id, "EnvironmentId": self.env_id,
                "DeploymentStrategyId": self.strategy.id, "ConfigurationLocationUri": self.profile.location_uri,
                "Description": self.description, "EventLog": self._timeline(now)}  # fmt: skip


@dataclass
class _State:
    environments: dict[tuple[str, str], Environment] = field(default_factory=dict)
    strategies: dict[str, Strategy] = field(default_factory=lambda: dict(PREDEFINED))
    deployments: dict[tuple[str, str], list[Deployment]] = field(default_factory=dict)


class Deployments:
    """The added operations' state, per moto backend (so it resets with moto), and the clock they run on."""

    def __init__(self) -> None:
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @staticmethod
    def state(backend: AppConfigBackend) -> _State:
        found = backend.__dict__.get("_triage_deployments")
        if not isinstance(found, _State):
            found = backend.__dict__["_triage_deployments"] = _State()
        return found

    def environment(self, backend: AppConfigBackend, app_id: str, env_id: str) -> Environment:
        backend.get_application(app_id)
        env = self.state(backend).environments.get((app_id, env_id))
        if env is None:
            raise NotFound(f"Environment {env_id} of application {app_id} not found")
        self._settle(backend, env)
        return env

    def _settle(self, backend: AppConfigBackend, env: Environment) -> None:
        """The environment's state follows its latest deployment."""
        history = self.state(backend).deployments.get((env.app_id, env.id))
        if not history:
            return
        state = history[-1].state(self.clock())
        env.state = {"COMPLETE": "READY_FOR_DEPLOYMENT", "BAKING": "DEPLOYING"}.get(state, state)

    def start(self, backend: AppConfigBackend, app_id: str, env_id: str, params: dict[str, Any]) -> Deployment:
        env = self.environment(backend, app_id, env_id)
        profile = backend.get_configuration_profile(app_id, str(params.get("ConfigurationProfileId")))
        strategy = self.strategy(backend, str(params.get("DeploymentStrategyId")))
        version, label = _version(profile, str(params.get("ConfigurationVersion") or ""))
        history = self.state(backend).deployments.setdefault((app_id, env_id), [])
        now = self.clock()
        busy = next((d for d in history if d.state(now) in IN_PROGRESS), None)
        if busy is not None:
            raise Conflict(f"Deployment number {busy.number} is {busy.state(now)} for environment {env.id}")
        latest = params.get("LatestDeploymentNumber")
        if latest is not None and int(latest) != len(history):
            raise Conflict(f"LatestDeploymentNumber {latest} is not the latest deployment ({len(history)})")
        deployment = Deployment(
            app_id, env_id, len(history) + 1, profile, version, strategy, now,
            description=str(params.get("Description") or ""), version_label=label,
        )  # fmt: skip
        history.append(deployment)
        self._settle(backend, env)
        return deployment

    def strategy(self, backend: AppConfigBackend, strategy_id: str) -> Strategy:
        if not _STRATEGY_ID.match(strategy_id):
            raise BadRequest(f"DeploymentStrategyId {strategy_id!r} does not match {_STRATEGY_ID.pattern}")
        found = self.state(backend).strategies.get(strategy_id)
        if found is None:
            raise NotFound(f"Deployment strategy {strategy_id} not found")
        return found

    def deployment(self, backend: AppConfigBackend, app_id: str, env_id: str, number: int) -> Deployment:
        self.environment(backend, app_id, env_id)
        history = self.state(backend).deployments.get((app_id, env_id), [])
        if not 1 <= number <= len(history):
            raise NotFound(f"Deployment {number} of environment {env_id} not found")
        return history[number - 1]

    def stop(self, backend: AppConfigBackend, deployment: Deployment, allow_revert: bool) -> None:
        now = self.clock()
        state = deployment.state(now)
        if state == "DEPLOYING" or (allow_revert and state in IN_PROGRESS):
            deployment.stop("ROLLED_BACK", "USER", now)
        elif allow_revert and state == "COMPLETE" and now - deployment.completed_at() <= _REVERT_WINDOW:
            deployment.stop("REVERTED", "USER", now)
        else:
            raise BadRequest(f"Deployment {deployment.number} is {state}: only a DEPLOYING deployment can be stopped")
        self._settle(backend, self.environment(backend, deployment.app_id, deployment.env_id))

    def alarm(self, app_id: str, env_id: str, account_id: str = "123456789012", region: str = "us-east-1") -> bool:
        """A monitored alarm fires: the environment's in-progress deployment is rolled back (True if there was one)."""
        backend = appconfig_backends[account_id][region]
        now = self.clock()
        for deployment in self.state(backend).deployments.get((app_id, env_id), []):
            if deployment.state(now) in IN_PROGRESS:
                deployment.stop("ROLLED_BACK", "CLOUDWATCH_ALARM", now)
                self._settle(backend, self.environment(backend, app_id, env_id))
                return True
        return False


def _version(profile: Any, wanted: str) -> tuple[str, str | None]:
    """The hosted version a deployment names, by number or label."""
    versions = profile.config_versions
    for number, version in versions.items():
        if wanted in (str(number), version.version_label):
            return str(number), version.version_label
    raise BadRequest(f"Configuration version {wanted!r} of configuration profile {profile.id} does not exist")


DEPLOYMENTS = Deployments()
