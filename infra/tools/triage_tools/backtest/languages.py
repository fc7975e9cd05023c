"""The backtest sliced by the ticket's language (the code each decision record counted; ``"unknown"`` without one).

Pure functions of the decided test window, with the measures of :mod:`triage_tools.backtest.measures`, so a
language's figures read like the modes' figures. Per language:

- ``agreement``: shadow mode's figure, every decision against the person's final labels (95% Wilson);
- ``confident``: what auto applies and assist suggests; ``coverage`` = confident / tickets (auto);
- ``precision``: confident decisions the person's labels confirm (auto's precision, assist's suggestion
  precision), with the Wilson interval and verdict against the bar;
- ``reviews`` and ``reviews_per_week`` (assist and auto; over the whole window's weeks, as the modes are);
- ``language_unsupported``: tickets that carry that reason code; ``cost_usd``;
- ``tasks``: per task, agreement and the applied precision against that task's label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from triage_gate.triage.language import language_name
from triage_gate.triage.reasons import LANGUAGE_UNSUPPORTED
from triage_tools.backtest.measures import precision_of, ratio, ticket_right
from triage_tools.backtest.replay import Decided
from triage_tools.evaluation.languages import UNKNOWN_LANGUAGE

__all__ = ["by_language"]


def _task_slice(decided: Sequence[Decided], task: str, bar: float) -> dict[str, Any]:
    judged = [d for d in decided if task in d.ticket.labels]
    applied = [d for d in judged if d.applied]
    return {
        "labelled": len(judged),
        "agreement": ratio(sum(d.predicted.get(task) == d.ticket.labels[task] for d in judged), len(judged)),
        "applied": precision_of(
            sum(d.predicted.get(task) == d.ticket.labels[task] for d in applied), len(applied), bar
        ),
    }


def _slice(code: str, decided: Sequence[Decided], tasks: Sequence[str], bar: float, weeks: float) -> dict[str, Any]:
    agreement = [right for right in map(ticket_right, decided) if right is not None]
    judged = [right for d in decided if d.applied and (right := ticket_right(d)) is not None]
    confident = sum(1 for d in decided if d.applied)
    reviews = len(decided) - confident
    return {
        "language": code,
        "name": language_name(None if code == UNKNOWN_LANGUAGE else code),
        "tickets": len(decided),
        "agreement": precision_of(sum(agreement), len(agreement), bar),
        "confident": confident,
        "coverage": ratio(confident, len(decided)),
        "precision": precision_of(sum(judged), len(judged), bar),
        "applied_unjudged": confident - len(judged),
        "reviews": reviews,
        "reviews_per_week": ratio(reviews, weeks),
        "language_unsupported": sum(1 for d in decided if LANGUAGE_UNSUPPORTED in d.reason_codes),
        "cost_usd": math.fsum(d.cost_usd for d in decided),
        "tasks": {task: _task_slice(decided, task, bar) for task in tasks},
    }


def by_language(decided: Sequence[Decided], tasks: Sequence[str], bar: float, weeks: float) -> list[dict[str, Any]]:
    """One entry per language with at least one decided ticket, most tickets first (ties by code). ``weeks`` is
    the decided window's span (``measures.span_weeks``), so reviews per week add up to the modes' figure."""
    groups: dict[str, list[Decided]] = {}
    for item in decided:
        groups.setdefault(item.language or UNKNOWN_LANGUAGE, []).append(item)
    ordered = sorted(groups.items(), key=lambda entry: (-len(entry[1]), entry[0]))
    return [_slice(code, members, tasks, bar, weeks) for code, members in ordered]
