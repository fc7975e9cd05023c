"""Webhook dedupe on DynamoDB: a conditional put claims a key, an update confirms it was queued.

Item: pk, state (claimed|queued), lease_until, expires_at (the table's TTL attribute). A claim that
was never confirmed (the process died between claim and enqueue) lapses after the lease, so the
vendor's redelivery is accepted rather than taken for a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from triage_gate.errors import DedupeStoreUnavailable
from triage_gate.observability import logger

T = TypeVar("T")
PARALLELISM = 8
_CLAIM_CONDITION = "attribute_not_exists(pk) OR expires_at < :now OR (#state = :claimed AND lease_until < :now)"


class DynamoDedupeStore:
    def __init__(self, table_name: str, dynamodb: Any, *, ttl_seconds: int, lease_seconds: int) -> None:
        self._table = table_name
        self._ddb = dynamodb
        self._ttl = ttl_seconds
        self._lease = lease_seconds

    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        results = _map(lambda key: self._claim_one(key, int(now.timestamp())), keys)
        return {key for key, claimed in zip(keys, results, strict=True) if claimed}

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        _map(lambda key: self._confirm_one(key, int(now.timestamp())), keys)

    def release(self, keys: Sequence[str]) -> None:
        _map(self._release_one, keys)

    def _claim_one(self, key: str, now: int) -> bool:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": key},
                    "state": {"S": "claimed"},
                    "lease_until": {"N": str(now + self._lease)},
                    "expires_at": {"N": str(now + self._ttl)},
                    "first_seen": {"N": str(now)},
                },
                ConditionExpression=_CLAIM_CONDITION,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":claimed": {"S": "claimed"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise DedupeStoreUnavailable(f"dedupe claim failed: {exc}") from exc
        except BotoCoreError as exc:
            raise DedupeStoreUnavailable(f"dedupe claim failed: {exc}") from exc
        return True

    def _confirm_one(self, key: str, now: int) -> None:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET #state = :queued, queued_at = :now REMOVE lease_until",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":queued": {"S": "queued"}, ":now": {"N": str(now)}},
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("dedupe confirm failed; the claim will lapse", error=type(exc).__name__)

    def _release_one(self, key: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                ConditionExpression="#state = :claimed",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":claimed": {"S": "claimed"}},
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("dedupe release failed; the claim will lapse", error=type(exc).__name__)


def _map(fn: Callable[[str], T], keys: Sequence[str]) -> list[T]:
    if len(keys) <= 1:
        return [fn(k) for k in keys]
    with ThreadPoolExecutor(max_workers=min(PARALLELISM, len(keys))) as pool:
        return list(pool.map(fn, keys))
