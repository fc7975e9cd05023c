"""What ``triage report`` shows: per workflow, week-by-week tables and the period totals in the terminal, and
a self-contained HTML report with ``roi.json`` beside it.

Everything reads the figures of :func:`triage_gate.roi.weeks.weekly` and :func:`triage_gate.roi.totals.totals`
(the weekly Slack digest, :mod:`triage_gate.roi.digest`, posts the same ones). Standard library only. The HTML
page is one file (inline CSS and SVG, no scripts, no external resources) and every piece of text in it
(workflow names, reason codes, reviewer ids) is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from triage_gate.display import duration, hours, integer, number, percent, ranked_counts, text_table, usd, versus
from triage_gate.policy import BaselineFigure, RoiBaseline
from triage_gate.roi.totals import WorkflowTotals
from triage_gate.roi.totals import totals as period_totals
from triage_gate.roi.weeks import WeekStats
from triage_gate.triage import reasons as reason_codes
from triage_tools.reports.common import FIGURE_CSS, SVG_CSS, TABLE_CSS, escape
from triage_tools.reports.roi_charts import escalations_svg, hours_svg, rework_svg, turnaround_svg
from triage_tools.reports.roi_languages import ByWorkflow, html_sections, terminal_sections

__all__ = ["baseline_sources", "render_html", "terminal", "write_html"]

Totals = Mapping[str, WorkflowTotals]
Baselines = Mapping[str, RoiBaseline]

_TOP_REASONS = 10
_TOP_REVIEWERS = 10


# --------------------------------------------------------------------------------------------- formatting


def _usd(value: object) -> str:
    return usd(value, 4)


def _shadow(count: object, agreement: object) -> str:
    decisions = integer(count)
    return decisions if number(agreement) is None else f"{decisions} ({percent(agreement)} agree)"


def _by_workflow(stats: Sequence[WeekStats]) -> dict[str, list[WeekStats]]:
    grouped: dict[str, list[WeekStats]] = {}
    for item in stats:
        grouped.setdefault(item.workflow, []).append(item)
    return {name: sorted(grouped[name], key=lambda s: s.week) for name in sorted(grouped)}


def _total(totals: Totals, name: str, weeks: Sequence[WeekStats]) -> WorkflowTotals:
    """The workflow's period figures: from ``totals``, or added up from its weeks when ``totals`` lacks it."""
    found = totals.get(name)
    return found if found is not None else period_totals(weeks)[name]


def _baseline_words(total: WorkflowTotals) -> str:
    manual, turnaround, error = (
        total["manual_minutes_per_ticket"],
        total["baseline_turnaround_min"],
        total["baseline_error_rate"],
    )
    if number(manual) is None and number(turnaround) is None and number(error) is None:
        return "no baseline in the policy"
    return (
        f"before Triage Gate: {integer(manual)} min of manual triage per ticket, "
        f"{duration(turnaround)} turnaround, {percent(error)} error rate"
    )


_BASELINE_FIGURES: tuple[tuple[BaselineFigure, str, Callable[[float], str]], ...] = (
    ("manual_minutes_per_ticket", "manual triage per ticket", lambda v: f"{integer(v)} min"),
    ("turnaround_minutes", "turnaround", duration),
    ("error_rate", "error rate", percent),
)


def baseline_sources(baseline: RoiBaseline | None) -> list[str]:
    """One line per baseline figure: its value and where it came from (measured, or stated in the policy)."""
    if baseline is None:
        return []
    return [
        f"{title} {show(getattr(baseline, figure))}: {baseline.source_of(figure)}"
        for figure, title, show in _BASELINE_FIGURES
    ]


def _baselines_json(baselines: Baselines) -> dict[str, dict[str, dict[str, object]]]:
    return {
        name: {
            figure: {"value": getattr(b, figure), "source": b.source_of(figure)} for figure, _, _ in _BASELINE_FIGURES
        }
        for name, b in baselines.items()
    }


_WEEK_COLUMNS: tuple[tuple[str, Callable[[WeekStats], str]], ...] = (
    ("week", lambda s: s.week),
    ("decisions", lambda s: integer(s.decisions)),
    ("auto-applied", lambda s: integer(s.auto_applied)),
    ("reviewed", lambda s: integer(s.applied_after_review)),
    ("escalated", lambda s: integer(s.escalated)),
    ("shadow", lambda s: _shadow(s.shadow, s.shadow_agreement)),
    ("turnaround p50", lambda s: versus(duration(s.turnaround_p50_min), duration(s.baseline_turnaround_min))),
    ("hours recovered", lambda s: hours(s.hours_recovered)),
    ("rework", lambda s: versus(percent(s.rework_rate), percent(s.baseline_error_rate))),
    ("cost/ticket", lambda s: _usd(s.cost_per_ticket)),
)


def _period_lines(total: WorkflowTotals) -> list[str]:
    """The period figures in sentences, each number with what it is made of."""
    lines = [
        f"  {integer(total['decisions'])} decisions on {integer(total['tickets'])} tickets: "
        f"{integer(total['auto_applied'])} auto-applied ({percent(total['auto_rate'])}), "
        f"{integer(total['applied_after_review'])} applied after review, "
        f"{integer(total['escalated'])} escalated or still pending, {integer(total['shadow'])} in shadow",
        f"  turnaround p50 {duration(total['turnaround_p50_min'])}, "
        f"p90 {duration(total['turnaround_p90_min'])} over {integer(total['turnaround_samples'])} triaged "
        f"(baseline {duration(total['baseline_turnaround_min'])})",
        f"  hours recovered {hours(total['hours_recovered'])} "
        f"({integer(total['auto_applied'])} auto-applied x {integer(total['manual_minutes_per_ticket'])} min, "
        f"minus {hours(total['review_hours'])} of review time)",
        f"  rework {percent(total['rework_rate'])} ({integer(total['corrections'])} corrections + "
        f"{integer(total['overrides'])} overrides over "
        f"{integer(total['auto_applied'] + total['applied_after_review'])} applied; "
        f"baseline {percent(total['baseline_error_rate'])})",
    ]
    if total["shadow_findings"]:
        lines.append(
            f"  shadow agreement {percent(total['shadow_agreement'])} of "
            f"{integer(total['shadow_findings'])} human changes compared"
        )
    lines.append(
        f"  model cost {_usd(total['cost_usd'])} total, {_usd(total['cost_per_ticket'])} per ticket; "
        f"{integer(total['reviews'])} reviews"
    )
    return lines


# --------------------------------------------------------------------------------------------- terminal


def terminal(
    stats: Sequence[WeekStats], totals: Totals, baselines: Baselines | None = None, languages: ByWorkflow | None = None
) -> str:
    """Per workflow: a week-by-week table, the period totals, the top escalation reasons and the
    reviewer throughput; with ``baselines`` (the policy's ``roi_baseline`` per workflow), where each baseline
    figure came from; with ``languages`` (:func:`triage_tools.reports.roi_languages.by_language`), each
    workflow's decisions by language at the end. Plain text, fixed-width columns."""
    grouped = _by_workflow(stats)
    if not grouped:
        return "No decisions in the period.\n"
    lines: list[str] = []
    for name, weeks in grouped.items():
        total = _total(totals, name, weeks)
        if lines:
            lines.append("")
        lines.append(f"{name}  {weeks[0].week} .. {weeks[-1].week}  ({_baseline_words(total)})")
        sources = baseline_sources((baselines or {}).get(name))
        if sources:
            lines += ["Baseline figures:", *(f"  {line}" for line in sources)]
        lines += text_table(
            [title for title, _ in _WEEK_COLUMNS], [[cell(week) for _, cell in _WEEK_COLUMNS] for week in weeks]
        )
        lines += ["", "Period totals:", *_period_lines(total)]

        reasons = ranked_counts(total["escalations_by_reason"])
        lines += ["", "Top escalation reasons:"]
        if reasons:
            rows = [[code, str(count)] for code, count in reasons[:_TOP_REASONS]]
            lines += ["  " + line for line in text_table(["reason code", "decisions"], rows)]
            if len(reasons) > _TOP_REASONS:
                lines.append(f"  ... and {len(reasons) - _TOP_REASONS} more")
        else:
            lines.append("  (none)")

        reviewers = ranked_counts(total["reviewer_throughput"])
        lines += ["", "Reviewer throughput:"]
        if reviewers:
            rows = [[who, str(count)] for who, count in reviewers[:_TOP_REVIEWERS]]
            lines += ["  " + line for line in text_table(["reviewer", "reviews"], rows)]
            if len(reviewers) > _TOP_REVIEWERS:
                lines.append(f"  ... and {len(reviewers) - _TOP_REVIEWERS} more")
        else:
            lines.append("  (no reviews)")
    lines += terminal_sections(languages or {})
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- HTML


_CSS = f"""
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:24px auto;
max-width:1200px;padding:0 16px}}
h1{{font-size:22px;margin:0 0 4px}}h2{{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}}h3{{font-size:15px;margin:20px 0 6px}}
.meta{{color:#616e7c;margin:0 0 12px}}
{TABLE_CSS}tr.gap td{{color:#9aa5b1}}
.neg{{color:#dc2626}}
{FIGURE_CSS}.legend{{font-size:12px;color:#3e4c59;display:flex;flex-wrap:wrap;gap:4px 14px;max-width:520px}}
.key{{display:inline-flex;align-items:center;gap:5px}}
.key i.sw{{width:10px;height:10px;background:var(--c);display:inline-block}}
.key i.dash{{width:16px;height:0;border-top:2px dashed var(--c);display:inline-block}}
.scroll{{overflow-x:auto}}
{SVG_CSS}ul.notes li{{margin:2px 0}}
"""


def _turnaround_total(total: WorkflowTotals) -> str:
    return versus(duration(total["turnaround_p50_min"]), duration(total["baseline_turnaround_min"]))


_SUMMARY_COLUMNS: tuple[tuple[str, Callable[[WorkflowTotals], str]], ...] = (
    ("weeks", lambda t: integer(t["weeks"])),
    ("decisions", lambda t: integer(t["decisions"])),
    ("tickets", lambda t: integer(t["tickets"])),
    ("auto-applied", lambda t: f"{integer(t['auto_applied'])} ({percent(t['auto_rate'])})"),
    ("reviewed", lambda t: integer(t["applied_after_review"])),
    ("escalated", lambda t: integer(t["escalated"])),
    ("shadow", lambda t: _shadow(t["shadow"], t["shadow_agreement"])),
    ("turnaround p50", _turnaround_total),
    ("hours recovered", lambda t: hours(t["hours_recovered"])),
    ("rework", lambda t: versus(percent(t["rework_rate"]), percent(t["baseline_error_rate"]))),
    ("cost/ticket", lambda t: _usd(t["cost_per_ticket"])),
)


def _html_table(header: Sequence[str], rows: Sequence[tuple[Sequence[str], str]]) -> str:
    """``rows`` are ``(cells, css class)``; every cell is escaped here."""
    head = "".join(f"<th>{escape(title)}</th>" for title in header)
    body = "".join(
        (f'<tr class="{escape(css)}">' if css else "<tr>") + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        for cells, css in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _workflow_html(name: str, weeks: Sequence[WeekStats], total: WorkflowTotals, baseline: RoiBaseline | None) -> str:
    parts = [f"<section><h2>{escape(name)}</h2>", f'<p class="meta">{escape(_baseline_words(total))}</p>']
    sources = baseline_sources(baseline)
    if sources:
        parts.append('<h3>Baseline figures</h3><ul class="notes">')
        parts += [f"<li>{escape(line)}</li>" for line in sources]
        parts.append("</ul>")
    parts.append('<div class="grid">')
    parts += [turnaround_svg(weeks), hours_svg(weeks), escalations_svg(weeks), rework_svg(weeks)]
    parts.append("</div>")
    parts.append("<h3>Week by week</h3>")
    rows = [([cell(w) for _, cell in _WEEK_COLUMNS], "" if w.has_traffic else "gap") for w in weeks]
    parts.append(_html_table([title for title, _ in _WEEK_COLUMNS], rows))
    parts.append('<h3>Period totals</h3><ul class="notes">')
    parts += [f"<li>{escape(line.strip())}</li>" for line in _period_lines(total)]
    parts.append("</ul>")
    reasons = ranked_counts(total["escalations_by_reason"])
    parts.append("<h3>Escalations by reason</h3>")
    if reasons:
        parts.append(
            _html_table(
                ["reason code", "decisions", "what it means"],
                [([code, str(count), reason_codes.DESCRIPTIONS.get(code, "")], "") for code, count in reasons],
            )
        )
    else:
        parts.append('<p class="meta">Nothing was sent to review.</p>')
    reviewers = ranked_counts(total["reviewer_throughput"])
    parts.append("<h3>Reviewer throughput</h3>")
    if reviewers:
        parts.append(_html_table(["reviewer", "reviews"], [([who, str(count)], "") for who, count in reviewers]))
    else:
        parts.append('<p class="meta">No reviews in the period.</p>')
    parts.append("</section>")
    return "".join(parts)


_NOTES = (
    "A decision counts in the ISO week (UTC) in which triage decided it.",
    "Auto-applied: applied without a reviewer in auto or assist mode (permanently failed write-backs excluded).",
    "Turnaround: ticket created to triage applied on the ticket (write-back, or the reviewer's answer); "
    "tickets never applied are left out. Percentiles are nearest-rank.",
    "Hours recovered = (auto-applied x baseline manual minutes per ticket - review time) / 60. Review time runs "
    "from posting the case to the answer, so the figure is conservative; it is negative when review cost more "
    "time than auto-application saved.",
    "Rework = (corrections + overrides) / (auto-applied + applied after review), against the baseline error rate "
    "of manual triage. Escalated counts escalations and decisions still waiting for a reviewer.",
    "Cost per ticket = model cost / distinct tickets.",
)


_LANGUAGE_NOTE = (
    "The language each decision counted (unknown: decided before languages were read). Sent to review: decisions "
    "whose action was review; review rate: of all decisions."
)


def render_html(
    stats: Sequence[WeekStats],
    totals: Totals,
    *,
    title: str = "Triage Gate ROI report",
    baselines: Baselines | None = None,
    languages: ByWorkflow | None = None,
) -> str:
    """The self-contained HTML page (see :func:`write_html`)."""
    grouped = _by_workflow(stats)
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if not grouped:
        parts.append('<p class="meta">No decisions in the period.</p></body></html>')
        return "".join(parts)
    first = min(weeks[0].week for weeks in grouped.values())
    last = max(weeks[-1].week for weeks in grouped.values())
    parts.append(f'<p class="meta">ISO weeks {escape(first)} to {escape(last)} (UTC), {len(grouped)} workflow(s).</p>')
    parts.append("<h2>Summary</h2>")
    workflows = {name: _total(totals, name, weeks) for name, weeks in grouped.items()}
    rows = [([name, *(cell(total) for _, cell in _SUMMARY_COLUMNS)], "") for name, total in workflows.items()]
    parts.append(_html_table(["workflow", *(title for title, _ in _SUMMARY_COLUMNS)], rows))
    for name, weeks in grouped.items():
        parts.append(_workflow_html(name, weeks, workflows[name], (baselines or {}).get(name)))
    if languages:
        parts += ["<h2>By language</h2>", f'<p class="meta">{escape(_LANGUAGE_NOTE)}</p>', html_sections(languages)]
    parts.append('<h2>How the figures are computed</h2><ul class="notes">')
    parts += [f"<li>{escape(note)}</li>" for note in _NOTES]
    parts.append("</ul></body></html>")
    return "".join(parts) + "\n"


def write_html(
    out_dir: Path,
    stats: Sequence[WeekStats],
    totals: Totals,
    baselines: Baselines | None = None,
    languages: ByWorkflow | None = None,
) -> Path:
    """Write ``out_dir/report.html`` (self-contained: inline CSS and SVG charts) and ``out_dir/roi.json``
    (``{"weeks": [...], "totals": {...}}``, and ``"baselines"``: per workflow, each figure's value and source,
    when ``baselines`` is given; ``"by_language"`` per workflow when ``languages`` is). Creates ``out_dir``;
    returns the HTML file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.html"
    report.write_text(render_html(stats, totals, baselines=baselines, languages=languages), encoding="utf-8")
    payload: dict[str, object] = {
        "weeks": [s.as_dict() for s in stats],
        "totals": {name: dict(t) for name, t in totals.items()},
    }
    if baselines is not None:
        payload["baselines"] = _baselines_json(baselines)
    if languages is not None:
        payload["by_language"] = {name: [dict(entry) for entry in entries] for name, entries in languages.items()}
    (out_dir / "roi.json").write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return report
