"""What `triage report` shows and the weekly digest posts: terminal tables, an HTML report, Slack blocks.

Everything reads the figures of :mod:`triage_gate.roi.maths` (:func:`~triage_gate.roi.maths.weekly` and
:func:`~triage_gate.roi.maths.totals`). Standard library only. The HTML page is one self-contained file
(inline CSS and SVG, no scripts, no external resources) and every piece of text in it (workflow names,
reason codes, reviewer ids) is escaped; Slack text escapes ``&``, ``<`` and ``>`` the way Slack asks.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from triage_gate.display import MISSING, number, shown
from triage_gate.roi.maths import WeekStats
from triage_gate.triage import reasons as reason_codes

__all__ = ["render_html", "slack_digest", "terminal", "write_html"]

Totals = Mapping[str, Mapping[str, Any]]

_MISSING = MISSING
_TOP_REASONS = 10
_TOP_REVIEWERS = 10
_CHART_REASONS = 6  # stacked-bar colours; the rest are summed as "other"

# Slack limits (https://api.slack.com/reference/block-kit/blocks).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_FIELD_TEXT = 2000
SLACK_MAX_FIELDS = 10
SLACK_MAX_HEADER_TEXT = 150
_DIGEST_WEEKS = 8
_DIGEST_REASONS = 5


# --------------------------------------------------------------------------------------------- formatting


def _number(value: object) -> float | None:
    return number(value)


def _int(value: object) -> str:
    return shown(value, ".0f")


def _pct(value: object) -> str:
    return shown(value, ".1f", scale=100, suffix="%")


def _usd(value: object) -> str:
    return shown(value, ".4f", prefix="$")


def _hours(value: object) -> str:
    return shown(value, ".1f", suffix=" h")


def _duration(minutes: object) -> str:
    """Minutes as ``45m``, ``3.5h`` or ``2.1d``."""
    number = _number(minutes)
    if number is None:
        return _MISSING
    if number < 90:
        return f"{number:.0f}m"
    if number < 48 * 60:
        return f"{number / 60:.1f}h"
    return f"{number / 1440:.1f}d"


def _versus(value: str, baseline: str) -> str:
    return value if baseline == _MISSING else f"{value} vs {baseline}"


def _shadow(count: object, agreement: object) -> str:
    shown = _int(count)
    return shown if _number(agreement) is None else f"{shown} ({_pct(agreement)} agree)"


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i >= right_from else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _by_workflow(stats: Sequence[WeekStats]) -> dict[str, list[WeekStats]]:
    grouped: dict[str, list[WeekStats]] = {}
    for item in stats:
        grouped.setdefault(item.workflow, []).append(item)
    return {name: sorted(grouped[name], key=lambda s: s.week) for name in sorted(grouped)}


def _ranked(mapping: object) -> list[tuple[str, int]]:
    if not isinstance(mapping, Mapping):
        return []
    pairs = [(str(key), int(value)) for key, value in mapping.items() if _number(value) is not None]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _baseline_words(total: Mapping[str, Any]) -> str:
    manual, turnaround, error = (
        total.get("manual_minutes_per_ticket"),
        total.get("baseline_turnaround_min"),
        total.get("baseline_error_rate"),
    )
    if _number(manual) is None and _number(turnaround) is None and _number(error) is None:
        return "no baseline in the policy"
    return (
        f"before Triage Gate: {_int(manual)} min of manual triage per ticket, "
        f"{_duration(turnaround)} turnaround, {_pct(error)} error rate"
    )


_WEEK_COLUMNS: tuple[tuple[str, Callable[[WeekStats], str]], ...] = (
    ("week", lambda s: s.week),
    ("decisions", lambda s: _int(s.decisions)),
    ("auto-applied", lambda s: _int(s.auto_applied)),
    ("reviewed", lambda s: _int(s.applied_after_review)),
    ("escalated", lambda s: _int(s.escalated)),
    ("shadow", lambda s: _shadow(s.shadow, s.shadow_agreement)),
    ("turnaround p50", lambda s: _versus(_duration(s.turnaround_p50_min), _duration(s.baseline_turnaround_min))),
    ("hours recovered", lambda s: _hours(s.hours_recovered)),
    ("rework", lambda s: _versus(_pct(s.rework_rate), _pct(s.baseline_error_rate))),
    ("cost/ticket", lambda s: _usd(s.cost_per_ticket)),
)


def _period_lines(total: Mapping[str, Any]) -> list[str]:
    """The period figures in sentences, each number with what it is made of."""
    lines = [
        f"  {_int(total.get('decisions'))} decisions on {_int(total.get('tickets'))} tickets: "
        f"{_int(total.get('auto_applied'))} auto-applied ({_pct(total.get('auto_rate'))}), "
        f"{_int(total.get('applied_after_review'))} applied after review, "
        f"{_int(total.get('escalated'))} escalated or still pending, {_int(total.get('shadow'))} in shadow",
        f"  turnaround p50 {_duration(total.get('turnaround_p50_min'))}, "
        f"p90 {_duration(total.get('turnaround_p90_min'))} over {_int(total.get('turnaround_samples'))} triaged "
        f"(baseline {_duration(total.get('baseline_turnaround_min'))})",
        f"  hours recovered {_hours(total.get('hours_recovered'))} "
        f"({_int(total.get('auto_applied'))} auto-applied x {_int(total.get('manual_minutes_per_ticket'))} min, "
        f"minus {_hours(total.get('review_hours'))} of review time)",
        f"  rework {_pct(total.get('rework_rate'))} ({_int(total.get('corrections'))} corrections + "
        f"{_int(total.get('overrides'))} overrides over "
        f"{_int((total.get('auto_applied') or 0) + (total.get('applied_after_review') or 0))} applied; "
        f"baseline {_pct(total.get('baseline_error_rate'))})",
    ]
    if total.get("shadow_findings"):
        lines.append(
            f"  shadow agreement {_pct(total.get('shadow_agreement'))} of "
            f"{_int(total.get('shadow_findings'))} human changes compared"
        )
    lines.append(
        f"  model cost {_usd(total.get('cost_usd'))} total, {_usd(total.get('cost_per_ticket'))} per ticket; "
        f"{_int(total.get('reviews'))} reviews"
    )
    return lines


# --------------------------------------------------------------------------------------------- terminal


def terminal(stats: Sequence[WeekStats], totals: Totals) -> str:
    """Per workflow: a week-by-week table, the period totals, the top escalation reasons and the
    reviewer throughput. Plain text, fixed-width columns."""
    grouped = _by_workflow(stats)
    if not grouped:
        return "No decisions in the period.\n"
    lines: list[str] = []
    for name, weeks in grouped.items():
        total = totals.get(name, {})
        if lines:
            lines.append("")
        lines.append(f"{name}  {weeks[0].week} .. {weeks[-1].week}  ({_baseline_words(total)})")
        lines += _text_table(
            [title for title, _ in _WEEK_COLUMNS], [[cell(week) for _, cell in _WEEK_COLUMNS] for week in weeks]
        )
        lines += ["", "Period totals:", *_period_lines(total)]

        reasons = _ranked(total.get("escalations_by_reason"))
        lines += ["", "Top escalation reasons:"]
        if reasons:
            rows = [[code, str(count)] for code, count in reasons[:_TOP_REASONS]]
            lines += ["  " + line for line in _text_table(["reason code", "decisions"], rows)]
            if len(reasons) > _TOP_REASONS:
                lines.append(f"  ... and {len(reasons) - _TOP_REASONS} more")
        else:
            lines.append("  (none)")

        reviewers = _ranked(total.get("reviewer_throughput"))
        lines += ["", "Reviewer throughput:"]
        if reviewers:
            rows = [[who, str(count)] for who, count in reviewers[:_TOP_REVIEWERS]]
            lines += ["  " + line for line in _text_table(["reviewer", "reviews"], rows)]
            if len(reviewers) > _TOP_REVIEWERS:
                lines.append(f"  ... and {len(reviewers) - _TOP_REVIEWERS} more")
        else:
            lines.append("  (no reviews)")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- SVG charts


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_BLUE = "#2563eb"
_LIGHT_BLUE = "#93b4f5"
_GREEN = "#059669"
_RED = "#dc2626"
_GREY = "#9aa5b1"
_PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#9aa5b1")


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + i * step, 10) for i in range(n + 1)]


class _Chart:
    """A chart with one category per ISO week on x and a numeric y axis."""

    HEIGHT = 260
    LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 46

    def __init__(self, title: str, weeks: Sequence[str], values: Sequence[float], y_title: str) -> None:
        self.title, self.weeks, self.y_title = title, list(weeks), y_title
        self.width = max(480, self.LEFT + self.RIGHT + 22 * len(self.weeks))
        finite = [v for v in values if math.isfinite(v)] or [0.0]
        self.ticks = _nice_ticks(min(0.0, *finite), max(*finite, 0.0))
        self.low, self.high = self.ticks[0], self.ticks[-1]

    @property
    def step(self) -> float:
        return (self.width - self.LEFT - self.RIGHT) / max(1, len(self.weeks))

    def x(self, index: int) -> float:
        return self.LEFT + (index + 0.5) * self.step

    def y(self, value: float) -> float:
        span = self.high - self.low or 1.0
        clamped = min(self.high, max(self.low, value))
        return self.TOP + (self.high - clamped) / span * (self.HEIGHT - self.TOP - self.BOTTOM)

    def frame(self, tick_text: Callable[[float], str]) -> list[str]:
        w, h = self.width, self.HEIGHT
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
            f'role="img" aria-label="{_e(self.title)}">',
            f'<text class="title" x="{self.LEFT}" y="16">{_e(self.title)}</text>',
        ]
        right = w - self.RIGHT
        for tick in self.ticks:
            y = self.y(tick)
            colour = _GREY if tick == 0 else "#e4e7eb"
            parts.append(f'<line x1="{self.LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{colour}"/>')
            parts.append(f'<text x="{self.LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(tick_text(tick))}</text>')
        every = max(1, math.ceil(len(self.weeks) / 12))
        base = h - self.BOTTOM
        for i, week in enumerate(self.weeks):
            if i % every == 0:
                label = week.split("-", 1)[-1]
                parts.append(f'<text x="{self.x(i):.1f}" y="{base + 16}" text-anchor="middle">{_e(label)}</text>')
        parts.append(f'<line x1="{self.LEFT}" y1="{self.TOP}" x2="{self.LEFT}" y2="{base}" stroke="{_GREY}"/>')
        span = f"{self.weeks[0]} .. {self.weeks[-1]}" if self.weeks else ""
        parts.append(
            f'<text x="{(self.LEFT + right) / 2:.1f}" y="{h - 8}" text-anchor="middle">ISO week ({_e(span)})</text>'
        )
        parts.append(
            f'<text transform="translate(14 {(self.TOP + base) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{_e(self.y_title)}</text>'
        )
        return parts

    def line(self, values: Sequence[float | None], colour: str, name: str, fmt: Callable[[float], str]) -> list[str]:
        """A line per run of weeks with a value (a week without one breaks the line), a dot per value."""
        parts: list[str] = []
        run: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(run) > 1:
                    points = " ".join(run)
                    parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
                run = []
                continue
            x, y = self.x(i), self.y(value)
            run.append(f"{x:.1f},{y:.1f}")
            tip = f"{name}, {self.weeks[i]}: {fmt(value)}"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_e(tip)}</title></circle>')
        return parts

    def reference(self, value: float | None, name: str, fmt: Callable[[float], str]) -> list[str]:
        """A dashed horizontal line: the pre-AI baseline."""
        if value is None:
            return []
        y = self.y(value)
        return [
            f'<line x1="{self.LEFT}" y1="{y:.1f}" x2="{self.width - self.RIGHT}" y2="{y:.1f}" stroke="{_GREY}" '
            f'stroke-width="2" stroke-dasharray="6 4"><title>{_e(name)}: {_e(fmt(value))}</title></line>'
        ]

    def bar(self, index: int, low: float, high: float, colour: str, tip: str) -> str:
        top, bottom = self.y(max(low, high)), self.y(min(low, high))
        width = max(2.0, self.step * 0.7)
        x = self.x(index) - width / 2
        return (
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{max(bottom - top, 0.5):.1f}" '
            f'fill="{colour}"><title>{_e(tip)}</title></rect>'
        )

    def empty(self, text: str) -> str:
        return f'<text x="{self.width / 2:.1f}" y="{self.HEIGHT / 2:.1f}" text-anchor="middle">{_e(text)}</text>'


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """``(colour, name, dashed)`` keys under a chart."""
    keys = "".join(
        f'<span class="key"><i class="{"dash" if dashed else "sw"}" style="--c:{colour}"></i>{_e(name)}</span>'
        for colour, name, dashed in items
    )
    return f'<div class="legend">{keys}</div>'


def _figure(svg: str, legend: str, caption: str) -> str:
    return f"<figure>{svg}{legend}<figcaption>{_e(caption)}</figcaption></figure>"


def _turnaround_svg(weeks: Sequence[WeekStats]) -> str:
    baseline = weeks[0].baseline_turnaround_min if weeks else None
    p50 = [w.turnaround_p50_min for w in weeks]
    p90 = [w.turnaround_p90_min for w in weeks]
    values = [v for v in [*p50, *p90, baseline] if v is not None]
    unit, unit_name = (60.0, "hours") if max(values, default=0.0) >= 120 else (1.0, "minutes")

    def scaled(series: Sequence[float | None]) -> list[float | None]:
        return [None if v is None else v / unit for v in series]

    title = "Turnaround: ticket created to triage applied"
    chart = _Chart(title, [w.week for w in weeks], [v / unit for v in values], unit_name)

    def fmt(value: float) -> str:
        return _duration(value * unit)

    parts = chart.frame(lambda t: f"{t:g}")
    parts += chart.reference(None if baseline is None else baseline / unit, "baseline (before Triage Gate)", fmt)
    parts += chart.line(scaled(p90), _LIGHT_BLUE, "p90", fmt)
    parts += chart.line(scaled(p50), _BLUE, "p50", fmt)
    if not any(v is not None for v in p50):
        parts.append(chart.empty("nothing triaged in the period"))
    parts.append("</svg>")
    legend = _legend(((_BLUE, "p50", False), (_LIGHT_BLUE, "p90", False), (_GREY, "baseline", True)))
    return _figure(
        "".join(parts), legend, "Weeks without a triaged ticket break the line; the dashed line is the pre-AI baseline."
    )


def _hours_svg(weeks: Sequence[WeekStats]) -> str:
    values = [w.hours_recovered for w in weeks]
    defined = [v for v in values if v is not None]
    chart = _Chart("Manual hours recovered per week", [w.week for w in weeks], defined, "hours")
    parts = chart.frame(lambda t: f"{t:g}")
    for i, (week, value) in enumerate(zip(weeks, values, strict=True)):
        if value is None or value == 0:
            continue
        tip = f"{week.week}: {value:.2f} h ({week.auto_applied} auto-applied, {week.review_minutes / 60:.2f} h review)"
        parts.append(chart.bar(i, 0.0, value, _GREEN if value > 0 else _RED, tip))
    if all(v is None for v in values):
        parts.append(chart.empty("no baseline in the policy"))
    elif not any(values):
        parts.append(chart.empty("nothing auto-applied or reviewed"))
    parts.append("</svg>")
    legend = _legend(((_GREEN, "recovered", False), (_RED, "review took longer than it saved", False)))
    return _figure(
        "".join(parts), legend, "Auto-applied tickets x baseline manual minutes, minus measured review time."
    )


def _escalations_svg(weeks: Sequence[WeekStats]) -> str:
    overall: dict[str, int] = {}
    for week in weeks:
        for code, count in week.escalations_by_reason.items():
            overall[code] = overall.get(code, 0) + count
    ranked = [code for code, _ in _ranked(overall)]
    shown = ranked if len(ranked) <= _CHART_REASONS + 1 else ranked[:_CHART_REASONS]  # never "other" of one
    has_other = len(ranked) > len(shown)
    keys = [*shown, *(["other"] if has_other else [])]
    colours = {code: _PALETTE[i % len(_PALETTE)] for i, code in enumerate(keys)}
    stacks: list[list[tuple[str, int]]] = []
    for week in weeks:
        stack = [(code, week.escalations_by_reason.get(code, 0)) for code in shown]
        if has_other:
            stack.append(("other", sum(c for code, c in week.escalations_by_reason.items() if code not in shown)))
        stacks.append([(code, count) for code, count in stack if count])
    heights = [float(sum(count for _, count in stack)) for stack in stacks]
    chart = _Chart("Decisions sent to review, by reason code", [w.week for w in weeks], heights, "decisions")
    parts = chart.frame(lambda t: f"{t:g}" if t == int(t) else "")
    for i, stack in enumerate(stacks):
        bottom = 0.0
        for code, count in stack:
            tip = f"{weeks[i].week}: {code}: {count}"
            parts.append(chart.bar(i, bottom, bottom + count, colours[code], tip))
            bottom += count
    if not ranked:
        parts.append(chart.empty("nothing sent to review"))
    parts.append("</svg>")
    legend = _legend([(colours[code], code, False) for code in keys])
    return _figure(
        "".join(parts), legend, "One count per reason code, so a decision with two reasons counts in both stacks."
    )


def _rework_svg(weeks: Sequence[WeekStats]) -> str:
    baseline = weeks[0].baseline_error_rate if weeks else None
    rates = [w.rework_rate for w in weeks]
    values = [v for v in [*rates, baseline] if v is not None]
    top = max(values, default=0.1)
    chart = _Chart("Rework rate vs baseline error rate", [w.week for w in weeks], [top, 0.0], "share of applied")
    parts = chart.frame(lambda t: f"{t * 100:g}%")
    parts += chart.reference(baseline, "baseline error rate", _pct)
    parts += chart.line(rates, _BLUE, "rework", _pct)
    if not any(v is not None for v in rates):
        parts.append(chart.empty("nothing applied in the period"))
    parts.append("</svg>")
    legend = _legend(((_BLUE, "rework (corrections + overrides) / applied", False), (_GREY, "baseline", True)))
    return _figure("".join(parts), legend, "Weeks with nothing applied have no rate and break the line.")


# --------------------------------------------------------------------------------------------- HTML


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:24px auto;
max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.meta{color:#616e7c;margin:0 0 12px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:#f5f7fa;font-weight:600}
tr.gap td{color:#9aa5b1}
.neg{color:#dc2626}
.grid{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0}figcaption{color:#616e7c;font-size:12px;max-width:480px;margin-top:4px}
.legend{font-size:12px;color:#3e4c59;display:flex;flex-wrap:wrap;gap:4px 14px;max-width:520px}
.key{display:inline-flex;align-items:center;gap:5px}
.key i.sw{width:10px;height:10px;background:var(--c);display:inline-block}
.key i.dash{width:16px;height:0;border-top:2px dashed var(--c);display:inline-block}
.scroll{overflow-x:auto}
svg text{font:11px system-ui,sans-serif;fill:#3e4c59}
svg .title{font-size:12px;font-weight:600;fill:#1f2933}
ul.notes li{margin:2px 0}
"""


def _turnaround_total(total: Mapping[str, Any]) -> str:
    return _versus(_duration(total.get("turnaround_p50_min")), _duration(total.get("baseline_turnaround_min")))


_SUMMARY_COLUMNS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("weeks", lambda t: _int(t.get("weeks"))),
    ("decisions", lambda t: _int(t.get("decisions"))),
    ("tickets", lambda t: _int(t.get("tickets"))),
    ("auto-applied", lambda t: f"{_int(t.get('auto_applied'))} ({_pct(t.get('auto_rate'))})"),
    ("reviewed", lambda t: _int(t.get("applied_after_review"))),
    ("escalated", lambda t: _int(t.get("escalated"))),
    ("shadow", lambda t: _shadow(t.get("shadow"), t.get("shadow_agreement"))),
    ("turnaround p50", _turnaround_total),
    ("hours recovered", lambda t: _hours(t.get("hours_recovered"))),
    ("rework", lambda t: _versus(_pct(t.get("rework_rate")), _pct(t.get("baseline_error_rate")))),
    ("cost/ticket", lambda t: _usd(t.get("cost_per_ticket"))),
)


def _html_table(header: Sequence[str], rows: Sequence[tuple[Sequence[str], str]]) -> str:
    """``rows`` are ``(cells, css class)``; every cell is escaped here."""
    head = "".join(f"<th>{_e(title)}</th>" for title in header)
    body = "".join(
        (f'<tr class="{_e(css)}">' if css else "<tr>") + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>"
        for cells, css in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _workflow_html(name: str, weeks: Sequence[WeekStats], total: Mapping[str, Any]) -> str:
    parts = [f"<section><h2>{_e(name)}</h2>", f'<p class="meta">{_e(_baseline_words(total))}</p>']
    parts.append('<div class="grid">')
    parts += [_turnaround_svg(weeks), _hours_svg(weeks), _escalations_svg(weeks), _rework_svg(weeks)]
    parts.append("</div>")
    parts.append("<h3>Week by week</h3>")
    rows = [([cell(w) for _, cell in _WEEK_COLUMNS], "" if w.has_traffic else "gap") for w in weeks]
    parts.append(_html_table([title for title, _ in _WEEK_COLUMNS], rows))
    parts.append('<h3>Period totals</h3><ul class="notes">')
    parts += [f"<li>{_e(line.strip())}</li>" for line in _period_lines(total)]
    parts.append("</ul>")
    reasons = _ranked(total.get("escalations_by_reason"))
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
    reviewers = _ranked(total.get("reviewer_throughput"))
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


def render_html(stats: Sequence[WeekStats], totals: Totals, *, title: str = "Triage Gate ROI report") -> str:
    """The self-contained HTML page (see :func:`write_html`)."""
    grouped = _by_workflow(stats)
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    if not grouped:
        parts.append('<p class="meta">No decisions in the period.</p></body></html>')
        return "".join(parts)
    first = min(weeks[0].week for weeks in grouped.values())
    last = max(weeks[-1].week for weeks in grouped.values())
    parts.append(f'<p class="meta">ISO weeks {_e(first)} to {_e(last)} (UTC), {len(grouped)} workflow(s).</p>')
    parts.append("<h2>Summary</h2>")
    rows = [([name, *(cell(totals.get(name, {})) for _, cell in _SUMMARY_COLUMNS)], "") for name in grouped]
    parts.append(_html_table(["workflow", *(title for title, _ in _SUMMARY_COLUMNS)], rows))
    for name, weeks in grouped.items():
        parts.append(_workflow_html(name, weeks, totals.get(name, {})))
    parts.append('<h2>How the figures are computed</h2><ul class="notes">')
    parts += [f"<li>{_e(note)}</li>" for note in _NOTES]
    parts.append("</ul></body></html>")
    return "".join(parts) + "\n"


def write_html(out_dir: Path, stats: Sequence[WeekStats], totals: Totals) -> Path:
    """Write ``out_dir/report.html`` (self-contained: inline CSS and SVG charts) and ``out_dir/roi.json``
    (``{"weeks": [...], "totals": {...}}``). Creates ``out_dir``; returns the HTML file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.html"
    report.write_text(render_html(stats, totals), encoding="utf-8")
    payload = {"weeks": [s.as_dict() for s in stats], "totals": {name: dict(t) for name, t in totals.items()}}
    (out_dir / "roi.json").write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return report


# --------------------------------------------------------------------------------------------- Slack digest


def _slack(text: object) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SLACK_MAX_SECTION_TEXT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, SLACK_MAX_SECTION_TEXT)}]}


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def _mention(user: str) -> str:
    return f"<@{user}>" if _SLACK_USER.fullmatch(user) else _slack(user)


def _digest_table(weeks: Sequence[WeekStats]) -> str:
    """The last weeks as a code block that fits one section."""
    header = ["week", "dec", "auto", "rev", "esc", "p50", "hours", "rework"]
    rows = [
        [w.week, _int(w.decisions), _int(w.auto_applied), _int(w.applied_after_review), _int(w.escalated),
         _duration(w.turnaround_p50_min), _hours(w.hours_recovered), _pct(w.rework_rate)]
        for w in weeks[-_DIGEST_WEEKS:]
    ]  # fmt: skip
    lines = _text_table(header, rows)
    while len(lines) > 1 and len(_slack("\n".join(lines))) > SLACK_MAX_SECTION_TEXT - 40:
        lines.pop(1)  # drop the oldest week first
    return "*Week by week*\n```" + _slack("\n".join(lines)) + "```"


def slack_digest(
    totals: Totals, stats: Sequence[WeekStats], *, workflow: str, period: str
) -> tuple[str, list[dict[str, Any]]]:
    """(notification text, Block Kit blocks) of one workflow's weekly ROI digest.

    At most :data:`SLACK_MAX_BLOCKS` blocks, section texts within :data:`SLACK_MAX_SECTION_TEXT` characters
    and fields within Slack's limits; workflow names, reason codes and the period are escaped; reviewer ids
    that look like Slack user ids become mentions.
    """
    total = totals.get(workflow)
    weeks = [s for s in sorted(stats, key=lambda s: s.week) if s.workflow == workflow]
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip(f"Triage ROI: {workflow}", SLACK_MAX_HEADER_TEXT)},
    }
    if not total or not total.get("decisions"):
        text = f"Triage Gate ROI for {_slack(workflow)} ({_slack(period)}): no decisions."
        return text, [header, _section(f"No triage decisions for *{_slack(workflow)}* in {_slack(period)}.")]

    hours, rework = _hours(total.get("hours_recovered")), _pct(total.get("rework_rate"))
    turnaround = _versus(_duration(total.get("turnaround_p50_min")), _duration(total.get("baseline_turnaround_min")))
    text = _clip(
        f"Triage Gate ROI for {_slack(workflow)} ({_slack(period)}): {_int(total.get('decisions'))} decisions, "
        f"{_int(total.get('auto_applied'))} auto-applied, {hours} recovered, turnaround p50 {turnaround}, "
        f"rework {_versus(rework, _pct(total.get('baseline_error_rate')))}.",
        SLACK_MAX_SECTION_TEXT,
    )
    fields = [
        f"*Decisions*\n{_int(total.get('decisions'))} on {_int(total.get('tickets'))} tickets",
        f"*Auto-applied*\n{_int(total.get('auto_applied'))} ({_pct(total.get('auto_rate'))})",
        f"*Applied after review*\n{_int(total.get('applied_after_review'))} "
        f"({_int(total.get('corrections'))} corrected)",
        f"*Escalated or pending*\n{_int(total.get('escalated'))}",
        f"*Turnaround p50*\n{turnaround} before",
        f"*Hours recovered*\n{hours} (review time {_hours(total.get('review_hours'))})",
        f"*Rework*\n{_versus(rework, _pct(total.get('baseline_error_rate')))} before",
        f"*Cost per ticket*\n{_usd(total.get('cost_per_ticket'))} ({_usd(total.get('cost_usd'))} total)",
    ]
    if total.get("shadow"):
        fields.append(
            f"*Shadow*\n{_int(total.get('shadow'))} decisions, agreement {_pct(total.get('shadow_agreement'))}"
        )
    weeks_span = f"ISO weeks {_slack(total.get('first_week'))} to {_slack(total.get('last_week'))}"
    blocks: list[dict[str, Any]] = [
        header,
        _context(f"*{_slack(workflow)}* · {_slack(period)} · {weeks_span}"),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": _clip(f, SLACK_MAX_FIELD_TEXT)} for f in fields[:SLACK_MAX_FIELDS]],
        },
    ]
    if weeks:
        blocks.append(_section(_digest_table(weeks)))
    reasons = _ranked(total.get("escalations_by_reason"))
    if reasons:
        lines = [f"• `{_slack(code)}`: {count}" for code, count in reasons[:_DIGEST_REASONS]]
        if len(reasons) > _DIGEST_REASONS:
            lines.append(f"… and {len(reasons) - _DIGEST_REASONS} more reason codes")
        blocks.append(_section("*Top escalation reasons*\n" + "\n".join(lines)))
    reviewers = _ranked(total.get("reviewer_throughput"))
    if reviewers:
        lines = [f"• {_mention(who)}: {count}" for who, count in reviewers[:_TOP_REVIEWERS]]
        if len(reviewers) > _TOP_REVIEWERS:
            lines.append(f"… and {len(reviewers) - _TOP_REVIEWERS} more reviewers")
        blocks.append(_section("*Reviews per reviewer*\n" + "\n".join(lines)))
    blocks.append(
        _context(
            "Hours recovered = auto-applied x baseline manual minutes - review time. "
            "Rework = (corrections + overrides) / applied."
        )
    )
    return text, blocks[:SLACK_MAX_BLOCKS]
