"""The scheduled functions, run by the package's runner under their own roles (IAM enforced)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.between_events.conftest import ZD_SECRET, Stack, new_ticket


def test_the_review_backlog_runs_with_its_role(stack: Stack) -> None:
    result = stack.runner.run_scheduled("ReviewBacklogFunction")

    assert set(result["workflows"]) == {"zendesk-support", "hubspot-tickets"}
    calls = {c.grant for c in stack.runner.aws_calls() if c.function == "ReviewBacklogFunction"}
    assert any(g.startswith("dynamodb:Query ") and g.endswith("/index/by_review_state") for g in calls)
    assert not [c for c in stack.runner.aws_calls() if c.function == "ReviewBacklogFunction" and not c.allowed]


def test_an_overdue_review_is_reposted_once_by_the_backlog_under_its_role(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, 88002, "Possible breach", "We think there was a breach of our account last night.")
    stack.settle()
    [decision] = stack.decisions(88002)
    assert decision.action == "review"  # security is always a human's call
    ddb = stack.runner.session.client("dynamodb")
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    ddb.update_item(
        TableName=stack.runner.physical_id("DecisionsTable"),
        Key={"pk": {"S": decision.decision_id}},
        UpdateExpression="SET review_posted_at = :t",
        ExpressionAttributeValues={":t": {"S": two_hours_ago}},
    )
    before = len(stack.sandboxes.slack.messages("#support-triage-review"))

    stack.runner.run_scheduled("ReviewBacklogFunction")
    stack.runner.run_scheduled("ReviewBacklogFunction")  # once: the case is marked as notified

    reposts = stack.sandboxes.slack.messages("#support-triage-review")[before:]
    assert len(reposts) == 1
    assert "review overdue" in reposts[0]["text"]
    grants = {c.grant.split(" ")[0] for c in stack.runner.aws_calls() if c.function == "ReviewBacklogFunction"}
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "secretsmanager:GetSecretValue"} <= grants


def test_the_roi_digest_reads_the_decisions_and_posts_to_each_workflows_channel(stack: Stack, zendesk: Any) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, 88001, "Invoice charged twice", "Our invoice for March was charged twice, please refund.")
    stack.settle()
    assert stack.decisions(88001)
    channels = ("#support-triage-review", "#revops-triage-review")
    before = {c: len(stack.sandboxes.slack.messages(c)) for c in channels}

    result = stack.runner.run_scheduled("RoiDigestFunction")

    assert result["decisions"] > 0  # read with the digest's own (read-only) role
    assert set(result["posted"]) == {"zendesk-support", "hubspot-tickets"}
    after = {c: len(stack.sandboxes.slack.messages(c)) for c in channels}
    assert all(after[c] == before[c] + 1 for c in channels)
    digest_calls = [c for c in stack.runner.aws_calls() if c.function == "RoiDigestFunction"]
    assert digest_calls
    assert all(c.allowed for c in digest_calls)
    assert {c.action for c in digest_calls} <= {"dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem",
                                               "secretsmanager:GetSecretValue"}  # fmt: skip
