"""Fixtures shared by every suite: Powertools env, and fresh caches for settings and wiring."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from triage_gate import config, wiring
from triage_gate.adapters import aws
from triage_gate.observability import metrics


def _reset_caches() -> None:
    from aws_lambda_powertools.utilities import parameters

    config.ingest_settings.cache_clear()
    config.triage_settings.cache_clear()
    wiring.intake_service.cache_clear()
    wiring.vendor_secrets.cache_clear()
    wiring.triage_service.cache_clear()
    wiring.writeback_service.cache_clear()
    wiring.review_desk.cache_clear()
    wiring.review_worker.cache_clear()
    wiring.review_backlog.cache_clear()
    config.writeback_settings.cache_clear()
    config.review_settings.cache_clear()
    aws.client.cache_clear()
    parameters.clear_caches()
    metrics.clear_metrics()


@pytest.fixture(autouse=True)
def _powertools_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for key in ("AWS_ENDPOINT_URL", "TRIAGE_SECRET_ID", "HUBSPOT_WEBHOOK_URL", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    _reset_caches()
    yield
    _reset_caches()
