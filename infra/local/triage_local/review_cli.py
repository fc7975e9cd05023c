"""`triage review`: work the exception queue without Slack, through the same /slack/interactions endpoint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import requests

from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.review.signing import block_actions_payload, signed_interaction


@dataclass
class Pending:
    decision_id: str
    workflow: str
    ticket: str
    labels: dict[str, Any]
    reasons: list[str]
    channel: str | None
    ts: str | None
    state: str


def runner_resources(base_url: str) -> dict[str, Any]:
    health = requests.get(f"{base_url.rstrip('/')}/healthz", timeout=5).json()
    return dict(health)


def _local_dynamodb(health: dict[str, Any]) -> Any:
    """The local stack's operator identity when it enforces IAM (from /healthz), else the environment's keys."""
    import boto3

    credentials = health.get("aws_credentials") or {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }
    return boto3.client(
        "dynamodb", endpoint_url=health["aws_endpoint"], region_name=health.get("region", "us-east-1"), **credentials
    )


def local_decision_store(base_url: str) -> DynamoDecisionStore:
    """The DecisionsTable of a running local stack (found through its /healthz)."""
    health = runner_resources(base_url)
    return DynamoDecisionStore(health["resources"]["DecisionsTable"], _local_dynamodb(health))


def pending_reviews(base_url: str, include_resolved: bool = False) -> list[Pending]:
    health = runner_resources(base_url)
    ddb = _local_dynamodb(health)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": health["resources"]["DecisionsTable"]}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    out = []
    for item in items:
        state = item.get("review_state", {}).get("S")
        if state is None or (state not in ("pending", "claimed") and not include_resolved):
            continue
        record = json.loads(item["record"]["S"])
        out.append(
            Pending(
                decision_id=record["decision_id"],
                workflow=record["workflow"],
                ticket=f"{record['source']} #{record['ticket_id']}",
                labels={t: d["label"] for t, d in record["tasks"].items()},
                reasons=record["reason_codes"],
                channel=item.get("review_channel", {}).get("S"),
                ts=item.get("review_ts", {}).get("S"),
                state=state,
            )
        )
    return sorted(out, key=lambda p: p.ticket)


def click(
    base_url: str,
    action: str,
    decision_id: str,
    *,
    secret: str,
    user: str,
    labels: dict[str, str] | None = None,
    reason: str | None = None,
) -> requests.Response:
    """Press a button of a review message, as Slack would deliver it (signed, form-encoded)."""
    target = next((p for p in pending_reviews(base_url, include_resolved=True) if p.decision_id == decision_id), None)
    payload = block_actions_payload(
        action, decision_id, user_id=user, user_name=user, channel=target.channel if target else None,
        ts=target.ts if target else None, labels=labels, reason=reason,
    )  # fmt: skip
    body, headers = signed_interaction(payload, secret)
    return requests.post(f"{base_url.rstrip('/')}/slack/interactions", data=body, headers=headers, timeout=10)
