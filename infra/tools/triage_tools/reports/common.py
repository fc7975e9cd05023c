"""What the eval and ROI HTML reports share: escaping, colours, CSS and SVG pieces.

Number formatting and plain-text tables are :mod:`triage_gate.display` (the ROI digest in the Lambda layer
uses them too). Every report page is one self-contained file: inline CSS and SVG, no scripts, nothing
external, and every piece of text in it goes through :func:`escape`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["BLUE", "GREEN", "GREY", "ORANGE", "RED", "escape", "polyline", "svg_open"]

BLUE = "#2563eb"
GREEN = "#059669"
ORANGE = "#d97706"
RED = "#dc2626"
GREY = "#9aa5b1"

TABLE_CSS = """table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:#f5f7fa;font-weight:600}
"""
"""Numbers right-aligned in tabular figures, the first column left-aligned, a shaded header."""

FIGURE_CSS = """.grid{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0}figcaption{color:#616e7c;font-size:12px;max-width:480px;margin-top:4px}
"""
"""Charts side by side, wrapping, each with a caption."""

SVG_CSS = """svg text{font:11px system-ui,sans-serif;fill:#3e4c59}
svg .title{font-size:12px;font-weight:600;fill:#1f2933}
"""
"""Text inside the charts, and each chart's title (see :func:`svg_open`)."""


def escape(value: object) -> str:
    """``value`` as HTML text or attribute value (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def svg_open(width: float, height: float, title: str, *, title_x: float) -> list[str]:
    """The opening ``<svg>`` of a chart (its title as the accessible label) and the title drawn at the top."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text class="title" x="{title_x}" y="16">{escape(title)}</text>',
    ]


def polyline(points: Sequence[tuple[float, float, str] | None], colour: str, radius: float) -> list[str]:
    """A line per run of points and a dot with a tooltip per point. ``points`` are ``(x, y, tooltip)`` in
    SVG coordinates; a ``None`` breaks the line (a run of one point is a dot alone)."""
    parts: list[str] = []
    run: list[str] = []
    for point in [*points, None]:
        if point is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
            run = []
            continue
        x, y, tip = point
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}" fill="{colour}"><title>{escape(tip)}</title></circle>'
        )
    return parts
