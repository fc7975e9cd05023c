"""Rollout evidence per workflow and segment: what each segment of the rollout flags decided and how well.

Pure functions over :class:`~triage_gate.triage.decision.DecisionRecord` + the policy + the current flags
document (no clock: ``now`` is given; no I/O), so ``triage rollout status``, ``triage rollout promote``,
``triage report`` and the weekly digest all judge the same numbers. What to do with them (hold, promote, widen,
roll back) is :mod:`triage_gate.rollout_gate`.

**Segments.** A workflow's flag ``mode.<workflow>`` has rules (first match wins) and a default; every decision
records which one decided its mode (``rollout_rule``: a rule's name, ``"default"``, or ``None`` when there was
no flag and the policy's mode applied). A segment is one of those: its current mode and, for a rule with a
``MODULO_RANGE`` condition on ``ticket_number``, its share of ticket numbers (``(END - START + 1) / BASE``).
Rules no longer in the flags keep their history as *retired* segments; decisions with ``rollout_rule`` ``None``
under a flag were decided before rules were recorded (or by the policy's mode) and form their own segment.

**Evidence** (decisions created in the last ``promotion.window_days`` before ``now``):

- ``decisions``, and how many in each mode;
- shadow agreement: shadow findings (a human set a field a shadow decision would have set) and how many agreed;
- applied precision: applied decisions are those auto-applied (``action == "apply"`` in assist or auto, no
  reviewer verdict, write-back not failed) and those a reviewer approved or corrected; an applied decision is
  an error when a human overrode a field it set, or the reviewer corrected it (counted once per decision);
- review load: decisions sent to review that are still waiting (oldest age, from when the case was posted or,
  before that, decided) and answered ones; an SLA miss is an answer after ``sla.review_minutes`` or a case
  still waiting past it.

Rates come with Wilson bounds at the policy's ``promotion.confidence``. ``None`` means "no evidence".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec import field

from triage_gate.policy import Policy, Workflow
from triage_gate.proportions import wilson_lower_bound, wilson_upper_bound, z_for
from triage_gate.roi.periods import parse_time, utc
from triage_gate.rollout import DEFAULT_RULE, flag_name
from triage_gate.triage.decision import DecisionRecord

__all__ = ["Evidence", "FlagSegment", "RolloutStatus", "SegmentStatus", "WorkflowRollout", "flag_segments", "status"]

_ANSWERS = ("approve", "correct", "escalate")


class FlagSegment(msgspec.Struct, frozen=True):
    """One segment of a workflow's rollout: a flag rule, the flag's default, or the policy's mode."""

    rule: str | None  # a rule's name, DEFAULT_RULE, or None (no flag, or no rule recorded)
    mode: str | None  # the current mode; None for a segment no longer in the flags (retired)
    share: float | None = None  # percent of ticket numbers, for a MODULO_RANGE rule on ticket_number
    conditions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.rule if self.rule is not None else "(policy mode)"

    @property
    def retired(self) -> bool:
        return self.mode is None


def percentage_condition(rule: Mapping[str, Any]) -> dict[str, Any] | None:
    """The rule's MODULO_RANGE condition on ticket_number (its value holds BASE, START, END), if any."""
    for condition in rule.get("conditions") or []:
        value = condition.get("value") if isinstance(condition, Mapping) else None
        if condition.get("action") == "MODULO_RANGE" and condition.get("key") == "ticket_number" and value:
            return dict(value)
    return None


def share_of(modulo: Mapping[str, Any]) -> float:
    base, start, end = (int(modulo[k]) for k in ("BASE", "START", "END"))
    return round(100.0 * max(0, end - start + 1) / base, 2) if base > 0 else 0.0


def _describe(condition: Mapping[str, Any]) -> str:
    return f"{condition.get('key')} {condition.get('action')} {condition.get('value')}"


def flag_segments(document: Mapping[str, Any], workflow_name: str, workflow: Workflow) -> list[FlagSegment]:
    """The workflow's current segments, in the order the flag evaluates them (rules, then the default); one
    segment in the policy's mode when the flags have no flag for the workflow."""
    feature = document.get(flag_name(workflow_name))
    if not isinstance(feature, Mapping):
        return [FlagSegment(None, workflow.mode)]
    segments = []
    for name, rule in (feature.get("rules") or {}).items():
        modulo = percentage_condition(rule)
        conditions = tuple(_describe(c) for c in rule.get("conditions") or [] if isinstance(c, Mapping))
        share = share_of(modulo) if modulo else None
        segments.append(FlagSegment(str(name), str(rule.get("when_match")), share, conditions))
    segments.append(FlagSegment(DEFAULT_RULE, str(feature.get("default"))))
    return segments


class Evidence(msgspec.Struct):
    """Counts over one segment's decisions (or a whole workflow's), see the module docstring."""

    decisions: int = 0
    by_mode: Counter[str] = field(default_factory=Counter)
    shadow_findings: int = 0
    shadow_agreements: int = 0
    auto_applied: int = 0
    reviewed: int = 0  # approved or corrected by a reviewer
    applied_errors: int = 0  # overridden by a human, or corrected by the reviewer (once per decision)
    overridden: int = 0
    corrected: int = 0
    reviews_pending: int = 0
    oldest_pending_minutes: float | None = None
    reviews_answered: int = 0
    sla_misses: int = 0

    @property
    def applied(self) -> int:
        return self.auto_applied + self.reviewed

    def add(self, record: DecisionRecord, sla_minutes: float, now: datetime) -> None:
        self.decisions += 1
        self.by_mode[record.mode] += 1
        findings = (record.override or {}).get("findings") if isinstance(record.override, Mapping) else None
        kinds = [f.get("kind") for f in findings or [] if isinstance(f, Mapping)]
        self.shadow_agreements += kinds.count("shadow_agreement")
        self.shadow_findings += kinds.count("shadow_agreement") + kinds.count("shadow_disagreement")
        review = record.review if isinstance(record.review, Mapping) else {}
        verdict = _verdict(review)
        self._count_applied(record, verdict, overridden="override" in kinds)
        if record.action == "review":
            self._count_review(record, review, verdict, sla_minutes, now)

    def _count_applied(self, record: DecisionRecord, verdict: str | None, *, overridden: bool) -> None:
        writeback = record.writeback if isinstance(record.writeback, Mapping) else {}
        auto = record.action == "apply" and record.mode in ("auto", "assist") and verdict is None
        auto = auto and writeback.get("status") != "failed"
        reviewed = verdict in ("approve", "correct")
        if not (auto or reviewed):
            return
        self.auto_applied += auto
        self.reviewed += reviewed
        self.overridden += overridden
        self.corrected += verdict == "correct"
        self.applied_errors += overridden or verdict == "correct"

    def _count_review(
        self, record: DecisionRecord, review: Mapping[str, Any], verdict: str | None, sla: float, now: datetime
    ) -> None:
        if verdict is not None:
            self.reviews_answered += 1
            waited = review.get("time_to_review_s")
            late = isinstance(waited, int | float) and not isinstance(waited, bool) and waited > sla * 60
            self.sla_misses += late
            return
        posted = parse_time(review.get("posted_at")) or utc(record.created_at)
        age = max(0.0, (utc(now) - posted).total_seconds() / 60)
        self.reviews_pending += 1
        self.oldest_pending_minutes = max(self.oldest_pending_minutes or 0.0, age)
        self.sla_misses += age > sla

    def merge(self, other: Evidence) -> None:
        for name in ("decisions", "shadow_findings", "shadow_agreements", "auto_applied", "reviewed",
                     "applied_errors", "overridden", "corrected", "reviews_pending", "reviews_answered",
                     "sla_misses"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_mode.update(other.by_mode)
        if other.oldest_pending_minutes is not None:
            self.oldest_pending_minutes = max(self.oldest_pending_minutes or 0.0, other.oldest_pending_minutes)

    def measures(self, z: float) -> dict[str, float | None]:
        """Rates and their Wilson bounds (None without evidence)."""
        shadow, applied, load = self.shadow_findings, self.applied, self.reviews_answered + self.reviews_pending
        correct = self.applied - self.applied_errors
        return {
            "shadow_agreement": self.shadow_agreements / shadow if shadow else None,
            "shadow_agreement_lower": wilson_lower_bound(self.shadow_agreements, shadow, z) if shadow else None,
            "precision": correct / applied if applied else None,
            "precision_lower": wilson_lower_bound(correct, applied, z) if applied else None,
            "precision_upper": wilson_upper_bound(correct, applied, z) if applied else None,
            "sla_miss_rate": self.sla_misses / load if load else None,
        }

    def as_dict(self, z: float) -> dict[str, Any]:
        return {
            "decisions": self.decisions, "by_mode": dict(sorted(self.by_mode.items())),
            "shadow_findings": self.shadow_findings, "shadow_agreements": self.shadow_agreements,
            "applied": self.applied, "auto_applied": self.auto_applied, "reviewed": self.reviewed,
            "applied_errors": self.applied_errors, "overridden": self.overridden, "corrected": self.corrected,
            "reviews_pending": self.reviews_pending, "oldest_pending_minutes": self.oldest_pending_minutes,
            "reviews_answered": self.reviews_answered, "sla_misses": self.sla_misses, **self.measures(z),
        }  # fmt: skip


def _verdict(review: Mapping[str, Any]) -> str | None:
    """The reviewer's answer; None while the case is waiting (pending or claimed) or was never posted."""
    if review.get("state") in ("pending", "claimed"):
        return None
    verdict = review.get("verdict")
    return verdict if verdict in _ANSWERS else None


class SegmentStatus(msgspec.Struct):
    segment: FlagSegment
    evidence: Evidence


class WorkflowRollout(msgspec.Struct):
    """One workflow's rollout: its segments with their evidence, and the workflow-wide review load."""

    name: str
    workflow: Workflow
    has_flag: bool
    segments: list[SegmentStatus]
    review: Evidence  # all segments together: reviewers serve the whole workflow
    z: float

    @property
    def bar(self) -> float:
        """The precision every bound is held against: 1 - error_tolerance."""
        return 1.0 - self.workflow.error_tolerance

    def segment(self, rule: str | None) -> SegmentStatus | None:
        return next((s for s in self.segments if s.segment.rule == rule), None)

    def evidence_for(self, rule: str | None) -> Evidence:
        """A segment's evidence; the flag's default, when there is no flag yet, is measured by the policy-mode
        decisions (the same tickets)."""
        found = self.segment(rule)
        if found is None and rule == DEFAULT_RULE and not self.has_flag:
            found = self.segment(None)
        return found.evidence if found is not None else Evidence()


class RolloutStatus(msgspec.Struct):
    now: datetime
    workflows: dict[str, WorkflowRollout]
    # Decisions not measured, by why: created before the window (or after now), or of a workflow not in the policy.
    left_out: dict[str, int]


def status(
    records: Iterable[DecisionRecord], policy: Policy, document: Mapping[str, Any], now: datetime
) -> RolloutStatus:
    """Every workflow of the policy, each segment's evidence over its promotion window ending at ``now``."""
    left_out: Counter[str] = Counter()
    by_segment: dict[str, dict[str | None, Evidence]] = {name: {} for name in policy.workflows}
    for record in records:
        workflow = policy.workflows.get(record.workflow)
        if workflow is None:
            left_out["unknown_workflow"] += 1
            continue
        created = utc(record.created_at)
        if not utc(now) - timedelta(days=workflow.promotion.window_days) <= created <= utc(now):
            left_out["outside_window"] += 1
            continue
        evidence = by_segment[record.workflow].setdefault(record.rollout_rule, Evidence())
        evidence.add(record, workflow.sla.review_minutes, now)
    workflows = {
        name: _workflow_rollout(name, workflow, document, by_segment[name])
        for name, workflow in policy.workflows.items()
    }
    return RolloutStatus(now, workflows, dict(sorted(left_out.items())))


def _workflow_rollout(
    name: str, workflow: Workflow, document: Mapping[str, Any], measured: dict[str | None, Evidence]
) -> WorkflowRollout:
    current = flag_segments(document, name, workflow)
    known = {s.rule for s in current}
    retired = [FlagSegment(rule, None) for rule in sorted(r for r in measured if r is not None and r not in known)]
    if None in measured and None not in known:
        retired.append(FlagSegment(None, None))  # decided before rules were recorded, or by the policy's mode
    segments = [SegmentStatus(s, measured.get(s.rule, Evidence())) for s in [*current, *retired]]
    review = Evidence()
    for item in segments:
        review.merge(item.evidence)
    has_flag = isinstance(document.get(flag_name(name)), Mapping)
    return WorkflowRollout(name, workflow, has_flag, segments, review, z_for(workflow.promotion.confidence))
