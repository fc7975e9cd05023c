"""Review: post cases to Slack, take one outcome per case however many clicks, apply it, keep the SLA.

ReviewDesk runs inside Slack's 3-second ack (a conditional write and an enqueue, nothing else).
ReviewWorker does the slow part from ExceptionQueue: posting, the stale-ticket check, applying through
the write-back path, updating the Slack message, escalating. ReviewBacklog runs on a schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from triage_gate.errors import ContextUnavailable
from triage_gate.messages import DecisionMessage, ReviewJob, TicketSnapshot
from triage_gate.policy import Policy, Workflow
from triage_gate.review.blocks import (
    group_mention,
    mrkdwn_escape,
    resolved_message,
    review_message,
    ticket_url,
    user_mention,
)
from triage_gate.review.feedback import ExampleStore
from triage_gate.review.interactions import ReviewerAction
from triage_gate.review.models import CORRECTION_REASONS
from triage_gate.review.ports import ReviewLedger, SlackClient
from triage_gate.triage.decision import DecisionRecord, message_signals
from triage_gate.triage.ports import ContextFetcher, MessageQueue

Clock = Callable[[], datetime]
STALE_MARGIN_SECONDS = 5


def _now() -> datetime:
    return datetime.now(UTC)


class ReviewDesk:
    def __init__(self, ledger: ReviewLedger, jobs: MessageQueue, clock: Clock = _now) -> None:
        self._ledger = ledger
        self._jobs = jobs
        self._clock = clock

    def act(self, action: ReviewerAction) -> str:
        verdict = action.action.removesuffix("_anyway")
        base = {"decision_id": action.decision_id, "user_id": action.user_id, "user_name": action.user_name,
                "channel": action.channel, "ts": action.ts, "requested_at": self._clock()}  # fmt: skip
        if verdict == "correct" and (not action.labels or action.reason not in CORRECTION_REASONS):
            self._enqueue(
                ReviewJob.from_data(
                    {**base, "kind": "notice", "notice": "Pick the corrected label and a reason, then press Correct."}
                )
            )
            return "incomplete"
        if not self._ledger.claim_review(action.decision_id, action.user_id, verdict):
            self._enqueue(ReviewJob.from_data({**base, "kind": "notice", "notice": "This case is already resolved."}))
            return "already_resolved"
        correct = verdict == "correct"
        job = ReviewJob.from_data({  # validated: the verdict and labels come from a Slack click
            **base, "kind": "review_outcome", "verdict": verdict, "labels": action.labels if correct else {},
            "reason": action.reason if correct else None, "force": action.action.endswith("_anyway"),
        })  # fmt: skip
        try:
            self._enqueue(job)
        except Exception:
            self._ledger.reopen_review(action.decision_id)  # let the reviewer click again
            raise
        return "claimed"

    def _enqueue(self, job: ReviewJob) -> None:
        self._jobs.send(job.to_json(), dedupe_key=job.decision_id, correlation_id=job.decision_id)


class ReviewWorker(msgspec.Struct):
    policy: Policy
    ledger: ReviewLedger
    slack: SlackClient
    actions: MessageQueue
    context: ContextFetcher | None = None
    zendesk_base_url: str | None = None
    clock: Clock = _now
    examples: ExampleStore | None = None

    def post(self, message: DecisionMessage) -> str:
        record = self._record(message.decision_id)
        if record.review and record.review.get("ts"):
            return "already_posted"
        workflow = self.policy.workflows[record.workflow]
        text, blocks = review_message(record, workflow, self._link(record))
        channel, ts = self.slack.post(workflow.review.channel, text, blocks)
        self.ledger.review_posted(record.decision_id, channel, ts, self.clock().isoformat(), record.workflow)
        return "posted"

    def complete(self, job: ReviewJob) -> str:
        if job.kind == "notice":
            if job.channel:
                self.slack.ephemeral(job.channel, job.user_id, job.notice or "")
            return "noticed"
        record = self._record(job.decision_id)
        workflow = self.policy.workflows[record.workflow]
        state = (record.review or {}).get("state")
        if state == "resolved" or (state == "escalated" and job.verdict == "escalate"):
            self._show_resolved(record, record.review or {}, job)  # an earlier attempt got this far
            return "already_done"
        if (bad := unknown_label(workflow, job.labels)) is not None:
            return self._reject_label(record, job, bad)
        stamp = self._ticket_stamp(record) if job.verdict in ("approve", "correct") else None
        if job.verdict in ("approve", "correct") and not job.force and (changed := _changed_after(record, stamp)):
            self.ledger.reopen_review(record.decision_id)
            warning = f"The ticket changed at {changed} after this decision. Check it, then apply anyway or correct."
            text, blocks = review_message(record, workflow, self._link(record), warning=warning)
            self._update(record, text, blocks, job)
            return "stale"
        review = self._review(record, job, workflow)
        if job.verdict == "escalate":
            target = workflow.review.escalation_channel or workflow.review.channel
            mention = group_mention(workflow.review.escalation_group)
            text, blocks = review_message(record, workflow, self._link(record))
            self.slack.post(target, f"{mention}escalated by {user_mention(job.user_id)}: {text}", blocks)
            self.ledger.finish_review(record.decision_id, "escalated", review)
        else:
            self._apply(record, review["labels"], stamp, corrected=sorted(job.labels))
            self.ledger.finish_review(record.decision_id, "resolved", review)
            if self.examples is not None and job.verdict == "correct":
                for task, label in job.labels.items():
                    self.examples.add(record.workflow, task, label, f"{record.subject or ''} {record.input_text}")
        self._show_resolved(record, review, job)
        return job.verdict or "done"

    # ------------------------------------------------------------------ helpers
    def _reject_label(self, record: DecisionRecord, job: ReviewJob, bad: str) -> str:
        """A label outside the taxonomy is never applied or recorded: the case reopens, the reviewer is told."""
        self.ledger.reopen_review(record.decision_id)
        if job.channel:
            notice = f"`{bad}` is not a label of this workflow's taxonomy: nothing was applied. Pick one from the list."
            self.slack.ephemeral(job.channel, job.user_id, mrkdwn_escape(notice))
        return "rejected_label"

    def _record(self, decision_id: str) -> DecisionRecord:
        record = self.ledger.get(decision_id)
        if record is None:
            raise LookupError(f"no decision {decision_id}")  # retried, then the DLQ: never dropped
        return record

    def _review(self, record: DecisionRecord, job: ReviewJob, workflow: Workflow) -> dict[str, Any]:
        posted = (record.review or {}).get("posted_at")
        resolved = job.requested_at  # the click, not when this worker got to it
        labels = {task: label for task, label in record.labels.items() if label} | dict(job.labels)
        return {
            "verdict": job.verdict,
            "reviewer": job.user_id,
            "reviewer_name": job.user_name,
            "labels": labels,
            "corrected": dict(job.labels),
            "reason": job.reason,
            "escalated_to": (workflow.review.escalation_channel or workflow.review.channel)
            if job.verdict == "escalate" else None,
            "resolved_at": resolved.isoformat(),
            "time_to_review_s": (resolved - datetime.fromisoformat(posted)).total_seconds() if posted else 0.0,
            "proposed": dict(record.labels),
            "reason_codes": list(record.reason_codes),
        }  # fmt: skip

    def _apply(self, record: DecisionRecord, labels: dict[str, str], stamp: str | None, corrected: list[str]) -> None:
        """The reviewer's answer goes through the ordinary write-back path (same decision id: once), conditional
        on the ticket as it was when the reviewer's click was checked: a person's change after it is kept."""
        message = DecisionMessage(
            decision_id=record.decision_id, correlation_id=record.correlation_id, workflow=record.workflow,
            source=record.source, account_id=record.account_id, ticket_id=record.ticket_id, action="apply",
            mode="auto", labels=dict(labels),
            confidence={t: d.calibrated_confidence for t, d in record.tasks.items()},
            reason_codes=[], policy_version=record.policy_version, decided_at=self.clock(),
            snapshot=TicketSnapshot(updated_at=stamp) if stamp else None, authority="reviewer",
            corrected_tasks=corrected, language=record.language.code if record.language else None,
            signals=message_signals(record.signals),
        )  # fmt: skip
        self.actions.send(message.to_json(), dedupe_key=record.decision_id, correlation_id=record.correlation_id)

    def _ticket_stamp(self, record: DecisionRecord) -> str | None:
        """The ticket's change stamp now (None when it cannot be read: then nobody is blocked)."""
        if self.context is None:
            return None
        field = "ticket.updated_at" if record.source == "zendesk" else "ticket.hs_lastmodifieddate"
        try:
            documents = self.context.fetch(record.source, record.account_id, record.ticket_id, [field], 2.0)
        except ContextUnavailable:
            return None
        value = (documents.get("ticket") or {}).get(field.split(".", 1)[1])
        return str(value) if value else None

    def _show_resolved(self, record: DecisionRecord, review: dict[str, Any], job: ReviewJob) -> None:
        text, blocks = resolved_message(record, review)
        self._update(record, text, blocks, job)

    def _update(self, record: DecisionRecord, text: str, blocks: list[dict[str, Any]], job: ReviewJob) -> None:
        """The message the reviewer clicked (an SLA re-post, an escalation post) and the original one."""
        current = record.review or {}
        targets = {(current.get("channel"), current.get("ts")), (job.channel, job.ts)}
        for channel, ts in sorted(t for t in targets if t[0] and t[1]):
            self.slack.update(str(channel), str(ts), text, blocks)

    def _link(self, record: DecisionRecord) -> str | None:
        return ticket_url(record, self.zendesk_base_url, None)


def unknown_label(workflow: Workflow, labels: dict[str, str]) -> str | None:
    """The first `task=label` that names no task of the workflow or a label outside that task's taxonomy."""
    for task, label in labels.items():
        spec = workflow.tasks.get(task)
        if spec is None or label not in spec.labels:
            return f"{task}={label}"
    return None


def _changed_after(record: DecisionRecord, stamp: str | None) -> str | None:
    """The stamp, when the ticket changed after the decision (beyond our own write's few seconds)."""
    if not stamp:
        return None
    try:
        changed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if changed.tzinfo is None:
        changed = changed.replace(tzinfo=UTC)
    return stamp if (changed - record.created_at).total_seconds() > STALE_MARGIN_SECONDS else None


class ReviewBacklog(msgspec.Struct):
    policy: Policy
    ledger: ReviewLedger
    slack: SlackClient
    zendesk_base_url: str | None = None
    clock: Clock = _now

    def run(self) -> dict[str, dict[str, float]]:
        """Per workflow: pending count and oldest age (minutes). Overdue reviews are re-posted once,
        mentioning the escalation group. A review that times out escalates; it is never auto-approved."""
        now = self.clock()
        stats: dict[str, dict[str, float]] = {
            name: {"pending": 0, "oldest_minutes": 0.0} for name in self.policy.workflows
        }
        for item in self.ledger.pending_reviews():
            workflow = self.policy.workflows.get(item["workflow"])
            if workflow is None or not item.get("review_posted_at"):
                continue
            age = (now - datetime.fromisoformat(item["review_posted_at"])).total_seconds() / 60
            entry = stats[item["workflow"]]
            entry["pending"] += 1
            entry["oldest_minutes"] = max(entry["oldest_minutes"], age)
            if age > workflow.sla.review_minutes and not item.get("sla_notified"):
                self._repost(item["decision_id"], workflow, age)
        return stats

    def _repost(self, decision_id: str, workflow: Workflow, age: float) -> None:
        record = self.ledger.get(decision_id)
        if record is None:
            return
        mention = group_mention(workflow.review.escalation_group)
        text, blocks = review_message(record, workflow, ticket_url(record, self.zendesk_base_url, None))
        banner = f"{mention}review overdue: waiting {age:.0f} min (SLA {workflow.sla.review_minutes} min)"
        self.slack.post(workflow.review.channel, f"{banner}. {text}", [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":alarm_clock: *{banner}*"}}, *blocks,
        ])  # fmt: skip
        self.ledger.mark_sla_notified(decision_id)
