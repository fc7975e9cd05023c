"""ROI period figures per workflow: its weeks (:func:`triage_gate.roi.weeks.weekly`) added up.

:class:`WorkflowTotals` is typed, key by key, and already JSON-ready: ``roi.json`` and the renderers read
the same object, so a figure cannot be renamed in one place and not the other. Standard library only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import TypedDict

from triage_gate.roi.periods import percentile, week_start
from triage_gate.roi.weeks import WeekStats, by_count

__all__ = ["WorkflowTotals", "totals"]


class WorkflowTotals(TypedDict):
    """One workflow's figures over the period (see :mod:`triage_gate.roi.weeks` for every formula).

    The keys are the JSON keys of ``roi.json``'s ``totals``, in this order. Counts are summed over the weeks;
    ``tickets`` is distinct over the period; percentiles are taken over all the period's samples; rates are
    recomputed from the summed counts, never averaged. ``None`` means "no evidence", as in the weekly figures.
    """

    workflow: str
    first_week: str
    last_week: str
    weeks: int
    weeks_with_traffic: int
    decisions: int
    auto_applied: int
    applied_after_review: int
    escalated: int
    shadow: int
    reviews: int
    corrections: int
    overrides: int
    shadow_findings: int
    shadow_agreements: int
    tickets: int
    shadow_agreement: float | None
    auto_rate: float | None  # auto_applied / decisions
    turnaround_p50_min: float | None
    turnaround_p90_min: float | None
    turnaround_samples: int
    baseline_turnaround_min: float | None
    manual_minutes_per_ticket: float | None
    review_minutes: float
    review_hours: float
    hours_recovered: float | None
    rework_rate: float | None
    baseline_error_rate: float | None
    reviewer_throughput: dict[str, int]
    escalations_by_reason: dict[str, int]
    cost_usd: float
    cost_per_ticket: float | None


def totals(stats: Iterable[WeekStats]) -> dict[str, WorkflowTotals]:
    """Period figures per workflow (sorted by name), aggregated over its weeks with the same formulas as
    :class:`~triage_gate.roi.weeks.WeekStats`."""
    by_workflow: dict[str, list[WeekStats]] = {}
    for item in stats:
        by_workflow.setdefault(item.workflow, []).append(item)
    return {name: _workflow_totals(name, by_workflow[name]) for name in sorted(by_workflow)}


def _workflow_totals(name: str, stats: list[WeekStats]) -> WorkflowTotals:
    weeks = sorted(stats, key=lambda s: week_start(s.week))
    decisions = sum(w.decisions for w in weeks)
    auto_applied = sum(w.auto_applied for w in weeks)
    applied_after_review = sum(w.applied_after_review for w in weeks)
    corrections = sum(w.corrections for w in weeks)
    overrides = sum(w.overrides for w in weeks)
    shadow_findings = sum(w.shadow_findings for w in weeks)
    shadow_agreements = sum(w.shadow_agreements for w in weeks)
    samples = [sample for w in weeks for sample in w.turnaround_samples_min]
    tickets = frozenset[str]().union(*(w.ticket_keys for w in weeks))
    review_minutes = math.fsum(w.review_minutes for w in weeks)
    cost = math.fsum(w.cost_usd for w in weeks)
    applied = auto_applied + applied_after_review
    manual = next((w.manual_minutes_per_ticket for w in weeks if w.manual_minutes_per_ticket is not None), None)
    reviewers: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for w in weeks:
        reviewers.update(w.reviewer_throughput)
        reasons.update(w.escalations_by_reason)
    return WorkflowTotals(
        workflow=name,
        first_week=weeks[0].week,
        last_week=weeks[-1].week,
        weeks=len(weeks),
        weeks_with_traffic=sum(1 for w in weeks if w.has_traffic),
        decisions=decisions,
        auto_applied=auto_applied,
        applied_after_review=applied_after_review,
        escalated=sum(w.escalated for w in weeks),
        shadow=sum(w.shadow for w in weeks),
        reviews=sum(w.reviews for w in weeks),
        corrections=corrections,
        overrides=overrides,
        shadow_findings=shadow_findings,
        shadow_agreements=shadow_agreements,
        tickets=len(tickets),
        shadow_agreement=shadow_agreements / shadow_findings if shadow_findings else None,
        auto_rate=auto_applied / decisions if decisions else None,
        turnaround_p50_min=percentile(samples, 50),
        turnaround_p90_min=percentile(samples, 90),
        turnaround_samples=len(samples),
        baseline_turnaround_min=next(
            (w.baseline_turnaround_min for w in weeks if w.baseline_turnaround_min is not None), None
        ),
        manual_minutes_per_ticket=manual,
        review_minutes=review_minutes,
        review_hours=review_minutes / 60,
        hours_recovered=(auto_applied * manual - review_minutes) / 60 if manual is not None else None,
        rework_rate=(corrections + overrides) / applied if applied else None,
        baseline_error_rate=next((w.baseline_error_rate for w in weeks if w.baseline_error_rate is not None), None),
        reviewer_throughput=by_count(reviewers),
        escalations_by_reason=by_count(reasons),
        cost_usd=cost,
        cost_per_ticket=cost / len(tickets) if tickets else None,
    )
