"""What every function's composition shares: build-once services and the vendor secret."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.secrets import EnvironmentSecrets, SecretsManagerSecrets
from triage_gate.config import SecretLocation, VendorSecrets
from triage_gate.ports import SecretsProvider

T = TypeVar("T")


class Lazy(Generic[T]):
    """Built on first use and kept: one service per warm function instance, nothing done at import."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        lazy = cls(lambda: value)
        lazy._value = value
        return lazy

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value


def vendor_secrets(
    settings: SecretLocation, environ: Mapping[str, str] | None = None, *, aws: AwsClients
) -> SecretsProvider:
    """The one vendor secret: Secrets Manager when deployed (a client of the function's session), the
    environment locally."""
    if settings.triage_secret_id:
        return SecretsManagerSecrets(
            settings.triage_secret_id,
            aws.client("secretsmanager"),
            max_age_seconds=settings.secrets_max_age_seconds,
        )
    return EnvironmentSecrets(VendorSecrets.from_env(environ))
