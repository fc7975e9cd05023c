"""Vendor secrets: one Secrets Manager JSON secret (cached by Powertools), or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import ValidationError

from triage_gate.config import SECRET_KEYS, VendorSecrets
from triage_gate.errors import SecretsUnavailable


class SecretsManagerSecrets:
    def __init__(self, secret_id: str, *, max_age_seconds: int) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds

    def get(self) -> VendorSecrets:
        from aws_lambda_powertools.utilities import parameters

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
    """Local mode and tests: the same key names, read from environment variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def get(self) -> VendorSecrets:
        return VendorSecrets.model_validate({k: self._environ[k] for k in SECRET_KEYS if k in self._environ})
