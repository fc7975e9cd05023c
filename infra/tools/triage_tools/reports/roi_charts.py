"""The ROI report's charts, one category per ISO week on x: turnaround against the baseline, hours recovered,
escalations by reason code, rework against the baseline error rate. Inline SVG, every text escaped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from triage_gate.display import duration, percent, ranked_counts
from triage_gate.roi.weeks import WeekStats
from triage_tools.reports.common import BLUE, GREEN, GREY, ORANGE, RED, escape, polyline, svg_open

__all__ = ["escalations_svg", "hours_svg", "rework_svg", "turnaround_svg"]

_LIGHT_BLUE = "#93b4f5"
_PALETTE = (BLUE, ORANGE, GREEN, RED, "#7c3aed", "#0891b2", GREY)
_CHART_REASONS = 6  # stacked-bar colours; the rest are summed as "other"


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
        parts = svg_open(w, h, self.title, title_x=self.LEFT)
        right = w - self.RIGHT
        for tick in self.ticks:
            y = self.y(tick)
            colour = GREY if tick == 0 else "#e4e7eb"
            parts.append(f'<line x1="{self.LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{colour}"/>')
            parts.append(
                f'<text x="{self.LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(tick_text(tick))}</text>'
            )
        every = max(1, math.ceil(len(self.weeks) / 12))
        base = h - self.BOTTOM
        for i, week in enumerate(self.weeks):
            if i % every == 0:
                label = week.split("-", 1)[-1]
                parts.append(f'<text x="{self.x(i):.1f}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>')
        parts.append(f'<line x1="{self.LEFT}" y1="{self.TOP}" x2="{self.LEFT}" y2="{base}" stroke="{GREY}"/>')
        span = f"{self.weeks[0]} .. {self.weeks[-1]}" if self.weeks else ""
        parts.append(
            f'<text x="{(self.LEFT + right) / 2:.1f}" y="{h - 8}" text-anchor="middle">ISO week ({escape(span)})</text>'
        )
        parts.append(
            f'<text transform="translate(14 {(self.TOP + base) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{escape(self.y_title)}</text>'
        )
        return parts

    def line(self, values: Sequence[float | None], colour: str, name: str, fmt: Callable[[float], str]) -> list[str]:
        """A line per run of weeks with a value (a week without one breaks the line), a dot per value."""
        points = [
            None if value is None else (self.x(i), self.y(value), f"{name}, {self.weeks[i]}: {fmt(value)}")
            for i, value in enumerate(values)
        ]
        return polyline(points, colour, radius=3)

    def reference(self, value: float | None, name: str, fmt: Callable[[float], str]) -> list[str]:
        """A dashed horizontal line: the pre-AI baseline."""
        if value is None:
            return []
        y = self.y(value)
        return [
            f'<line x1="{self.LEFT}" y1="{y:.1f}" x2="{self.width - self.RIGHT}" y2="{y:.1f}" stroke="{GREY}" '
            f'stroke-width="2" stroke-dasharray="6 4"><title>{escape(name)}: {escape(fmt(value))}</title></line>'
        ]

    def bar(self, index: int, low: float, high: float, colour: str, tip: str) -> str:
        top, bottom = self.y(max(low, high)), self.y(min(low, high))
        width = max(2.0, self.step * 0.7)
        x = self.x(index) - width / 2
        return (
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{max(bottom - top, 0.5):.1f}" '
            f'fill="{colour}"><title>{escape(tip)}</title></rect>'
        )

    def empty(self, text: str) -> str:
        return f'<text x="{self.width / 2:.1f}" y="{self.HEIGHT / 2:.1f}" text-anchor="middle">{escape(text)}</text>'


def _legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """``(colour, name, dashed)`` keys under a chart."""
    keys = "".join(
        f'<span class="key"><i class="{"dash" if dashed else "sw"}" style="--c:{colour}"></i>{escape(name)}</span>'
        for colour, name, dashed in items
    )
    return f'<div class="legend">{keys}</div>'


def _figure(svg: str, legend: str, caption: str) -> str:
    return f"<figure>{svg}{legend}<figcaption>{escape(caption)}</figcaption></figure>"


def turnaround_svg(weeks: Sequence[WeekStats]) -> str:
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
        return duration(value * unit)

    parts = chart.frame(lambda t: f"{t:g}")
    parts += chart.reference(None if baseline is None else baseline / unit, "baseline (before Triage Gate)", fmt)
    parts += chart.line(scaled(p90), _LIGHT_BLUE, "p90", fmt)
    parts += chart.line(scaled(p50), BLUE, "p50", fmt)
    if not any(v is not None for v in p50):
        parts.append(chart.empty("nothing triaged in the period"))
    parts.append("</svg>")
    legend = _legend(((BLUE, "p50", False), (_LIGHT_BLUE, "p90", False), (GREY, "baseline", True)))
    return _figure(
        "".join(parts), legend, "Weeks without a triaged ticket break the line; the dashed line is the pre-AI baseline."
    )


def hours_svg(weeks: Sequence[WeekStats]) -> str:
    values = [w.hours_recovered for w in weeks]
    defined = [v for v in values if v is not None]
    chart = _Chart("Manual hours recovered per week", [w.week for w in weeks], defined, "hours")
    parts = chart.frame(lambda t: f"{t:g}")
    for i, (week, value) in enumerate(zip(weeks, values, strict=True)):
        if value is None or value == 0:
            continue
        tip = f"{week.week}: {value:.2f} h ({week.auto_applied} auto-applied, {week.review_minutes / 60:.2f} h review)"
        parts.append(chart.bar(i, 0.0, value, GREEN if value > 0 else RED, tip))
    if all(v is None for v in values):
        parts.append(chart.empty("no baseline in the policy"))
    elif not any(values):
        parts.append(chart.empty("nothing auto-applied or reviewed"))
    parts.append("</svg>")
    legend = _legend(((GREEN, "recovered", False), (RED, "review took longer than it saved", False)))
    return _figure(
        "".join(parts), legend, "Auto-applied tickets x baseline manual minutes, minus measured review time."
    )


def escalations_svg(weeks: Sequence[WeekStats]) -> str:
    overall: dict[str, int] = {}
    for week in weeks:
        for code, count in week.escalations_by_reason.items():
            overall[code] = overall.get(code, 0) + count
    ranked = [code for code, _ in ranked_counts(overall)]
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


def rework_svg(weeks: Sequence[WeekStats]) -> str:
    baseline = weeks[0].baseline_error_rate if weeks else None
    rates = [w.rework_rate for w in weeks]
    values = [v for v in [*rates, baseline] if v is not None]
    top = max(values, default=0.1)
    chart = _Chart("Rework rate vs baseline error rate", [w.week for w in weeks], [top, 0.0], "share of applied")
    parts = chart.frame(lambda t: f"{t * 100:g}%")
    parts += chart.reference(baseline, "baseline error rate", percent)
    parts += chart.line(rates, BLUE, "rework", percent)
    if not any(v is not None for v in rates):
        parts.append(chart.empty("nothing applied in the period"))
    parts.append("</svg>")
    legend = _legend(((BLUE, "rework (corrections + overrides) / applied", False), (GREY, "baseline", True)))
    return _figure("".join(parts), legend, "Weeks with nothing applied have no rate and break the line.")
