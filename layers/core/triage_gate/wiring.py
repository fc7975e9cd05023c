"""The composition root: the one place that picks adapters for the domain services."""

from __future__ import annotations

from functools import lru_cache

from triage_gate.config import ingest_settings
from triage_gate.intake.service import IntakeService
from triage_gate.ports import SecretsProvider


@lru_cache(maxsize=1)
def intake_service() -> IntakeService:
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.dedupe_table import DynamoDedupeStore
    from triage_gate.adapters.sqs_queue import SqsEventQueue

    settings = ingest_settings()
    dedupe = DynamoDedupeStore(
        settings.dedupe_table_name,
        client("dynamodb", connect_timeout=1.0, read_timeout=2.0),
        ttl_seconds=settings.dedupe_ttl_seconds,
        lease_seconds=settings.dedupe_lease_seconds,
    )
    return IntakeService(
        settings,
        vendor_secrets(),
        dedupe,
        SqsEventQueue(settings.triage_queue_url, client("sqs", connect_timeout=1.0, read_timeout=2.0)),
    )


def vendor_secrets() -> SecretsProvider:
    from triage_gate.adapters.secrets import EnvironmentSecrets, SecretsManagerSecrets

    settings = ingest_settings()
    if settings.triage_secret_id:
        return SecretsManagerSecrets(settings.triage_secret_id, max_age_seconds=settings.secrets_max_age_seconds)
    return EnvironmentSecrets()
