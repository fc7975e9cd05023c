"""`triage report` by language: per workflow, the period's decisions sliced by the language each decision counted
(``record.language.code``; records decided before languages were read count as ``"unknown"``).

The counts are the ROI report's own (:func:`triage_gate.roi.weeks.weekly` and :func:`triage_gate.roi.totals.totals`
over each language's records), so a language's row reads like the workflow's totals: ``decisions``, ``tickets``
(distinct), ``auto_applied``, ``applied_after_review``, ``cost_usd`` and ``cost_per_ticket``. Beside them:
``sent_to_review`` (``action == "review"``), ``review_rate`` = sent_to_review / decisions, and
``language_unsupported`` (decisions carrying that reason code). The decisions are filtered as the weekly
figures are: ``since`` (inclusive) on ``created_at``, and one workflow when given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from triage_gate.policy import RoiBaseline
from triage_gate.roi.periods import utc
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly
from triage_gate.triage.decision import DecisionRecord
from triage_gate.triage.language import language_name
from triage_gate.triage.reasons import LANGUAGE_UNSUPPORTED
from triage_tools.evaluation.languages import UNKNOWN_LANGUAGE
from triage_tools.reports.common import escape
from triage_tools.reports.languages import ROI_HEADER, html_table, roi_rows, terminal_lines

__all__ = ["by_language", "html_sections", "record_language", "signal_counts", "terminal_sections"]

ByWorkflow = Mapping[str, Sequence[Mapping[str, Any]]]
SIGNAL_KEYS = ("answered", "negative", "neutral", "positive", "urgent")


def record_language(record: DecisionRecord) -> str:
    return record.language.code if record.language is not None else UNKNOWN_LANGUAGE


def _kept(record: DecisionRecord, since: datetime | None, workflow: str | None) -> bool:
    if workflow is not None and record.workflow != workflow:
        return False
    return since is None or utc(record.created_at) >= utc(since)


def _slice(code: str, records: Sequence[DecisionRecord], baselines: Mapping[str, RoiBaseline]) -> dict[str, Any]:
    total = next(iter(totals(weekly(records, baselines)).values()))
    sent = sum(1 for r in records if r.action == "review")
    return {
        "language": code,
        "name": language_name(None if code == UNKNOWN_LANGUAGE else code),
        "decisions": total["decisions"],
        "tickets": total["tickets"],
        "auto_applied": total["auto_applied"],
        "sent_to_review": sent,
        "review_rate": sent / total["decisions"] if total["decisions"] else None,
        "applied_after_review": total["applied_after_review"],
        "language_unsupported": sum(1 for r in records if LANGUAGE_UNSUPPORTED in r.reason_codes),
        "cost_usd": total["cost_usd"],
        "cost_per_ticket": total["cost_per_ticket"],
        "signals": signal_counts(records),
    }


def signal_counts(records: Iterable[DecisionRecord]) -> dict[str, int]:
    """The signals Claude answered beside the labels (policy ``signals``): decisions per sentiment, urgent ones,
    and how many decisions carried any signal (``answered``)."""
    counts = {"answered": 0, "negative": 0, "neutral": 0, "positive": 0, "urgent": 0}
    for record in records:
        signals = record.signals
        if signals is None:
            continue
        counts["answered"] += 1
        if signals.sentiment is not None:
            counts[signals.sentiment] += 1
        counts["urgent"] += signals.urgent is True
    return counts


def _signals_line(entries: Sequence[Mapping[str, Any]]) -> str | None:
    """``signals: negative 3 · neutral 9 · positive 1 · urgent 2 (13 decisions answered them)``; None if none."""
    summed = {key: sum(int(e.get("signals", {}).get(key, 0)) for e in entries) for key in SIGNAL_KEYS}
    if not summed["answered"]:
        return None
    shown = " · ".join(f"{key} {summed[key]}" for key in SIGNAL_KEYS[1:])
    return f"signals: {shown} ({summed['answered']} decisions answered them; they decide nothing on their own)"


def by_language(
    records: Iterable[DecisionRecord],
    baselines: Mapping[str, RoiBaseline],
    *,
    since: datetime | None = None,
    workflow: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Per workflow (sorted), one entry per language with at least one decision, most decisions first."""
    groups: dict[str, dict[str, list[DecisionRecord]]] = {}
    for record in records:
        if _kept(record, since, workflow):
            groups.setdefault(record.workflow, {}).setdefault(record_language(record), []).append(record)
    result = {}
    for name in sorted(groups):
        ordered = sorted(groups[name].items(), key=lambda item: (-len(item[1]), item[0]))
        result[name] = [_slice(code, members, baselines) for code, members in ordered]
    return result


def terminal_sections(languages: ByWorkflow) -> list[str]:
    """One table per workflow, each after a blank line."""
    lines: list[str] = []
    for name, entries in languages.items():
        lines += ["", *terminal_lines(f"{name} by language:", ROI_HEADER, roi_rows(entries))]
        signals = _signals_line(entries)
        lines += [f"  {signals}"] if signals else []
    return lines


def html_sections(languages: ByWorkflow) -> str:
    """One escaped table per workflow, under a heading naming it."""
    parts = []
    for name, entries in languages.items():
        parts += [f"<h3>{escape(name)}</h3>", html_table(ROI_HEADER, roi_rows(entries))]
        signals = _signals_line(entries)
        parts += [f"<p>{escape(signals)}</p>"] if signals else []
    return "".join(parts)
