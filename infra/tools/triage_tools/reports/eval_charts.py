"""The eval report's charts: the reliability diagram, coverage and precision against the confidence
threshold, and horizontal bars. Inline SVG, every text escaped; values outside [0, 1] are drawn at the edge.

Each chart reads the dicts of :func:`triage_tools.evaluation.metrics.summary`; a figure it lacks is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage_gate.display import number
from triage_tools.reports.common import BLUE, GREEN, GREY, ORANGE, RED, escape, polyline, svg_open

__all__ = ["bar_svg", "curve_svg", "reliability_svg"]

Summary = Mapping[str, Any]

_W, _H = 480, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 48, 48


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _x(value: float) -> float:
    return _LEFT + value * (_W - _LEFT - _RIGHT)


def _y(value: float) -> float:
    return _TOP + (1.0 - value) * (_H - _TOP - _BOTTOM)


def _unit_axes(title: str, x_title: str, y_title: str) -> list[str]:
    """An SVG frame for values in [0, 1] x [0, 1] with grid lines every 0.25."""
    parts = svg_open(_W, _H, title, title_x=_LEFT)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_x(0):.1f}" y1="{_y(tick):.1f}" x2="{_x(1):.1f}" y2="{_y(tick):.1f}" stroke="#e4e7eb"/>'
        )
        parts.append(f'<text x="{_LEFT - 6}" y="{_y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        parts.append(f'<text x="{_x(tick):.1f}" y="{_y(0) + 16:.1f}" text-anchor="middle">{tick:g}</text>')
    parts.append(
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(0):.1f}" stroke="{GREY}"/>'
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(0):.1f}" y2="{_y(1):.1f}" stroke="{GREY}"/>'
    )
    parts.append(f'<text x="{_x(0.5):.1f}" y="{_H - 10}" text-anchor="middle">{escape(x_title)}</text>')
    parts.append(
        f'<text transform="translate(14 {_y(0.5):.1f}) rotate(-90)" text-anchor="middle">{escape(y_title)}</text>'
    )
    return parts


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    """Coloured squares with names, in a row under the chart's title."""
    parts, x = [], _LEFT
    for colour, name in items:
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="35">{escape(name)}</text>')
        x += 28 + 7 * len(name)
    return parts


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def reliability_svg(summary: Summary) -> str:
    bins = summary.get("reliability")
    parts = _unit_axes("Reliability diagram", "confidence of the predicted label", "accuracy")
    parts.append(
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(1):.1f}" stroke="{GREY}" '
        'stroke-dasharray="5 4"><title>perfect calibration</title></line>'
    )
    parts += _legend(((BLUE, "accuracy"), (RED, "mean confidence"), (GREY, "perfect calibration")))
    drawn = 0
    for item in bins if isinstance(bins, list) else []:
        if not isinstance(item, Mapping):
            continue
        low, high = number(item.get("bin_low")), number(item.get("bin_high"))
        acc, mean, count = number(item.get("accuracy")), number(item.get("mean_confidence")), item.get("count")
        if low is None or high is None or acc is None or not count:
            continue
        drawn += 1
        x0, x1, top = _x(_clamp(low)) + 1, _x(_clamp(high)) - 1, _y(_clamp(acc))
        tip = f"confidence {low:g}-{high:g}: {count} rows, accuracy {acc:.3f}"
        if mean is not None:
            tip += f", mean confidence {mean:.3f}"
        parts.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{_y(0) - top:.1f}" '
            f'fill="{BLUE}" fill-opacity="0.75"><title>{escape(tip)}</title></rect>'
        )
        if mean is not None:
            parts.append(
                f'<line x1="{x0:.1f}" y1="{_y(_clamp(mean)):.1f}" x2="{x1:.1f}" y2="{_y(_clamp(mean)):.1f}" '
                f'stroke="{RED}" stroke-width="2"><title>{escape(tip)}</title></line>'
            )
        parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle">{escape(count)}</text>')
    if not drawn:
        parts.append(f'<text x="{_x(0.5):.1f}" y="{_y(0.5):.1f}" text-anchor="middle">no confidences</text>')
    parts.append("</svg>")
    return "".join(parts)


def _line(points: Sequence[tuple[float, float | None]], colour: str, name: str) -> list[str]:
    """One line per run of defined points (a ``None`` y breaks the line), with a dot per point."""
    return polyline(
        [
            None if y is None else (_x(_clamp(x)), _y(_clamp(y)), f"{name} at threshold {x:g}: {y:.3f}")
            for x, y in points
        ],
        colour,
        radius=2.5,
    )


def curve_svg(summary: Summary) -> str:
    curve = summary.get("curve")
    points = [item for item in curve if isinstance(item, Mapping)] if isinstance(curve, list) else []
    parts = _unit_axes("Coverage and precision vs confidence threshold", "confidence threshold", "share")
    coverage: list[tuple[float, float | None]] = []
    precision: list[tuple[float, float | None]] = []
    for item in points:
        threshold = number(item.get("threshold"))
        if threshold is not None:
            coverage.append((threshold, number(item.get("coverage"))))
            precision.append((threshold, number(item.get("precision"))))
    parts += _line(coverage, BLUE, "coverage")
    parts += _line(precision, GREEN, "precision")

    policy_x = number(summary.get("policy_threshold"))
    policy_coverage, policy_precision = number(summary.get("coverage")), number(summary.get("precision_auto"))
    if policy_x is not None and policy_coverage is not None:
        x = _x(_clamp(policy_x))
        parts.append(
            f'<line x1="{x:.1f}" y1="{_y(0):.1f}" x2="{x:.1f}" y2="{_y(1):.1f}" stroke="{ORANGE}" '
            'stroke-dasharray="3 3"/>'
        )
        for value, what in ((policy_coverage, "coverage"), (policy_precision, "auto precision")):
            if value is not None:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{_y(_clamp(value)):.1f}" r="6" fill="none" stroke="{ORANGE}" '
                    f'stroke-width="2.5"><title>policy {escape(what)}: {value:.3f}</title></circle>'
                )
        anchor = "end" if policy_x > 0.6 else "start"
        offset = -6 if anchor == "end" else 6
        parts.append(
            f'<text x="{x + offset:.1f}" y="{_y(0) - 6:.1f}" text-anchor="{anchor}" fill="{ORANGE}">policy</text>'
        )
    parts += _legend(((BLUE, "coverage"), (GREEN, "precision"), (ORANGE, "policy operating point")))
    if not points:
        parts.append(f'<text x="{_x(0.5):.1f}" y="{_y(0.5):.1f}" text-anchor="middle">no curve</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_svg(title: str, items: Sequence[tuple[str, float, str]], scale: float, colour: str) -> str:
    """Horizontal bars: ``(label, value, value text)``; a bar's length is value / scale of the plot width."""
    label_width, bar_height, gap, width = 200, 16, 6, _W + 80
    plot = width - label_width - 70
    height = 30 + len(items) * (bar_height + gap) + 8
    parts = svg_open(width, height, title, title_x=0)
    for i, (label, value, text) in enumerate(items):
        y = 28 + i * (bar_height + gap)
        length = plot * min(1.0, max(0.0, value / scale)) if scale > 0 else 0.0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height - 4}" text-anchor="end">{escape(_short(label))}'
            f"<title>{escape(label)}</title></text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{max(length, 0.5):.1f}" height="{bar_height}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height - 4}">{escape(text)}</text>')
    if not items:
        parts.append('<text x="0" y="44">none</text>')
    parts.append("</svg>")
    return "".join(parts)
