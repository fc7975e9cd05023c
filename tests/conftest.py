"""Fixtures shared by every suite: the Powertools environment, Powertools' own caches reset, and no network
for the unit and contract suites.

Our services are built per test from the fakes each test gives them: nothing of ours is cached globally.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities import parameters
from pytest_socket import disable_socket, enable_socket

from triage_gate.observability import metrics

TESTS = Path(__file__).resolve().parent
OFFLINE = (TESTS / "unit", TESTS / "contract")  # suites that never touch the network


def _reset_powertools() -> None:
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
    _reset_powertools()
    yield
    _reset_powertools()


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit and contract tests never touch the network: sockets are disabled (Unix sockets stay allowed)."""
    path = Path(request.path).resolve()
    offline = any(path.is_relative_to(suite) for suite in OFFLINE)
    if offline:
        disable_socket(allow_unix_socket=True)
    yield
    if offline:
        enable_socket()
