"""Accounting for every event: what intake answered, what became of each accepted event (a decision, a DLQ
entry, not classified), the AI notes at the vendors, and when the queues drained."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loadtest_plan import Plan

from triage_gate.triage.decision import DecisionRecord
from triage_gate.writeback.plan import NOTE_MARKER, decision_ref
from triage_local.runner import LocalRunner
from triage_local.sandboxes import Sandboxes

PIPELINE_QUEUES = ("TriageQueue", "ActionsQueue", "ExceptionQueue")


def drain(runner: LocalRunner, timeout: float, quiet: float = 3.0) -> tuple[float, bool, dict[str, Any]]:
    started = time.monotonic()
    calm_since: float | None = None
    depths: dict[str, Any] = {}
    while time.monotonic() - started < timeout:
        depths = runner.queue_depths()
        busy = sum(depths[q]["visible"] + depths[q]["in_flight"] for q in PIPELINE_QUEUES if q in depths)
        now = time.monotonic()
        if busy == 0:
            calm_since = calm_since or now
            if now - calm_since >= quiet:
                return calm_since - started, True, depths
        else:
            calm_since = None
        time.sleep(0.5)
    return time.monotonic() - started, False, depths


def scan_items(runner: LocalRunner, table_logical: str) -> list[dict[str, Any]]:
    ddb = runner.session.client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": runner.physical_id(table_logical), "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dlq_keys(runner: LocalRunner) -> dict[str, Counter[str]]:
    """Dedupe keys (or decision ids) of the messages in each DLQ, read without consuming them for long."""
    sqs = runner.session.client("sqs")
    found: dict[str, Counter[str]] = {}
    for logical, ids in runner.template.physical.items():
        if "QueueUrl" not in ids or not logical.endswith("Dlq"):
            continue
        keys: Counter[str] = Counter()
        seen: set[str] = set()
        for _ in range(50):
            got = sqs.receive_message(QueueUrl=ids["QueueUrl"], MaxNumberOfMessages=10, VisibilityTimeout=30,
                                      WaitTimeSeconds=0).get("Messages", [])  # fmt: skip
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                try:
                    body = json.loads(message["Body"])
                    keys[str(body.get("dedupe_key") or body.get("decision_id") or "?")] += 1
                except (ValueError, AttributeError):
                    keys["?"] += 1
        found[logical] = keys
    return found


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def notes_at_vendors(sandboxes: Sandboxes) -> dict[str, list[str]]:
    """Decision refs of the AI notes on each ticket at the fakes: `{"zendesk:60001": [ref, ...]}`."""
    pattern = re.compile(re.escape(NOTE_MARKER) + r" ([0-9a-f]{12})")
    found: dict[str, list[str]] = {}
    zendesk = sandboxes.zendesk
    with zendesk.lock:
        ticket_ids = list(zendesk.comments)
    for ticket_id in ticket_ids:
        refs = [m.group(1) for c in zendesk.comments_for(ticket_id) for m in pattern.finditer(c.get("body") or "")]
        if refs:
            found[f"zendesk:{ticket_id}"] = refs
    hubspot = sandboxes.hubspot
    with hubspot.lock:
        notes = [json.dumps(n) for n in hubspot.notes.values()]
    for note in notes:
        for m in pattern.finditer(note):
            found.setdefault("hubspot:notes", []).append(m.group(1))
    return found


@dataclass
class IntakeTally:
    """What intake answered, per event."""

    outcome: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key -> (source, event type, ticket)
    accepted_twice: int = 0
    http: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, plan: Plan) -> IntakeTally:
        tally = cls()
        for request in plan.requests:
            tally.http[f"{request.status}"] += 1
            tally.add(request)
        return tally

    def add(self, request: Any) -> None:
        answer = request.answer or {}
        if request.status is None or request.status >= 500:
            self.outcome["no answer / 5xx after retries"] += len(request.events)
            return
        if request.status >= 400:
            self.outcome["rejected (request 4xx)"] += len(request.events)
            self.reasons[f"{request.kind} → {request.status} {answer.get('error')}"] += 1
            return
        listed = answer.get("events") or []
        if len(listed) != len(request.events):
            self.outcome["answer does not list every event"] += len(request.events) - len(listed)
        for entry in listed:
            status = entry.get("status")
            self.outcome[{"accepted": "accepted", "duplicate": "duplicate", "ignored": "ignored",
                          "rejected": "rejected (event)"}.get(status, f"status {status}")] += 1  # fmt: skip
            if status == "accepted":
                key = entry["dedupe_key"]
                self.accepted_twice += key in self.accepted
                self.accepted[key] = request.events[entry["index"]]


@dataclass
class Fates:
    """What became of each accepted event."""

    fate: Counter[str] = field(default_factory=Counter)
    detail: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)

    def add(self, key: str, record: DecisionRecord | None, dlq: str | None, *, classified: bool,
            ticket_decided: bool) -> None:  # fmt: skip
        if record is not None:
            self.latencies.append((record.created_at - record.occurred_at).total_seconds() * 1000)
            self._decided(key, record)
        elif dlq is not None:
            self.fate["DLQ"] += 1
            self.detail[f"DLQ: {dlq}"] += 1
        elif not classified:
            self.fate["not classified"] += 1
        elif ticket_decided:  # decide once per ticket: another event's decision on this ticket stands
            self.fate["already decided"] += 1
            self.detail["already decided: the ticket's decision from another event stands"] += 1
        else:
            self.unaccounted.append(key)

    def _decided(self, key: str, record: DecisionRecord) -> None:
        if record.status != "routed":
            self.fate["decided but never routed"] += 1
            self.unaccounted.append(key)
        elif record.action == "apply":
            self.fate["applied"] += 1
            self.detail[f"apply: write-back {(record.writeback or {}).get('status', 'none')}"] += 1
        elif record.action == "review":
            self.fate["in review"] += 1
            self.detail[f"review: {(record.review or {}).get('state', 'not posted to Slack')}"] += 1
        else:
            self.fate["shadow (record only)"] += 1
            self.detail[f"record: mode {record.mode}"] += 1


def decision_records(items: list[dict[str, Any]]) -> dict[str, DecisionRecord]:
    records = {}
    for item in items:
        record = DecisionRecord.from_json(item["record"]["S"])
        record.status = "routed" if item["status"]["S"] == "routed" else "decided"
        record.writeback = json.loads(item["writeback"]["S"]) if "writeback" in item else None
        review_state = item.get("review_state", {}).get("S")
        record.review = {"state": review_state} if review_state else None
        records[record.decision_id] = record
    return records


def fates_of(
    tally: IntakeTally, records: dict[str, DecisionRecord], dlqs: dict[str, Counter[str]], policy: Any
) -> Fates:
    in_dlq = {key: queue for queue, keys in dlqs.items() for key in keys}
    decided = {(r.source, r.ticket_id) for r in records.values() if r.status == "routed"}
    fates = Fates()
    for key, (source, event_type, ticket) in tally.accepted.items():
        classified = policy.workflow_for(source, event_type) is not None
        if records.get(key) is None and key not in in_dlq and not classified:
            fates.detail[f"not classified: {source} {event_type}"] += 1
        fates.add(key, records.get(key), in_dlq.get(key), classified=classified,
                  ticket_decided=(source, ticket) in decided)  # fmt: skip
    for queue, keys in dlqs.items():  # write-back / review DLQs hold decisions (counted above as decided)
        for key, n in keys.items():
            if key not in tally.accepted:
                fates.detail[f"DLQ {queue}: message not from this run's intake ({key[:40]})"] += n
    return fates


def note_counts(notes: dict[str, list[str]], records: dict[str, DecisionRecord]) -> tuple[int, int, int]:
    """(duplicate AI notes for one decision, all notes, notes without an apply decision)."""
    duplicate = sum(n - 1 for refs in notes.values() for n in Counter(refs).values() if n > 1)
    total = sum(len(refs) for refs in notes.values())
    applied = {decision_ref(r.decision_id) for r in records.values() if r.action == "apply" and r.mode != "shadow"}
    stray = sum(1 for refs in notes.values() for ref in refs if ref not in applied)
    return duplicate, total, stray


@dataclass
class Accounting:
    """Every event sent, accounted for."""

    sent_events: int
    requests: int
    tally: IntakeTally
    fates: Fates
    records: dict[str, DecisionRecord]
    rejected: int
    lost: int  # received - (rejected + duplicates + ignored + everything the pipeline did with the rest)
    duplicate_notes: int
    notes_total: int
    stray_notes: int

    @property
    def latencies_ms(self) -> list[float]:
        return [x for x in self.fates.latencies if x == x]

    @property
    def complete(self) -> bool:
        return self.lost == 0 and not self.fates.unaccounted

    def check_line(self) -> str:
        outcome, fate = self.tally.outcome, self.fates.fate
        return (
            f"received {self.sent_events:,} = rejected {self.rejected:,} + duplicates {outcome['duplicate']:,} + "
            f"ignored {outcome['ignored']:,} + (applied {fate['applied']:,} + in review {fate['in review']:,} + "
            f"shadow {fate['shadow (record only)']:,} + already decided {fate['already decided']:,} + "
            f"not classified {fate['not classified']:,} + DLQ {fate['DLQ']:,}) + unaccounted {self.lost:,}"
        )


def account(
    plan: Plan,
    items: list[dict[str, Any]],
    dlqs: dict[str, Counter[str]],
    notes: dict[str, list[str]],
    policy: Any,
) -> Accounting:
    sent_events = sum(len(r.events) for r in plan.requests)
    tally = IntakeTally.of(plan)
    records = decision_records(items)
    fates = fates_of(tally, records, dlqs, policy)
    outcome, fate = tally.outcome, fates.fate
    rejected = outcome["rejected (request 4xx)"] + outcome["rejected (event)"]
    pipeline = sum(fate.values()) - fate["decided but never routed"]
    lost = sent_events - (rejected + outcome["duplicate"] + outcome["ignored"] + pipeline)
    duplicate_notes, notes_total, stray_notes = note_counts(notes, records)
    return Accounting(
        sent_events, len(plan.requests), tally, fates, records, rejected, lost, duplicate_notes, notes_total,
        stray_notes,
    )  # fmt: skip
