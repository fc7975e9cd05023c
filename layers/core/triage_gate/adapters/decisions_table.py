"""DecisionsTable: one item per ticket event, created once, then annotated by later stages."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from triage_gate.triage.decision import DecisionRecord


class DynamoDecisionStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._ddb = dynamodb

    def get(self, decision_id: str) -> DecisionRecord | None:
        key = {"pk": {"S": decision_id}}
        item = self._ddb.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return record_from_item(item) if item else None

    def scan(self) -> list[DecisionRecord]:
        """Every decision (exports and reports; a full table scan)."""
        records: list[DecisionRecord] = []
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._ddb.scan(**kwargs)
            records.extend(record_from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def latest_for_ticket(self, ticket_key: str) -> DecisionRecord | None:
        found = self._ddb.query(
            TableName=self._table,
            IndexName="by_ticket",
            KeyConditionExpression="ticket_key = :k",
            ExpressionAttributeValues={":k": {"S": ticket_key}},
            ScanIndexForward=False,
            Limit=1,
        ).get("Items", [])
        return self.get(found[0]["pk"]["S"]) if found else None

    def add_override(self, decision_id: str, finding: dict[str, Any]) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key={"pk": {"S": decision_id}},
            UpdateExpression="SET overrides = list_append(if_not_exists(overrides, :empty), :new)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":empty": {"L": []},
                ":new": {"L": [{"S": json.dumps(finding, default=str)}]},
            },
        )

    def create(self, record: DecisionRecord) -> bool:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": record.decision_id},
                    "ticket_key": {"S": record.ticket_key},
                    "created_at": {"S": record.created_at.isoformat()},
                    "workflow": {"S": record.workflow},
                    "action": {"S": record.action},
                    "status": {"S": record.status},
                    "record": {"S": record.to_json()},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_routed(self, decision_id: str) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key={"pk": {"S": decision_id}},
            UpdateExpression="SET #status = :routed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":routed": {"S": "routed"}},
        )

    def writeback_state(self, decision_id: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": decision_id}}, ProjectionExpression="writeback", ConsistentRead=True
        ).get("Item")
        return json.loads(item["writeback"]["S"]) if item and "writeback" in item else None

    def set_writeback(self, decision_id: str, state: dict[str, Any]) -> None:
        self._set(decision_id, "writeback", state)

    def claim_writeback(self, decision_id: str, lease_seconds: int) -> bool:
        now = int(time.time())
        return self._conditional(
            decision_id,
            "SET writeback_lease = :until",
            "attribute_exists(pk) AND (attribute_not_exists(writeback_lease) OR writeback_lease < :now)",
            {":until": {"N": str(now + lease_seconds)}, ":now": {"N": str(now)}},
        )

    def release_writeback(self, decision_id: str) -> None:
        self._ddb.update_item(
            TableName=self._table, Key={"pk": {"S": decision_id}}, UpdateExpression="REMOVE writeback_lease"
        )

    def _set(self, decision_id: str, attribute: str, value: dict[str, Any]) -> None:
        self._ddb.update_item(
            TableName=self._table,
            Key={"pk": {"S": decision_id}},
            UpdateExpression="SET #a = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":v": {"S": json.dumps(value, default=str)}},
        )

    # ---------------------------------------------------------------- review ledger
    def review_posted(self, decision_id: str, channel: str, ts: str, posted_at: str, workflow: str) -> bool:
        return self._conditional(
            decision_id,
            "SET review_state = :pending, review_channel = :c, review_ts = :ts, review_posted_at = :at",
            "attribute_exists(pk) AND attribute_not_exists(review_ts)",
            {":pending": {"S": "pending"}, ":c": {"S": channel}, ":ts": {"S": ts}, ":at": {"S": posted_at}},
        )

    def claim_review(self, decision_id: str, user_id: str, verdict: str) -> bool:
        return self._conditional(
            decision_id,
            "SET review_state = :claimed, claimed_by = :u, claimed_verdict = :v",
            # An escalated case stays actionable: the senior channel's buttons claim it too.
            "review_state IN (:pending, :escalated)",
            {
                ":claimed": {"S": "claimed"},
                ":pending": {"S": "pending"},
                ":escalated": {"S": "escalated"},
                ":u": {"S": user_id},
                ":v": {"S": verdict},
            },
        )

    def reopen_review(self, decision_id: str) -> None:
        self._conditional(
            decision_id,
            "SET review_state = :pending REMOVE claimed_by, claimed_verdict",
            "review_state = :claimed",
            {":pending": {"S": "pending"}, ":claimed": {"S": "claimed"}},
        )

    def finish_review(self, decision_id: str, state: str, review: dict[str, Any]) -> None:
        self._conditional(
            decision_id,
            "SET review_state = :state, review = :review",
            "review_state = :claimed",
            {":state": {"S": state}, ":claimed": {"S": "claimed"}, ":review": {"S": json.dumps(review, default=str)}},
        )

    def pending_reviews(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for state in ("pending", "claimed"):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "by_review_state",
                "KeyConditionExpression": "review_state = :s",
                "ExpressionAttributeValues": {":s": {"S": state}},
            }
            while True:
                page = self._ddb.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            {
                "decision_id": i["pk"]["S"],
                "workflow": i.get("workflow", {}).get("S", ""),
                "review_posted_at": i.get("review_posted_at", {}).get("S"),
                "sla_notified": i.get("sla_notified", {}).get("BOOL", False),
                "state": i["review_state"]["S"],
            }
            for i in items
        ]

    def mark_sla_notified(self, decision_id: str) -> None:
        self._conditional(decision_id, "SET sla_notified = :t", "attribute_exists(pk)", {":t": {"BOOL": True}})

    def _conditional(self, decision_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": decision_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def record_from_item(item: dict[str, Any]) -> DecisionRecord:
    """A DecisionRecord with what later stages wrote (write-back, review, overrides) merged in."""
    record = DecisionRecord.from_json(item["record"]["S"])
    record.status = "routed" if item["status"]["S"] == "routed" else "decided"
    if "writeback" in item:
        record.writeback = json.loads(item["writeback"]["S"])
    if "overrides" in item:
        record.override = {"findings": [json.loads(v["S"]) for v in item["overrides"]["L"]]}
    if "review_state" in item:
        record.review = {
            **(json.loads(item["review"]["S"]) if "review" in item else {}),
            "state": item["review_state"]["S"],
            "channel": item.get("review_channel", {}).get("S"),
            "ts": item.get("review_ts", {}).get("S"),
            "posted_at": item.get("review_posted_at", {}).get("S"),
        }
    return record
