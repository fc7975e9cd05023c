"""The rollout audit trail: every promotion and roll back — who, when, from → to, segment, evidence, forced.

- In AWS, in the stack's ControlTable. Its key is a partition key only (``pk``), so the trail is a numbered
  log per workflow: a head item ``rollout-audit#<workflow>`` whose ``last_seq`` is raised atomically (``ADD``),
  and one item per entry, ``rollout-audit#<workflow>#<seq, 8 digits>``, created only if absent. The last
  entries are read by key (no scan of a table that also holds every ticket claim); the items carry no
  ``expires_at``, so the table's TTL never removes them.
- Locally, a JSON-lines file beside the flags file it governs (``flags.json`` → ``flags.audit.jsonl``): the
  local stack's DynamoDB lives only as long as ``triage local`` runs, while a change to the flags file outlives
  it, and so must its record.

Nothing read is dropped silently: unreadable lines or missing entries are counted (:class:`Recent`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["AuditEntry", "AuditError", "AuditTrail", "DynamoAuditTrail", "JsonlAuditTrail", "Recent"]

AUDIT_PREFIX = "rollout-audit#"
_BATCH_ATTEMPTS = 5


class AuditError(Exception):
    """The audit trail could not be read or written."""


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601, UTC
    actor: str  # --actor, $TRIAGE_ACTOR, the AWS caller, or the local user
    workflow: str
    segment: str  # a rule's name, or "default"
    kind: str  # promotion, widening, roll_back
    from_mode: str
    to_mode: str
    target: str  # where the flags went
    share_before: float | None = None
    share_after: float | None = None
    forced: bool = False  # made although the evidence did not meet the bar
    reason: str | None = None
    unmet: list[str] = field(default_factory=list)  # the bars not met (forced changes)
    evidence: dict[str, Any] = field(default_factory=dict)  # the segment's evidence when it was made
    result: dict[str, Any] = field(default_factory=dict)  # the file written, or the version and deployment
    identity: str | None = None  # the AWS caller's ARN (STS), when the flags are in AppConfig

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> AuditEntry:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("an audit entry is a JSON object")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Recent:
    entries: list[AuditEntry]  # newest first
    unreadable: int = 0  # lines or items that could not be read (counted, never hidden)


class AuditTrail(Protocol):
    @property
    def where(self) -> str: ...

    def append(self, entry: AuditEntry) -> None: ...

    def recent(self, workflows: Iterable[str], limit: int) -> Recent: ...


def _newest_first(entries: list[tuple[int, AuditEntry]]) -> list[AuditEntry]:
    """By time, newest first; two changes in the same second by their order in the trail."""
    return [entry for _, entry in sorted(entries, key=lambda item: (item[1].at, item[0]), reverse=True)]


@dataclass(frozen=True)
class JsonlAuditTrail:
    path: Path

    @property
    def where(self) -> str:
        return str(self.path)

    def append(self, entry: AuditEntry) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(entry.as_json() + "\n")
        except OSError as exc:
            raise AuditError(f"cannot append to the audit trail {self.path}: {exc}") from exc

    def recent(self, workflows: Iterable[str], limit: int) -> Recent:
        wanted = set(workflows)
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        except OSError as exc:
            raise AuditError(f"cannot read the audit trail {self.path}: {exc}") from exc
        found: dict[str, list[tuple[int, AuditEntry]]] = {}
        unreadable = 0
        for order, line in enumerate(filter(str.strip, lines)):
            try:
                entry = AuditEntry.from_json(line)
            except (ValueError, TypeError):
                unreadable += 1
                continue
            if entry.workflow in wanted:
                found.setdefault(entry.workflow, []).append((order, entry))
        return Recent(_newest_first([item for items in found.values() for item in items[-limit:]]), unreadable)


@dataclass(frozen=True)
class DynamoAuditTrail:
    table: str
    dynamodb: Any  # boto3 dynamodb client

    @property
    def where(self) -> str:
        return f"DynamoDB {self.table}"

    def append(self, entry: AuditEntry) -> None:
        head = AUDIT_PREFIX + entry.workflow
        try:
            raised = self.dynamodb.update_item(
                TableName=self.table, Key={"pk": {"S": head}}, UpdateExpression="ADD last_seq :one",
                ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW",
            )  # fmt: skip
            seq = int(raised["Attributes"]["last_seq"]["N"])
            self.dynamodb.put_item(
                TableName=self.table,
                Item={"pk": {"S": f"{head}#{seq:08d}"}, "workflow": {"S": entry.workflow}, "at": {"S": entry.at},
                      "entry": {"S": entry.as_json()}},
                ConditionExpression="attribute_not_exists(pk)",
            )  # fmt: skip
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"cannot write the audit trail in {self.table}: {exc}") from exc

    def recent(self, workflows: Iterable[str], limit: int) -> Recent:
        keys, unreadable = [], 0
        try:
            for workflow in workflows:
                head = self.dynamodb.get_item(
                    TableName=self.table, Key={"pk": {"S": AUDIT_PREFIX + workflow}}, ConsistentRead=True
                ).get("Item")
                last = int(head["last_seq"]["N"]) if head else 0
                keys += [f"{AUDIT_PREFIX}{workflow}#{seq:08d}" for seq in range(max(1, last - limit + 1), last + 1)]
            items = self._get_all(keys)
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"cannot read the audit trail in {self.table}: {exc}") from exc
        entries = []
        for key in keys:
            try:
                entries.append((int(key.rsplit("#", 1)[1]), AuditEntry.from_json(items[key]["entry"]["S"])))
            except (KeyError, ValueError, TypeError):
                unreadable += 1  # numbered but never written (a crash between the two writes), or not ours
        return Recent(_newest_first(entries), unreadable)

    def _get_all(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):  # BatchGetItem: at most 100 keys a call
            pending: dict[str, Any] = {
                self.table: {"Keys": [{"pk": {"S": k}} for k in keys[start : start + 100]], "ConsistentRead": True}
            }
            for _ in range(_BATCH_ATTEMPTS):  # keys still unprocessed after these are counted as unreadable
                answer = self.dynamodb.batch_get_item(RequestItems=pending)
                found.update({item["pk"]["S"]: item for item in answer.get("Responses", {}).get(self.table, [])})
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
        return found
