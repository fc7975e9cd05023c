"""The AppConfig operations moto (5.2.5) lacks, as HTTP handlers on moto's own AppConfig routes.

``install()`` (idempotent) adds environments, deployment strategies and deployments to ``mock_aws`` — the
state machine is :mod:`triage_local.sandboxes.appconfig_deployments` — so boto3's ``appconfig`` client works
against moto for everything a flag deployment needs. Request and response shapes follow botocore's service model
(``appconfig/2019-10-09``): ``Items`` + ``NextToken`` pages (``max_results`` ≤ 50, ``next_token`` in the
query), 201 for creations and ``StartDeployment``, 202 for ``StopDeployment`` (``Allow-Revert`` header), 204 for
deletions.
"""

from __future__ import annotations

import json
from typing import Any

from moto.appconfig import urls as appconfig_urls
from moto.appconfig.responses import AppConfigResponse
from moto.moto_api._internal import mock_random

from triage_local.sandboxes.appconfig_deployments import (
    DEPLOYMENTS,
    IN_PROGRESS,
    BadRequest,
    Conflict,
    Environment,
    NotFound,
    Strategy,
)

__all__ = ["DeploymentsResponse", "install"]

Reply = tuple[str, dict[str, Any]]
_START_PARAMS = (
    "ConfigurationProfileId", "DeploymentStrategyId", "ConfigurationVersion", "Description", "LatestDeploymentNumber",
)  # fmt: skip


class DeploymentsResponse(AppConfigResponse):
    """moto's AppConfig responses plus the environment, strategy and deployment operations."""

    def _state(self) -> Any:
        return DEPLOYMENTS.state(self.appconfig_backend)

    def _page(self, items: list[dict[str, Any]]) -> str:
        size = int(self.querystring.get("max_results", ["50"])[0])
        if not 1 <= size <= 50:
            raise BadRequest(f"MaxResults must be between 1 and 50, got {size}")
        start = int(self.querystring.get("next_token", ["0"])[0] or 0)
        page: dict[str, Any] = {"Items": items[start : start + size]}
        if start + size < len(items):
            page["NextToken"] = str(start + size)
        return json.dumps(page)

    # ------------------------------------------------------------------ environments
    def create_environment(self) -> Reply:
        app_id = self._get_param("ApplicationId")
        app = self.appconfig_backend.get_application(app_id)
        name = self._get_param("Name")
        if not name or len(name) > 64:
            raise BadRequest("Name must be 1 to 64 characters")
        monitors = self._get_param("Monitors") or []
        if len(monitors) > 5:
            raise BadRequest("Monitors holds at most 5 alarms")
        env = Environment(app_id, mock_random.get_random_hex(7), name, self._get_param("Description") or "", monitors)
        self._state().environments[(app_id, env.id)] = env
        self.appconfig_backend.tag_resource(f"{app.arn}/environment/{env.id}", self._get_param("Tags") or {})
        return json.dumps(env.to_json()), {"status": 201}

    def get_environment(self) -> str:
        env = DEPLOYMENTS.environment(self.appconfig_backend, self._get_param("ApplicationId"), self._env_id())
        return json.dumps(env.to_json())

    def list_environments(self) -> str:
        app_id = self._get_param("ApplicationId")
        self.appconfig_backend.get_application(app_id)
        found = [
            DEPLOYMENTS.environment(self.appconfig_backend, app_id, env_id).to_json()
            for (owner, env_id) in self._state().environments
            if owner == app_id
        ]
        return self._page(found)

    def update_environment(self) -> str:
        env = DEPLOYMENTS.environment(self.appconfig_backend, self._get_param("ApplicationId"), self._env_id())
        env.name = self._get_param("Name") or env.name
        env.description = self._get_param("Description", env.description)
        env.monitors = self._get_param("Monitors", env.monitors)
        return json.dumps(env.to_json())

    def delete_environment(self) -> Reply:
        app_id, env_id = self._get_param("ApplicationId"), self._env_id()
        env = DEPLOYMENTS.environment(self.appconfig_backend, app_id, env_id)
        if env.state in IN_PROGRESS:
            raise Conflict(f"Environment {env_id} has a deployment in progress")
        del self._state().environments[(app_id, env_id)]
        return "", {"status": 204}

    def _env_id(self) -> str:
        return str(self._get_param("EnvironmentId"))

    # ------------------------------------------------------------------ deployment strategies
    def create_deployment_strategy(self) -> Reply:
        name, duration, growth = (self._get_param(k) for k in ("Name", "DeploymentDurationInMinutes", "GrowthFactor"))
        if not name or duration is None or growth is None:
            raise BadRequest("Name, DeploymentDurationInMinutes and GrowthFactor are required")
        if not 0 <= int(duration) <= 1440 or not 1.0 <= float(growth) <= 100.0:
            raise BadRequest("DeploymentDurationInMinutes is 0-1440 and GrowthFactor 1-100")
        strategy = Strategy(
            mock_random.get_random_hex(7), name, int(duration), float(growth),
            int(self._get_param("FinalBakeTimeInMinutes") or 0), self._get_param("GrowthType") or "LINEAR",
            self._get_param("Description") or "", self._get_param("ReplicateTo") or "NONE",
        )  # fmt: skip
        self._state().strategies[strategy.id] = strategy
        return json.dumps(strategy.to_json()), {"status": 201}

    def get_deployment_strategy(self) -> str:
        strategy_id = str(self._get_param("DeploymentStrategyId"))
        return json.dumps(DEPLOYMENTS.strategy(self.appconfig_backend, strategy_id).to_json())

    def list_deployment_strategies(self) -> str:
        return self._page([s.to_json() for s in self._state().strategies.values()])

    def delete_deployment_strategy(self) -> Reply:
        strategy_id = str(self._get_param("DeploymentStrategyId"))
        if strategy_id.startswith("AppConfig."):
            raise BadRequest(f"{strategy_id} is predefined and cannot be deleted")
        DEPLOYMENTS.strategy(self.appconfig_backend, strategy_id)
        del self._state().strategies[strategy_id]
        return "", {"status": 204}

    # ------------------------------------------------------------------ deployments
    def start_deployment(self) -> Reply:
        params = {k: self._get_param(k) for k in _START_PARAMS}
        backend, app_id = self.appconfig_backend, self._get_param("ApplicationId")
        deployment = DEPLOYMENTS.start(backend, app_id, self._env_id(), params)
        return json.dumps(deployment.to_json(DEPLOYMENTS.clock())), {"status": 201}

    def get_deployment(self) -> str:
        found = DEPLOYMENTS.deployment(
            self.appconfig_backend, self._get_param("ApplicationId"), self._env_id(), self._number()
        )
        return json.dumps(found.to_json(DEPLOYMENTS.clock()))

    def list_deployments(self) -> str:
        app_id, env_id = self._get_param("ApplicationId"), self._env_id()
        DEPLOYMENTS.environment(self.appconfig_backend, app_id, env_id)
        history = self._state().deployments.get((app_id, env_id), [])
        now = DEPLOYMENTS.clock()
        return self._page([d.summary(now) for d in reversed(history)])

    def stop_deployment(self) -> Reply:
        backend, app_id = self.appconfig_backend, self._get_param("ApplicationId")
        found = DEPLOYMENTS.deployment(backend, app_id, self._env_id(), self._number())
        allow_revert = str(self.headers.get("Allow-Revert", "false")).lower() == "true"
        DEPLOYMENTS.stop(backend, found, allow_revert)
        return json.dumps(found.to_json(DEPLOYMENTS.clock())), {"status": 202}

    def _number(self) -> int:
        number = self._get_param("DeploymentNumber")
        try:
            return int(number)
        except (TypeError, ValueError):
            raise NotFound(f"Deployment {number!r} not found") from None


_APP = "{0}/applications/(?P<app_id>[^/]+)"
_ROUTES = (
    f"{_APP}/environments$",
    f"{_APP}/environments/(?P<env_id>[^/]+)$",
    f"{_APP}/environments/(?P<env_id>[^/]+)/deployments$",
    f"{_APP}/environments/(?P<env_id>[^/]+)/deployments/(?P<number>[^/]+)$",
    "{0}/deploymentstrategies$",
    "{0}/deploymentstrategies/(?P<strategy_id>[^/]+)$",
    "{0}/deployementstrategies/(?P<strategy_id>[^/]+)$",  # sic: DeleteDeploymentStrategy's path in the model
)


def install() -> None:
    """Route the added operations (idempotent; moto reads its AppConfig routes on every request)."""
    for route in _ROUTES:
        appconfig_urls.url_paths[route] = DeploymentsResponse.dispatch
