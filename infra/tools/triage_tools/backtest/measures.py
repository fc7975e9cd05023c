"""The backtest's figures, from the decided test window: what each rollout mode would have done, how right it
was against the humans' final labels (with Wilson bounds against the error tolerance), and what that is worth
against the measured manual baseline. Every function is pure; the result is JSON-ready (``backtest.json``).

Modes (README "Rollout modes"; ``Case.record`` and ``plan_writeback``): **shadow** records every decision and
writes nothing, so people triage every ticket; **assist** writes a confident decision as a suggestion note (the
fields stay as people set them) and sends the rest to review in Slack; **auto** applies a confident decision
and sends the rest to review. "Confident" is production's ``proposed_action == "apply"``: every guardrail passed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from triage_gate.policy import Workflow
from triage_gate.proportions import wilson_lower_bound, wilson_upper_bound
from triage_gate.roi.periods import iso_week, percentile
from triage_tools.backtest.replay import Decided

MODE_MEANING = {
    "shadow": "records what it would have done; people triage every ticket (its figure: agreement of every decision"
    " with the person's final label, what shadow agreement would show)",
    "assist": "a confident decision becomes a suggestion note (fields stay as people set them); the rest go to review",
    "auto": "a confident decision is applied; the rest go to review",
}


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def precision_of(correct: int, n: int, bar: float) -> dict[str, Any]:
    """Precision with its 95% Wilson interval and a verdict against ``bar`` (1 - the error tolerance)."""
    if n == 0:
        return {"n": 0, "correct": 0, "precision": None, "wilson_low": None, "wilson_high": None, "verdict": "none"}
    low, high = wilson_lower_bound(correct, n), wilson_upper_bound(correct, n)
    if low >= bar:
        verdict = "proven"  # the whole interval meets the tolerance
    elif high < bar:
        verdict = "fails"  # the whole interval misses it
    else:
        verdict = "within, not proven" if correct / n >= bar else "below, not proven"
    return {"n": n, "correct": correct, "precision": correct / n, "wilson_low": low, "wilson_high": high,
            "verdict": verdict}  # fmt: skip


def ticket_right(item: Decided) -> bool | None:
    """Every task a person labelled matches; None when the ticket has no label to judge by."""
    judged = [item.predicted.get(task) == label for task, label in item.ticket.labels.items()]
    return all(judged) if judged else None


def manual_turnaround(item: Decided) -> float | None:
    """Minutes from creation to the first assignment by a person (None when unknown or before creation)."""
    assigned = item.ticket.first_assigned_at
    if assigned is None:
        return None
    minutes = (assigned - item.ticket.created_at).total_seconds() / 60
    return minutes if minutes >= 0 else None


def span_weeks(tickets: Sequence[datetime]) -> float:
    """Weeks from the first to the last time (at least one day, so a one-day window is 1/7 of a week)."""
    if not tickets:
        return 0.0
    return max((max(tickets) - min(tickets)).total_seconds() / 86400, 1.0) / 7


def task_scores(decided: Sequence[Decided], task: str, labels: Sequence[str], bar: float) -> dict[str, Any]:
    """One task against the humans' final labels: all decisions (what shadow agreement would show) and the
    applied ones (auto mode's precision), overall and per label."""
    judged = [d for d in decided if task in d.ticket.labels]
    applied = [d for d in judged if d.applied]
    per_label = {}
    for label in labels:
        predicted = [d for d in judged if d.predicted.get(task) == label]
        applied_here = [d for d in predicted if d.applied]
        per_label[label] = {
            "support": sum(1 for d in judged if d.ticket.labels[task] == label),
            "predicted": len(predicted),
            "precision_all": ratio(sum(d.ticket.labels[task] == label for d in predicted), len(predicted)),
            "applied": precision_of(sum(d.ticket.labels[task] == label for d in applied_here), len(applied_here), bar),
        }
    return {
        "labelled": len(judged),
        "unlabelled": len(decided) - len(judged),
        "agreement": ratio(sum(d.predicted.get(task) == d.ticket.labels[task] for d in judged), len(judged)),
        "applied": precision_of(
            sum(d.predicted.get(task) == d.ticket.labels[task] for d in applied), len(applied), bar
        ),
        "per_label": per_label,
    }


def turnaround(decided: Sequence[Decided], sla_minutes: float) -> dict[str, Any]:
    """Measured manual turnaround of the test window, and auto mode's projection: a ticket applied and
    confirmed by the person's final label counts at the policy's triage SLA; every other ticket keeps the
    turnaround people took (a wrong application still waits for a person)."""
    measured, projected, unknown = [], [], 0
    for item in decided:
        minutes = manual_turnaround(item)
        if minutes is None:
            unknown += 1
            continue
        measured.append(minutes)
        projected.append(min(sla_minutes, minutes) if item.applied and ticket_right(item) else minutes)
    return {
        "n": len(measured), "unknown": unknown, "sla_minutes": sla_minutes,
        "manual": {"p50": percentile(measured, 50), "p90": percentile(measured, 90)},
        "auto": {"p50": percentile(projected, 50), "p90": percentile(projected, 90)},
    }  # fmt: skip


def _counts(decided: Sequence[Decided]) -> dict[str, int]:
    rights = [ticket_right(d) for d in decided if d.applied]
    return {
        "tickets": len(decided),
        "confident": sum(1 for d in decided if d.applied),
        "reviews": sum(1 for d in decided if not d.applied),
        "confirmed": sum(1 for r in rights if r is True),
        "wrong": sum(1 for r in rights if r is False),
        "rerouted_by_people": sum(1 for d in decided if d.ticket.rerouted),
    }


def weeks(decided: Sequence[Decided], manual_minutes: float) -> list[dict[str, Any]]:
    """Per ISO week of creation: tickets, confident decisions, reviews, and auto mode's hours recovered."""
    by_week: dict[str, list[Decided]] = {}
    for item in decided:
        by_week.setdefault(iso_week(item.ticket.created_at), []).append(item)
    out = []
    for week in sorted(by_week):
        counts = _counts(by_week[week])
        out.append({"week": week, **counts, "hours_recovered": counts["confirmed"] * manual_minutes / 60})
    return out


def modes(decided: Sequence[Decided], bar: float, manual_minutes: float, turn: dict[str, Any]) -> dict[str, Any]:
    """What each mode would have done on the test window."""
    counts = _counts(decided)
    n, n_weeks = counts["tickets"], span_weeks([d.ticket.created_at for d in decided])
    judged = counts["confirmed"] + counts["wrong"]
    agreement = [ticket_right(d) for d in decided]
    agreed = [a for a in agreement if a is not None]
    hours = counts["confirmed"] * manual_minutes / 60
    manual = turn["manual"]
    common = {"decisions": n, "weeks": n_weeks}
    return {
        "shadow": {**common, "meaning": MODE_MEANING["shadow"], "applied": 0, "suggestions": 0, "reviews": 0,
                   "reviews_per_week": 0.0, "coverage": 0.0,
                   "agreement": precision_of(sum(agreed), len(agreed), bar),
                   "hours_recovered": 0.0, "hours_recovered_per_week": 0.0, "turnaround": manual},
        "assist": {**common, "meaning": MODE_MEANING["assist"], "applied": 0, "suggestions": counts["confident"],
                   "reviews": counts["reviews"], "reviews_per_week": ratio(counts["reviews"], n_weeks), "coverage": 0.0,
                   "suggestion_precision": precision_of(counts["confirmed"], judged, bar),
                   "hours_recovered": 0.0, "hours_recovered_per_week": 0.0, "turnaround": manual},
        "auto": {**common, "meaning": MODE_MEANING["auto"], "applied": counts["confident"], "suggestions": 0,
                 "reviews": counts["reviews"], "reviews_per_week": ratio(counts["reviews"], n_weeks),
                 "coverage": ratio(counts["confident"], n), "precision": precision_of(counts["confirmed"], judged, bar),
                 "applied_unjudged": counts["confident"] - judged, "hours_recovered": hours,
                 "hours_recovered_per_week": ratio(hours, n_weeks), "turnaround": turn["auto"]},
    }  # fmt: skip


def versus_people(decided: Sequence[Decided], measured_rate: float | None) -> dict[str, Any]:
    """Auto mode's applied error rate beside the people's re-routing rate on the same tickets."""
    counts = _counts(decided)
    judged = counts["confirmed"] + counts["wrong"]
    low = wilson_lower_bound(counts["wrong"], judged) if judged else None
    high = wilson_upper_bound(counts["wrong"], judged) if judged else None
    return {
        "applied_error_rate": ratio(counts["wrong"], judged), "applied_error_low": low, "applied_error_high": high,
        "applied_judged": judged,
        "people_rerouting_rate": ratio(counts["rerouted_by_people"], counts["tickets"]),
        "people_rerouted": counts["rerouted_by_people"], "tickets": counts["tickets"],
        "people_rerouting_rate_history": measured_rate,
    }  # fmt: skip


def figures(decided: Sequence[Decided], workflow: Workflow, measured_rate: float | None) -> dict[str, Any]:
    """Everything measured on the decided test window (modes, per task and label, weeks, turnaround)."""
    bar = 1.0 - workflow.error_tolerance
    manual_minutes = workflow.roi_baseline.manual_minutes_per_ticket
    turn = turnaround(decided, workflow.sla.triage_seconds / 60)
    return {
        "tolerance": workflow.error_tolerance,
        "bar": bar,
        "manual_minutes_per_ticket": manual_minutes,
        "modes": modes(decided, bar, manual_minutes, turn),
        "tasks": {task: task_scores(decided, task, list(spec.labels), bar) for task, spec in workflow.tasks.items()},
        "weeks": weeks(decided, manual_minutes),
        "review_reasons": dict(
            Counter(code for d in decided if not d.applied for code in d.reason_codes).most_common()
        ),
        "turnaround": turn,
        "versus_people": versus_people(decided, measured_rate),
    }
