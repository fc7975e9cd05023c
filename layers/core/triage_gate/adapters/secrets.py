"""Vendor secrets: one Secrets Manager JSON secret (cached by Powertools), or the environment."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from triage_gate.config import VendorSecrets
from triage_gate.errors import SecretsUnavailable


class SecretsManagerSecrets:
    def __init__(self, secret_id: str, *, max_age_seconds: int) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds

    def get(self) -> VendorSecrets:
        try:
            value = parameters.get_secret(self._secret_id, transform="json", max_age=self._max_age)
        except (
            parameters.exceptions.GetParameterError,
            parameters.exceptions.TransformParameterError,
        ) as exc:
            raise SecretsUnavailable(f"cannot read secret {self._secret_id}: {exc}") from exc
        if not isinstance(value, dict):
            raise SecretsUnavailable(f"secret {self._secret_id} is not a JSON object")
        try:
            return VendorSecrets.model_validate(value)
        except ValidationError as exc:
            raise SecretsUnavailable(f"secret {self._secret_id} has invalid values") from exc


class EnvironmentSecrets:
    """Local mode and tests: the same key names, read from the environment when the function was built."""

    def __init__(self, secrets: VendorSecrets) -> None:
        self._secrets = secrets

    def get(self) -> VendorSecrets:
        return self._secrets
