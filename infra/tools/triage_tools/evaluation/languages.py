"""`triage eval` sliced by the ticket's language (``EvalRow.language``: the code the decision record counted).

Pure functions of the rows. Per language: ``tickets``, ``accuracy`` of the evaluated task (a ``None`` prediction
is wrong), ``coverage`` (share auto-applicable: every guardrail passed), ``n_auto`` and ``precision_auto``
(accuracy of the auto-applicable rows; ``None`` when none), ``reviews`` (rows not auto-applicable), ``cost_usd``
and ``cost_per_ticket``, and ``language_unsupported`` (rows carrying that reason code). Rows without a language
count under ``"unknown"``: nothing is left out, so the tickets add up to the run's rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from triage_gate.triage.language import language_name
from triage_gate.triage.reasons import LANGUAGE_UNSUPPORTED

if TYPE_CHECKING:
    from triage_tools.evaluation.metrics import EvalRow

__all__ = ["UNKNOWN_LANGUAGE", "by_language", "language_unsupported_rows"]

UNKNOWN_LANGUAGE = "unknown"
"""The slice of rows (or records) that carry no language."""


def _right(row: EvalRow) -> bool:
    return row.predicted is not None and row.predicted == row.truth


def _slice(code: str, rows: Sequence[EvalRow]) -> dict[str, Any]:
    auto = [row for row in rows if row.auto_applied]
    cost = math.fsum(row.cost_usd for row in rows)
    return {
        "language": code,
        "name": language_name(None if code == UNKNOWN_LANGUAGE else code),
        "tickets": len(rows),
        "accuracy": sum(_right(row) for row in rows) / len(rows),
        "coverage": len(auto) / len(rows),
        "n_auto": len(auto),
        "precision_auto": sum(_right(row) for row in auto) / len(auto) if auto else None,
        "reviews": len(rows) - len(auto),
        "language_unsupported": language_unsupported_rows(rows),
        "cost_usd": cost,
        "cost_per_ticket": cost / len(rows),
    }


def by_language(rows: Sequence[EvalRow]) -> list[dict[str, Any]]:
    """One entry per language with at least one row, most tickets first (ties by code)."""
    groups: dict[str, list[EvalRow]] = {}
    for row in rows:
        groups.setdefault(row.language or UNKNOWN_LANGUAGE, []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [_slice(code, members) for code, members in ordered]


def language_unsupported_rows(rows: Sequence[EvalRow]) -> int:
    """Rows that went to review because the ticket's language is not one the local model was trained on."""
    return sum(1 for row in rows if LANGUAGE_UNSUPPORTED in row.reason_codes)
