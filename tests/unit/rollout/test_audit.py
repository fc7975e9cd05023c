"""The audit trail: a JSON-lines file beside the flags, or numbered items per workflow in the ControlTable;
what cannot be read is counted, never hidden."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from triage_tools.rollout.audit import AuditEntry, DynamoAuditTrail, JsonlAuditTrail


def entry(n: int, workflow: str = "support") -> AuditEntry:
    return AuditEntry(at=f"2026-11-{n:02d}T10:00:00+00:00", actor="maria", workflow=workflow, segment="default",
                      kind="promotion", from_mode="shadow", to_mode="assist", target="flags.json")  # fmt: skip


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="control", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )  # fmt: skip
        yield client


def test_the_file_trail_keeps_the_last_entries_per_workflow_and_counts_unreadable_lines(tmp_path):
    trail = JsonlAuditTrail(tmp_path / "flags.audit.jsonl")
    for n in range(1, 5):
        trail.append(entry(n))
    trail.append(entry(5, workflow="other"))
    with trail.path.open("a", encoding="utf-8") as out:
        out.write("{not json\n")

    recent = trail.recent(["support"], limit=2)

    assert [e.at[:10] for e in recent.entries] == ["2026-11-04", "2026-11-03"]
    assert recent.unreadable == 1
    assert JsonlAuditTrail(tmp_path / "none.jsonl").recent(["support"], 5).entries == []


def test_the_table_trail_numbers_entries_per_workflow_and_reads_the_last_by_key(ddb):
    trail = DynamoAuditTrail("control", ddb)
    for n in range(1, 4):
        trail.append(entry(n))
    trail.append(entry(9, workflow="other"))

    recent = trail.recent(["support", "other"], limit=2)

    assert [(e.workflow, e.at[:10]) for e in recent.entries] == [
        ("other", "2026-11-09"), ("support", "2026-11-03"), ("support", "2026-11-02"),
    ]  # fmt: skip
    head = ddb.get_item(TableName="control", Key={"pk": {"S": "rollout-audit#support"}})["Item"]
    assert head["last_seq"]["N"] == "3"
    item = ddb.get_item(TableName="control", Key={"pk": {"S": "rollout-audit#support#00000003"}})["Item"]
    assert "expires_at" not in item  # the table's TTL never removes the trail
    assert AuditEntry.from_json(item["entry"]["S"]) == entry(3)


def test_a_numbered_entry_that_was_never_written_is_counted(ddb):
    trail = DynamoAuditTrail("control", ddb)
    trail.append(entry(1))
    ddb.update_item(  # a writer that died between numbering and writing its entry
        TableName="control", Key={"pk": {"S": "rollout-audit#support"}}, UpdateExpression="ADD last_seq :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )  # fmt: skip

    recent = trail.recent(["support"], limit=5)

    assert len(recent.entries) == 1
    assert recent.unreadable == 1


def test_changes_made_in_the_same_second_are_listed_newest_first(tmp_path, ddb):
    same_second = [entry(7), AuditEntry(**{**entry(7).__dict__, "to_mode": "auto"})]
    for trail in (JsonlAuditTrail(tmp_path / "a.jsonl"), DynamoAuditTrail("control", ddb)):
        for item in same_second:
            trail.append(item)

        assert [e.to_mode for e in trail.recent(["support"], limit=5).entries] == ["auto", "assist"]
