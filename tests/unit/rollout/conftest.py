"""Fixtures of the rollout tests: a copy of the local flags file, and a DecisionsTable in moto."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.unit.rollout import DECISIONS_TABLE
from triage_gate.adapters.decisions_table import DynamoDecisionStore


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    shutil.copy("infra/local/flags.json", path)  # hubspot-tickets: default shadow, "10% of tickets on auto"
    return path


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDecisionStore]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("TRIAGE_ACTOR", "ops-lead")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName=DECISIONS_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )  # fmt: skip
        yield DynamoDecisionStore(DECISIONS_TABLE, ddb)
