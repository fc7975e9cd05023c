"""Vendor secrets: one Secrets Manager JSON secret (cached by Powertools), or the environment."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from triage_gate.config import VendorSecrets
from triage_gate.errors import SecretsUnavailable


class SecretsManagerSecrets:
    """Powertools' SecretsProvider over the function's own Secrets Manager client (the session its other
    clients share), caching the secret for ``max_age_seconds`` as ``parameters.get_secret`` would."""

    def __init__(self, secret_id: str, client: Any, *, max_age_seconds: int) -> None:
        self._secret_id = secret_id
        self._client = client
        self._provider: parameters.SecretsProvider | None = None
        self._max_age = max_age_seconds

    @property
    def provider(self) -> parameters.SecretsProvider:
        """Made at the first read: Powertools registers a hook on the client, which would make a client
        (AwsClients' are made at first use) that a first request without a vendor call never needs."""
        if self._provider is None:
            self._provider = parameters.SecretsProvider(boto3_client=self._client)
        return self._provider

    def get(self) -> VendorSecrets:
        try:
            value = self.provider.get(self._secret_id, transform="json", max_age=self._max_age)
        except (
            parameters.exceptions.GetParameterError,
            parameters.exceptions.TransformParameterError,
        ) as exc:
            raise SecretsUnavailable(f"cannot read secret {self._secret_id}: {exc}") from exc
        if not isinstance(value, dict):
            raise SecretsUnavailable(f"secret {self._secret_id} is not a JSON object")
        try:
            return VendorSecrets.from_mapping(value)
        except ValueError as exc:
            raise SecretsUnavailable(f"secret {self._secret_id} has invalid values") from exc


class EnvironmentSecrets:
    """Local mode and tests: the same key names, read from the environment when the function was built."""

    def __init__(self, secrets: VendorSecrets) -> None:
        self._secrets = secrets

    def get(self) -> VendorSecrets:
        return self._secrets
