"""ROI figures per workflow and ISO week: what triage did against the policy's pre-AI baseline.

Pure functions over :class:`~triage_gate.triage.decision.DecisionRecord` (no clock, no I/O), so the CLI, the
weekly digest function and the tests all get the same numbers. Standard library only. The period figures
over these weeks are :func:`triage_gate.roi.totals.totals`; weeks and times are :mod:`triage_gate.roi.periods`.

**Which week.** A decision belongs to the ISO week (UTC) of its ``created_at`` (when triage decided), and
``since`` (inclusive) and ``until`` (exclusive) filter on that time too.

**Counts** (per workflow and week):

- ``decisions``: decision records; ``tickets``: distinct ``(source, ticket_id)`` among them.
- ``auto_applied``: ``action == "apply"`` in mode ``auto`` or ``assist``, not answered by a reviewer, and
  whose write-back did not fail permanently (``writeback.status == "failed"``: nothing reached the ticket,
  so no time was saved).
- ``applied_after_review``: a reviewer approved or corrected it (``review.verdict`` ``approve``/``correct``).
- ``escalated``: a reviewer escalated it (``verdict == "escalate"``) or it went to review
  (``action == "review"``) and nobody has answered yet (pending as of the data read).
- ``shadow``: decided in mode ``shadow`` (recorded only, never applied).
- ``reviews``: reviewer answers (any verdict: approve, correct or escalate);
  ``reviewer_throughput``: the same per reviewer id.
- ``corrections``: ``verdict == "correct"``.
- ``overrides``: decisions with at least one override finding (``kind == "override"``: a human later changed
  a field the system set). Counted per decision, not per finding, so a ticket counts once.
- ``escalations_by_reason``: for decisions that went to review (``action == "review"``), one count per reason
  code (``"unspecified"`` when a record carries none).

**Rates and times:**

- ``shadow_agreement`` = agreeing shadow findings / all shadow findings (``shadow_agreement`` and
  ``shadow_disagreement``); ``None`` when there are none.
- turnaround (minutes) = ticket ``occurred_at`` → when triage landed on the ticket: ``writeback.at`` when
  ``writeback.status == "applied"``, else ``review.resolved_at`` for an approved or corrected review.
  Decisions that never landed (shadow, pending, escalated, failed) are left out. A negative span (clock
  skew between the vendor and us) counts as 0. ``turnaround_p50_min``/``turnaround_p90_min`` are nearest-rank
  percentiles (the ``ceil(p/100 * n)``-th smallest, as in ``triage eval``); ``None`` without a sample.
- ``review_minutes`` = sum of ``review.time_to_review_s`` / 60 over the week's answered reviews. That is
  the time from the case being posted to the answer (queue time included), so it overstates the effort and
  the hours recovered below are a conservative figure.
- ``hours_recovered`` = (``auto_applied`` * ``manual_minutes_per_ticket`` - ``review_minutes``) / 60. It is
  **negative** when review took more time than auto-application saved (e.g. a workflow that sends most
  tickets to review); ``None`` when the workflow has no baseline.
- ``rework_rate`` = (``corrections`` + ``overrides``) / (``auto_applied`` + ``applied_after_review``): the
  share of applied triage a human had to fix; ``None`` when nothing was applied (e.g. shadow only).
  Compare with ``baseline_error_rate``, the share of manual triage later corrected before Triage Gate.
- ``cost_usd`` = sum of the decisions' model cost; ``cost_per_ticket`` = ``cost_usd`` / ``tickets``
  (``None`` for no tickets).

Weeks with no decisions between the first and last week of the range are kept, with zero counts and
``None`` rates, so a chart shows a gap rather than joining the weeks around it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec import field

from triage_gate.policy import RoiBaseline
from triage_gate.roi.periods import iso_week, parse_time, percentile, utc, week_start, weeks_between
from triage_gate.triage.decision import DecisionRecord

__all__ = ["WeekStats", "by_count", "weekly"]

UNSPECIFIED_REASON = "unspecified"
UNKNOWN_REVIEWER = "unknown"

_APPLIED_VERDICTS = ("approve", "correct")
_VERDICTS = ("approve", "correct", "escalate")


# --------------------------------------------------------------------------------------------- weekly stats


class WeekStats(msgspec.Struct):
    """One workflow's ROI figures for one ISO week (see the module docstring for every formula)."""

    workflow: str
    week: str
    decisions: int = 0
    tickets: int = 0
    auto_applied: int = 0
    applied_after_review: int = 0
    escalated: int = 0
    shadow: int = 0
    reviews: int = 0
    corrections: int = 0
    overrides: int = 0
    shadow_findings: int = 0
    shadow_agreements: int = 0
    shadow_agreement: float | None = None
    turnaround_p50_min: float | None = None
    turnaround_p90_min: float | None = None
    baseline_turnaround_min: float | None = None
    manual_minutes_per_ticket: float | None = None
    review_minutes: float = 0.0
    hours_recovered: float | None = None
    rework_rate: float | None = None
    baseline_error_rate: float | None = None
    reviewer_throughput: dict[str, int] = field(default_factory=dict)
    escalations_by_reason: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    cost_per_ticket: float | None = None
    # Raw material for the period totals (percentiles and distinct tickets cannot be summed week by week).
    turnaround_samples_min: tuple[float, ...] = field(default=())
    ticket_keys: frozenset[str] = field(default=frozenset())

    @property
    def has_traffic(self) -> bool:
        return self.decisions > 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (without the raw samples and ticket keys)."""
        return {
            "workflow": self.workflow,
            "week": self.week,
            "week_start": week_start(self.week).isoformat(),
            "decisions": self.decisions,
            "tickets": self.tickets,
            "auto_applied": self.auto_applied,
            "applied_after_review": self.applied_after_review,
            "escalated": self.escalated,
            "shadow": self.shadow,
            "reviews": self.reviews,
            "corrections": self.corrections,
            "overrides": self.overrides,
            "shadow_findings": self.shadow_findings,
            "shadow_agreement": self.shadow_agreement,
            "turnaround_p50_min": self.turnaround_p50_min,
            "turnaround_p90_min": self.turnaround_p90_min,
            "baseline_turnaround_min": self.baseline_turnaround_min,
            "manual_minutes_per_ticket": self.manual_minutes_per_ticket,
            "review_minutes": self.review_minutes,
            "hours_recovered": self.hours_recovered,
            "rework_rate": self.rework_rate,
            "baseline_error_rate": self.baseline_error_rate,
            "reviewer_throughput": dict(self.reviewer_throughput),
            "escalations_by_reason": dict(self.escalations_by_reason),
            "cost_usd": self.cost_usd,
            "cost_per_ticket": self.cost_per_ticket,
        }


class _Tally(msgspec.Struct):
    """Mutable accumulator for one workflow-week."""

    decisions: int = 0
    tickets: set[str] = field(default_factory=set)
    auto_applied: int = 0
    applied_after_review: int = 0
    escalated: int = 0
    shadow: int = 0
    reviews: int = 0
    corrections: int = 0
    overrides: int = 0
    shadow_findings: int = 0
    shadow_agreements: int = 0
    review_seconds: list[float] = field(default_factory=list)
    turnaround: list[float] = field(default_factory=list)
    reviewers: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    costs: list[float] = field(default_factory=list)

    def add(self, record: DecisionRecord) -> None:
        self.decisions += 1
        self.tickets.add(f"{record.source}:{record.ticket_id}")
        self.costs.append(float(record.cost_usd or 0.0))
        review = record.review if isinstance(record.review, Mapping) else {}
        writeback = record.writeback if isinstance(record.writeback, Mapping) else {}
        verdict = _final_verdict(review)
        self._count_outcome(record, writeback, verdict)
        self._count_review(review, verdict)
        if record.action == "review":
            for code in record.reason_codes or [UNSPECIFIED_REASON]:
                self.reasons[code] += 1
        self._count_findings(record)
        landed = _landed_at(writeback, review, verdict)
        if landed is not None:
            minutes = (landed - utc(record.occurred_at)).total_seconds() / 60
            self.turnaround.append(max(0.0, minutes))

    def _count_outcome(self, record: DecisionRecord, writeback: Mapping[str, Any], verdict: str | None) -> None:
        """Shadow, auto-applied, applied after review, escalated."""
        if record.mode == "shadow":
            self.shadow += 1
        if (
            record.action == "apply"
            and record.mode in ("auto", "assist")
            and verdict is None
            and writeback.get("status") != "failed"
        ):
            self.auto_applied += 1
        if verdict in _APPLIED_VERDICTS:
            self.applied_after_review += 1
        if verdict == "escalate" or (record.action == "review" and verdict is None):
            self.escalated += 1

    def _count_review(self, review: Mapping[str, Any], verdict: str | None) -> None:
        """A reviewer's answer: who, how long, and whether it was a correction."""
        if verdict is not None:
            self.reviews += 1
            self.reviewers[str(review.get("reviewer") or UNKNOWN_REVIEWER)] += 1
            self.review_seconds.append(_seconds(review.get("time_to_review_s")))
        if verdict == "correct":
            self.corrections += 1

    def _count_findings(self, record: DecisionRecord) -> None:
        """Override findings (once per decision) and shadow findings (each one)."""
        findings = (record.override or {}).get("findings") if isinstance(record.override, Mapping) else None
        kinds = [f.get("kind") for f in findings or [] if isinstance(f, Mapping)]
        if "override" in kinds:
            self.overrides += 1
        self.shadow_agreements += kinds.count("shadow_agreement")
        self.shadow_findings += kinds.count("shadow_agreement") + kinds.count("shadow_disagreement")

    def stats(self, workflow: str, week: str, baseline: RoiBaseline | None) -> WeekStats:
        applied = self.auto_applied + self.applied_after_review
        review_minutes = math.fsum(self.review_seconds) / 60
        cost = math.fsum(self.costs)
        hours = None
        if baseline is not None:
            hours = (self.auto_applied * baseline.manual_minutes_per_ticket - review_minutes) / 60
        return WeekStats(
            workflow=workflow,
            week=week,
            decisions=self.decisions,
            tickets=len(self.tickets),
            auto_applied=self.auto_applied,
            applied_after_review=self.applied_after_review,
            escalated=self.escalated,
            shadow=self.shadow,
            reviews=self.reviews,
            corrections=self.corrections,
            overrides=self.overrides,
            shadow_findings=self.shadow_findings,
            shadow_agreements=self.shadow_agreements,
            shadow_agreement=self.shadow_agreements / self.shadow_findings if self.shadow_findings else None,
            turnaround_p50_min=percentile(self.turnaround, 50),
            turnaround_p90_min=percentile(self.turnaround, 90),
            baseline_turnaround_min=baseline.turnaround_minutes if baseline else None,
            manual_minutes_per_ticket=baseline.manual_minutes_per_ticket if baseline else None,
            review_minutes=review_minutes,
            hours_recovered=hours,
            rework_rate=(self.corrections + self.overrides) / applied if applied else None,
            baseline_error_rate=baseline.error_rate if baseline else None,
            reviewer_throughput=by_count(self.reviewers),
            escalations_by_reason=by_count(self.reasons),
            cost_usd=cost,
            cost_per_ticket=cost / len(self.tickets) if self.tickets else None,
            turnaround_samples_min=tuple(sorted(self.turnaround)),
            ticket_keys=frozenset(self.tickets),
        )


def _final_verdict(review: Mapping[str, Any]) -> str | None:
    """The reviewer's verdict (approve, correct, escalate); None while the review is open or for any other value."""
    verdict = review.get("verdict") if review.get("state") not in ("pending", "claimed") else None
    return verdict if verdict in _VERDICTS else None


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


def _landed_at(writeback: Mapping[str, Any], review: Mapping[str, Any], verdict: str | None) -> datetime | None:
    if writeback.get("status") == "applied":
        at = parse_time(writeback.get("at"))
        if at is not None:
            return at
    if verdict in _APPLIED_VERDICTS:
        return parse_time(review.get("resolved_at"))
    return None


def by_count(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts ordered by count (highest first), then name."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def weekly(
    records: Iterable[DecisionRecord],
    baselines: Mapping[str, RoiBaseline],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workflow: str | None = None,
) -> list[WeekStats]:
    """Per workflow and ISO week figures, sorted by workflow then week.

    ``since`` (inclusive) and ``until`` (exclusive) bound the decisions' ``created_at``; ``workflow`` keeps one
    workflow. A workflow appears when it has at least one decision in the filtered set; its weeks run from
    the week of ``since`` (or of its first decision when ``since`` is not given) to the week holding the last
    instant before ``until`` (or the last week with any decision, over all workflows), so weeks without
    traffic show as rows of zeros and ``None`` rates. ``baselines`` maps workflow names to the policy's
    ``roi_baseline``; a workflow missing from it gets ``None`` baseline figures and ``None`` hours recovered.
    """
    since_utc = utc(since) if since is not None else None
    until_utc = utc(until) if until is not None else None
    tallies: dict[str, dict[str, _Tally]] = {}
    for record in records:
        if workflow is not None and record.workflow != workflow:
            continue
        created = utc(record.created_at)
        if since_utc is not None and created < since_utc:
            continue
        if until_utc is not None and created >= until_utc:
            continue
        tallies.setdefault(record.workflow, {}).setdefault(iso_week(created), _Tally()).add(record)
    if not tallies:
        return []

    last_seen = max(max(by_week) for by_week in tallies.values())  # "YYYY-Www" sorts chronologically
    end = iso_week(until_utc - timedelta(microseconds=1)) if until_utc is not None else last_seen
    result: list[WeekStats] = []
    for name in sorted(tallies):
        by_week = tallies[name]
        start = iso_week(since_utc) if since_utc is not None else min(by_week)
        baseline = baselines.get(name)
        for week in weeks_between(start, end):
            result.append((by_week.get(week) or _Tally()).stats(name, week, baseline))
    return result
