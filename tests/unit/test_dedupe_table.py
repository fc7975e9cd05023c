"""DynamoDedupeStore against moto's in-process DynamoDB (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from triage_gate.adapters.dedupe_table import DynamoDedupeStore
from triage_gate.errors import DedupeStoreUnavailable

TABLE = "triage-dedupe"
TTL = 3600
LEASE = 20
NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def store(ddb: Any) -> DynamoDedupeStore:
    return DynamoDedupeStore(TABLE, ddb, ttl_seconds=TTL, lease_seconds=LEASE)


def test_first_claim_wins(store: DynamoDedupeStore) -> None:
    assert store.claim(["k1"], NOW) == {"k1"}


def test_second_claim_within_lease_is_refused(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)

    assert store.claim(["k1"], _at(LEASE - 1)) == set()


def test_batch_claim_returns_only_unseen_keys(store: DynamoDedupeStore) -> None:
    store.claim(["a", "b"], NOW)

    assert store.claim(["a", "b", "c", "d"], _at(1)) == {"c", "d"}


def test_confirmed_key_is_refused_after_the_lease(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)
    store.confirm(["k1"], NOW)

    assert store.claim(["k1"], _at(LEASE + 60)) == set()


def test_release_lets_a_claim_through_again(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)
    store.release(["k1"])

    assert store.claim(["k1"], _at(1)) == {"k1"}


def test_release_does_not_free_a_confirmed_key(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)
    store.confirm(["k1"], NOW)
    store.release(["k1"])

    assert store.claim(["k1"], _at(1)) == set()


def test_lapsed_lease_is_reclaimable(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)  # never confirmed: the claimant died

    assert store.claim(["k1"], _at(LEASE + 1)) == {"k1"}


def test_expired_item_is_reclaimable(store: DynamoDedupeStore) -> None:
    store.claim(["k1"], NOW)
    store.confirm(["k1"], NOW)

    assert store.claim(["k1"], _at(TTL + 1)) == {"k1"}


def test_claim_writes_ttl_attribute(store: DynamoDedupeStore, ddb: Any) -> None:
    store.claim(["k1"], NOW)

    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "k1"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(NOW.timestamp()) + TTL
    assert item["state"] == {"S": "claimed"}


def test_confirm_marks_item_queued(store: DynamoDedupeStore, ddb: Any) -> None:
    store.claim(["k1"], NOW)
    store.confirm(["k1"], _at(1))

    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "k1"}})["Item"]
    assert item["state"] == {"S": "queued"}
    assert "lease_until" not in item


def test_missing_table_is_dedupe_store_unavailable(ddb: Any) -> None:
    store = DynamoDedupeStore("no-such-table", ddb, ttl_seconds=TTL, lease_seconds=LEASE)

    with pytest.raises(DedupeStoreUnavailable):
        store.claim(["k1"], NOW)


def test_confirm_and_release_on_missing_table_do_not_raise(ddb: Any) -> None:
    store = DynamoDedupeStore("no-such-table", ddb, ttl_seconds=TTL, lease_seconds=LEASE)

    store.confirm(["k1"], NOW)
    store.release(["k1"])
