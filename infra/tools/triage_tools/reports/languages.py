"""The "by language" tables of `triage eval`, `triage backtest` and `triage report`: headers, rows of text
(terminal and HTML read the same rows) and one escaped HTML table. The figures come from
:mod:`triage_tools.evaluation.languages`, :mod:`triage_tools.backtest.languages` and
:mod:`triage_tools.reports.roi_languages`; this module only shows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage_gate.display import MISSING, integer, number, percent, text_table, usd
from triage_tools.reports.common import escape

__all__ = [
    "BACKTEST_HEADER",
    "EVAL_HEADER",
    "ROI_HEADER",
    "backtest_rows",
    "eval_rows",
    "html_table",
    "language_task_rows",
    "roi_rows",
    "terminal_lines",
]

Entry = Mapping[str, Any]


def _language(entry: Entry) -> str:
    code, name = str(entry.get("language")), str(entry.get("name") or "")
    return code if not name or name == code else f"{code} ({name})"


def _precision(precision: object, n: object) -> str:
    shown = percent(precision)
    return shown if shown == MISSING else f"{shown} (n={integer(n)})"


def wilson_text(measure: Mapping[str, Any] | None) -> str:
    """``97.1% (95.5%..98.2%, n=612)``: the precision and its Wilson bounds, or ``—`` when nothing was judged."""
    if not measure or not measure.get("n"):
        return MISSING
    low, high = percent(measure.get("wilson_low")), percent(measure.get("wilson_high"))
    return f"{percent(measure.get('precision'))} ({low}..{high}, n={integer(measure.get('n'))})"


def _per_week(value: object) -> str:
    found = number(value)
    return MISSING if found is None else f"{found:.1f}"


EVAL_HEADER = ["language", "tickets", "accuracy", "coverage", "precision of applied", "reviews",
               "language_unsupported", "cost"]  # fmt: skip


def eval_rows(entries: Sequence[Entry]) -> list[list[str]]:
    return [
        [_language(e), integer(e.get("tickets")), percent(e.get("accuracy")), percent(e.get("coverage")),
         _precision(e.get("precision_auto"), e.get("n_auto")), integer(e.get("reviews")),
         integer(e.get("language_unsupported")), usd(e.get("cost_usd"), 4)]
        for e in entries
    ]  # fmt: skip


BACKTEST_HEADER = ["language", "tickets", "shadow agreement (95% Wilson)", "applied / suggested", "coverage",
                   "precision of applied (95% Wilson)", "reviews/week", "language_unsupported", "cost"]  # fmt: skip


def backtest_rows(entries: Sequence[Entry]) -> list[list[str]]:
    return [
        [_language(e), integer(e.get("tickets")), wilson_text(e.get("agreement")), integer(e.get("confident")),
         percent(e.get("coverage")), wilson_text(e.get("precision")), _per_week(e.get("reviews_per_week")),
         integer(e.get("language_unsupported")), usd(e.get("cost_usd"), 4)]
        for e in entries
    ]  # fmt: skip


def language_task_rows(entries: Sequence[Entry]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per language, each task's agreement and applied precision (Wilson), tasks as columns."""
    tasks: list[str] = []
    for entry in entries:
        tasks += [str(task) for task in entry.get("tasks") or {} if str(task) not in tasks]
    header = ["language", *(f"{task}: {what}" for task in tasks for what in ("agreement", "applied precision"))]
    rows = []
    for entry in entries:
        scores = entry.get("tasks") or {}
        cells = [_language(entry)]
        for task in tasks:
            score = scores.get(task) or {}
            cells += [percent(score.get("agreement")), wilson_text(score.get("applied"))]
        rows.append(cells)
    return header, rows


ROI_HEADER = ["language", "decisions", "tickets", "auto-applied", "sent to review", "review rate",
              "applied after review", "language_unsupported", "cost", "cost/ticket"]  # fmt: skip


def roi_rows(entries: Sequence[Entry]) -> list[list[str]]:
    return [
        [_language(e), integer(e.get("decisions")), integer(e.get("tickets")), integer(e.get("auto_applied")),
         integer(e.get("sent_to_review")), percent(e.get("review_rate")), integer(e.get("applied_after_review")),
         integer(e.get("language_unsupported")), usd(e.get("cost_usd"), 4), usd(e.get("cost_per_ticket"), 4)]
        for e in entries
    ]  # fmt: skip


def terminal_lines(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``title`` and the table, or ``(no tickets)`` under the title when there are no rows."""
    if not rows:
        return [title, "  (no tickets)"]
    return [title, *text_table(header, rows)]


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
