"""ControlTable: small shared state with TTL — circuit breakers, daily model budgets, ticket claims."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from triage_gate.review.feedback import add_example
from triage_gate.triage.breaker import BreakerState
from triage_gate.triage.ports import TicketClaim

STATE_TTL_SECONDS = 3 * 86_400


class DynamoBreakerStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def load(self, key: str) -> BreakerState:
        item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
        if not item:
            return BreakerState()
        number = {k: float(v["N"]) for k, v in item.items() if "N" in v}
        return BreakerState(
            failures=int(number.get("failures", 0)),
            window_start=number.get("window_start", 0.0),
            open_until=number.get("open_until", 0.0),
            probe_until=number.get("probe_until", 0.0),
            version=int(number.get("version", 0)),
        )

    def save(self, key: str, state: BreakerState) -> bool:
        item = {
            "pk": {"S": key},
            "failures": {"N": str(state.failures)},
            "window_start": {"N": str(state.window_start)},
            "open_until": {"N": str(state.open_until)},
            "probe_until": {"N": str(state.probe_until)},
            "version": {"N": str(state.version + 1)},
            "expires_at": {"N": str(int(time.time()) + STATE_TTL_SECONDS)},
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR version = :v",
                ExpressionAttributeValues={":v": {"N": str(state.version)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoBudgetStore:
    """Spend in micro-dollars, one atomic counter per workflow and UTC day."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def spent(self, key: str) -> float:
        item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": key}}).get("Item")
        return int(item["spent_micro_usd"]["N"]) / 1_000_000 if item else 0.0

    def add(self, key: str, usd: float) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key={"pk": {"S": key}},
            UpdateExpression="ADD spent_micro_usd :n SET expires_at = :ttl",
            ExpressionAttributeValues={
                ":n": {"N": str(round(usd * 1_000_000))},
                ":ttl": {"N": str(int(time.time()) + STATE_TTL_SECONDS)},
            },
        )


class DynamoExampleStore:
    """Recent reviewer corrections per workflow, one item each (few-shot examples for the prompt)."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def recent(self, workflow: str) -> dict[str, dict[str, list[str]]]:
        item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": f"examples#{workflow}"}}).get("Item")
        return dict(json.loads(item["examples"]["S"])) if item else {}

    def add(self, workflow: str, task: str, label: str, text: str) -> None:
        for _ in range(3):  # optimistic lock on a version number
            item = self._ddb.get_item(
                TableName=self._table, Key={"pk": {"S": f"examples#{workflow}"}}, ConsistentRead=True
            ).get("Item")
            version = int(item["version"]["N"]) if item else 0
            examples = json.loads(item["examples"]["S"]) if item else {}
            add_example(examples, task, label, text)
            try:
                self._ddb.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": f"examples#{workflow}"},
                        "examples": {"S": json.dumps(examples)},
                        "version": {"N": str(version + 1)},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR version = :v",
                    ExpressionAttributeValues={":v": {"N": str(version)}},
                )
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise


TICKET_PREFIX = "ticket#"
# After this the claim lapses; the decisions table (by_ticket) still says the ticket was decided.
TICKET_CLAIM_TTL_SECONDS = 30 * 86_400


class DynamoTicketClaims:
    """Decide once: one item per ticket, taken with a conditional write, settled once decided."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def claim(self, ticket_key: str, decision_id: str, lease_seconds: int) -> TicketClaim:
        now = int(time.time())
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(ticket_key, decision_id, "deciding", now, lease_until=now + lease_seconds),
                # New ticket, our own earlier attempt, or a claim whose holder died (lease lapsed).
                ConditionExpression="attribute_not_exists(pk) OR decision_id = :me "
                "OR (ticket_state = :deciding AND lease_until < :now)",
                ExpressionAttributeValues={
                    ":me": {"S": decision_id},
                    ":deciding": {"S": "deciding"},
                    ":now": {"N": str(now)},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._ddb.get_item(
                TableName=self._table, Key={"pk": {"S": TICKET_PREFIX + ticket_key}}, ConsistentRead=True
            ).get("Item")
            return "decided" if item and item["ticket_state"]["S"] == "decided" else "busy"
        return "claimed"

    def settle(self, ticket_key: str, decision_id: str) -> None:
        self._ddb.put_item(TableName=self._table, Item=self._item(ticket_key, decision_id, "decided", int(time.time())))

    def release(self, ticket_key: str, decision_id: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": TICKET_PREFIX + ticket_key}},
                ConditionExpression="decision_id = :me AND ticket_state = :deciding",
                ExpressionAttributeValues={":me": {"S": decision_id}, ":deciding": {"S": "deciding"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    @staticmethod
    def _item(ticket_key: str, decision_id: str, state: str, now: int, lease_until: int = 0) -> dict[str, Any]:
        return {
            "pk": {"S": TICKET_PREFIX + ticket_key},
            "decision_id": {"S": decision_id},
            "ticket_state": {"S": state},
            "lease_until": {"N": str(lease_until)},
            "expires_at": {"N": str(now + TICKET_CLAIM_TTL_SECONDS)},
        }
