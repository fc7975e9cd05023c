"""What `triage eval` shows: the terminal summary, the HTML report (inline CSS and SVG) and the CI gate.

Everything here reads the dicts made by :func:`triage_gate.evaluation.metrics.summary` (a baseline may also be
the smaller dict of :func:`~triage_gate.evaluation.metrics.majority_baseline`: a figure it lacks shows as
"-"). Standard library only; the HTML page is one self-contained file with no scripts and no external
resources, and every piece of text in it (names, labels, reason codes) is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from triage_gate.display import MISSING, number, shown
from triage_gate.evaluation.metrics import NO_LABEL, wilson_lower_bound

__all__ = ["gate", "render_html", "terminal_summary", "write_html"]

Summary = Mapping[str, Any]

_MISSING = MISSING
_EPSILON = 1e-9  # float noise allowed at the gate's boundaries (0.95 vs 1 - 0.05)
_TOP_REASONS = 10


# --------------------------------------------------------------------------------------------- formatting


def _number(value: object) -> float | None:
    return number(value)


def _get(summary: Summary, *keys: str) -> object:
    value: object = summary
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _pct(value: object, digits: int = 1) -> str:
    return shown(value, f".{digits}f", scale=100, suffix="%")


def _dec(value: object) -> str:
    return shown(value, ".3f")


def _usd(value: object) -> str:
    return shown(value, ".5f", prefix="$")


def _ms(value: object) -> str:
    return shown(value, ".0f", suffix=" ms")


def _int(value: object) -> str:
    return shown(value, ".0f")


def _auto_precision(summary: Summary) -> str:
    precision = _pct(summary.get("precision_auto"))
    n_auto = _number(summary.get("n_auto"))
    return precision if precision == _MISSING or n_auto is None else f"{precision} (n={n_auto:.0f})"


def _auto_lower_bound(summary: Summary) -> str:
    """Wilson 95% lower bound of the auto-applied precision (successes recovered from precision x n)."""
    precision, n_auto = _number(summary.get("precision_auto")), _number(summary.get("n_auto"))
    if precision is None or n_auto is None or n_auto < 1:
        return _MISSING
    n = round(n_auto)
    return _pct(wilson_lower_bound(min(n, max(0, round(precision * n))), n))


_Row = tuple[str, Callable[[Summary], str]]

_COMPARISON: tuple[_Row, ...] = (
    ("rows", lambda s: _int(s.get("n"))),
    ("accuracy", lambda s: _pct(s.get("accuracy"))),
    ("macro-F1", lambda s: _dec(s.get("macro_f1"))),
    ("coverage (auto-applied)", lambda s: _pct(s.get("coverage"))),
    ("auto precision", _auto_precision),
    ("auto precision, Wilson 95% low", _auto_lower_bound),
    ("ECE", lambda s: _dec(s.get("ece"))),
    ("cost / ticket", lambda s: _usd(_get(s, "cost", "per_ticket_usd"))),
    ("p95 latency", lambda s: _ms(_get(s, "latency", "p95"))),
)

_COMPARISON_HTML_EXTRA: tuple[_Row, ...] = (
    ("total cost", lambda s: _usd(_get(s, "cost", "total_usd"))),
    ("p50 latency", lambda s: _ms(_get(s, "latency", "p50"))),
    ("p99 latency", lambda s: _ms(_get(s, "latency", "p99"))),
)


def _name(summary: Summary, default: str) -> str:
    name = summary.get("name")
    return str(name) if name not in (None, "") else default


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i >= right_from else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _reasons(summary: Summary) -> list[tuple[str, int]]:
    reasons = summary.get("reasons")
    if not isinstance(reasons, Mapping):
        return []
    pairs = [(str(code), int(count)) for code, count in reasons.items() if _number(count) is not None]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _per_label(summary: Summary) -> dict[str, Mapping[str, Any]]:
    per_label = summary.get("per_label")
    if not isinstance(per_label, Mapping):
        return {}
    return {str(label): scores for label, scores in per_label.items() if isinstance(scores, Mapping)}


# --------------------------------------------------------------------------------------------- terminal


def terminal_summary(candidate: Summary, baselines: Sequence[Summary]) -> str:
    """A compact plain-text report: the comparison table (candidate first, each baseline beside it), the
    candidate's per-label precision/recall/F1, then its most frequent reason codes."""
    runs = [candidate, *baselines]
    names = [_name(run, "candidate" if i == 0 else f"baseline {i}") for i, run in enumerate(runs)]
    lines = _text_table(["", *names], [[title, *(cell(run) for run in runs)] for title, cell in _COMPARISON])

    per_label = _per_label(candidate)
    if per_label:
        lines += ["", f"Per label ({names[0]}):"]
        lines += _text_table(
            ["label", "precision", "recall", "F1", "support"],
            [
                [
                    label,
                    _dec(scores.get("precision")),
                    _dec(scores.get("recall")),
                    _dec(scores.get("f1")),
                    _int(scores.get("support")),
                ]
                for label, scores in per_label.items()
            ],
        )

    reasons = _reasons(candidate)
    lines += ["", f"Top reason codes ({names[0]}):"]
    if not reasons:
        lines.append("  (none)")
    else:
        total = _number(candidate.get("n"))
        rows = [
            [code, str(count), _pct(count / total) if total else _MISSING] for code, count in reasons[:_TOP_REASONS]
        ]
        lines += _text_table(["reason code", "rows", "share"], rows)
        if len(reasons) > _TOP_REASONS:
            lines.append(f"  ... and {len(reasons) - _TOP_REASONS} more")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- the gate


def gate(candidate: Summary, baseline: Summary, *, tolerance: float, margin: float) -> list[str]:
    """Reasons to block the candidate against the baseline; an empty list means it passes.

    Blocks when the candidate's auto-applied precision is below ``1 - tolerance`` (the workflow's error
    tolerance), or more than ``margin`` (a fraction: 0.02 = 2 points) below the baseline's, or when nothing
    is auto-applied any more although the baseline auto-applied some. A candidate that auto-applies nothing
    has no precision to judge, so only the last rule can block it. ``baseline`` may also be a whole
    ``summary.json`` (``{"candidate": ..., "baselines": ...}``); its candidate is then the baseline.
    """
    if not 0.0 <= tolerance <= 1.0 or not 0.0 <= margin <= 1.0:
        raise ValueError(f"tolerance and margin must be within [0, 1], got {tolerance!r} and {margin!r}")
    inner = baseline.get("candidate")
    if isinstance(inner, Mapping):
        baseline = inner
    baseline_name = _name(baseline, "baseline")
    reasons: list[str] = []

    precision = _number(candidate.get("precision_auto"))
    n_auto = _number(candidate.get("n_auto"))
    coverage = _number(candidate.get("coverage"))
    baseline_precision = _number(baseline.get("precision_auto"))
    baseline_coverage = _number(baseline.get("coverage"))

    if precision is not None:
        required = 1.0 - tolerance
        if precision < required - _EPSILON:
            of = f" ({round(precision * n_auto)}/{n_auto:.0f} correct)" if n_auto else ""
            reasons.append(
                f"Auto-applied precision {_pct(precision, 2)}{of} is below the required {_pct(required, 2)} "
                f"(error tolerance {_pct(tolerance, 2)})."
            )
        if baseline_precision is not None and baseline_precision - precision > margin + _EPSILON:
            reasons.append(
                f"Auto-applied precision {_pct(precision, 2)} is {(baseline_precision - precision) * 100:.2f} points "
                f"below the baseline {baseline_name}'s {_pct(baseline_precision, 2)}, more than the allowed margin "
                f"of {margin * 100:.2f} points."
            )

    nothing_applied = (n_auto is not None and n_auto == 0) or (coverage is not None and coverage <= 0.0)
    if nothing_applied and baseline_coverage is not None and baseline_coverage > 0.0:
        reasons.append(
            f"Coverage dropped to 0% (nothing auto-applied out of {_int(candidate.get('n'))} tickets) while the "
            f"baseline {baseline_name} auto-applied {_pct(baseline_coverage, 2)} of tickets."
        )
    return reasons


# --------------------------------------------------------------------------------------------- HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:24px auto;
max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}
.meta{color:#616e7c;margin:0 0 12px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:#f5f7fa;font-weight:600}
.cand{background:#eef4ff}
.grid{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0}figcaption{color:#616e7c;font-size:12px;max-width:480px;margin-top:4px}
.scroll{overflow-x:auto}
.heat td{min-width:34px;text-align:center}.heat td.diag{outline:2px solid #1f2933;outline-offset:-2px}
.heat th.rot{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;vertical-align:bottom}
svg text{font:11px system-ui,sans-serif;fill:#3e4c59}
svg .title{font-size:12px;font-weight:600;fill:#1f2933}
"""

_BLUE = "#2563eb"
_GREEN = "#059669"
_ORANGE = "#d97706"
_RED = "#dc2626"
_GREY = "#9aa5b1"

_W, _H = 480, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 48, 48


def _x(value: float) -> float:
    return _LEFT + value * (_W - _LEFT - _RIGHT)


def _y(value: float) -> float:
    return _TOP + (1.0 - value) * (_H - _TOP - _BOTTOM)


def _unit_axes(title: str, x_title: str, y_title: str) -> list[str]:
    """An SVG frame for values in [0, 1] x [0, 1] with grid lines every 0.25."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'role="img" aria-label="{_e(title)}">',
        f'<text class="title" x="{_LEFT}" y="16">{_e(title)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_x(0):.1f}" y1="{_y(tick):.1f}" x2="{_x(1):.1f}" y2="{_y(tick):.1f}" stroke="#e4e7eb"/>'
        )
        parts.append(f'<text x="{_LEFT - 6}" y="{_y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        parts.append(f'<text x="{_x(tick):.1f}" y="{_y(0) + 16:.1f}" text-anchor="middle">{tick:g}</text>')
    parts.append(
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(0):.1f}" stroke="{_GREY}"/>'
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(0):.1f}" y2="{_y(1):.1f}" stroke="{_GREY}"/>'
    )
    parts.append(f'<text x="{_x(0.5):.1f}" y="{_H - 10}" text-anchor="middle">{_e(x_title)}</text>')
    parts.append(f'<text transform="translate(14 {_y(0.5):.1f}) rotate(-90)" text-anchor="middle">{_e(y_title)}</text>')
    return parts


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    """Coloured squares with names, in a row under the chart's title."""
    parts, x = [], _LEFT
    for colour, name in items:
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="35">{_e(name)}</text>')
        x += 28 + 7 * len(name)
    return parts


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _reliability_svg(summary: Summary) -> str:
    bins = summary.get("reliability")
    parts = _unit_axes("Reliability diagram", "confidence of the predicted label", "accuracy")
    parts.append(
        f'<line x1="{_x(0):.1f}" y1="{_y(0):.1f}" x2="{_x(1):.1f}" y2="{_y(1):.1f}" stroke="{_GREY}" '
        'stroke-dasharray="5 4"><title>perfect calibration</title></line>'
    )
    parts += _legend(((_BLUE, "accuracy"), (_RED, "mean confidence"), (_GREY, "perfect calibration")))
    drawn = 0
    for item in bins if isinstance(bins, list) else []:
        if not isinstance(item, Mapping):
            continue
        low, high = _number(item.get("bin_low")), _number(item.get("bin_high"))
        acc, mean, count = _number(item.get("accuracy")), _number(item.get("mean_confidence")), item.get("count")
        if low is None or high is None or acc is None or not count:
            continue
        drawn += 1
        x0, x1, top = _x(_clamp(low)) + 1, _x(_clamp(high)) - 1, _y(_clamp(acc))
        tip = f"confidence {low:g}-{high:g}: {count} rows, accuracy {acc:.3f}"
        if mean is not None:
            tip += f", mean confidence {mean:.3f}"
        parts.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{_y(0) - top:.1f}" '
            f'fill="{_BLUE}" fill-opacity="0.75"><title>{_e(tip)}</title></rect>'
        )
        if mean is not None:
            parts.append(
                f'<line x1="{x0:.1f}" y1="{_y(_clamp(mean)):.1f}" x2="{x1:.1f}" y2="{_y(_clamp(mean)):.1f}" '
                f'stroke="{_RED}" stroke-width="2"><title>{_e(tip)}</title></line>'
            )
        parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle">{_e(count)}</text>')
    if not drawn:
        parts.append(f'<text x="{_x(0.5):.1f}" y="{_y(0.5):.1f}" text-anchor="middle">no confidences</text>')
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: Sequence[tuple[float, float | None]], colour: str, name: str) -> list[str]:
    """One line per run of defined points (a ``None`` y breaks the line), with a dot per point."""
    parts: list[str] = []
    run: list[str] = []
    for x, y in [*points, (0.0, None)]:
        if y is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
            run = []
            continue
        run.append(f"{_x(_clamp(x)):.1f},{_y(_clamp(y)):.1f}")
        parts.append(
            f'<circle cx="{_x(_clamp(x)):.1f}" cy="{_y(_clamp(y)):.1f}" r="2.5" fill="{colour}">'
            f"<title>{_e(name)} at threshold {x:g}: {y:.3f}</title></circle>"
        )
    return parts


def _curve_svg(summary: Summary) -> str:
    curve = summary.get("curve")
    points = [item for item in curve if isinstance(item, Mapping)] if isinstance(curve, list) else []
    parts = _unit_axes("Coverage and precision vs confidence threshold", "confidence threshold", "share")
    coverage: list[tuple[float, float | None]] = []
    precision: list[tuple[float, float | None]] = []
    for item in points:
        threshold = _number(item.get("threshold"))
        if threshold is not None:
            coverage.append((threshold, _number(item.get("coverage"))))
            precision.append((threshold, _number(item.get("precision"))))
    parts += _polyline(coverage, _BLUE, "coverage")
    parts += _polyline(precision, _GREEN, "precision")

    policy_x = _number(summary.get("policy_threshold"))
    policy_coverage, policy_precision = _number(summary.get("coverage")), _number(summary.get("precision_auto"))
    if policy_x is not None and policy_coverage is not None:
        x = _x(_clamp(policy_x))
        parts.append(
            f'<line x1="{x:.1f}" y1="{_y(0):.1f}" x2="{x:.1f}" y2="{_y(1):.1f}" stroke="{_ORANGE}" '
            'stroke-dasharray="3 3"/>'
        )
        for value, what in ((policy_coverage, "coverage"), (policy_precision, "auto precision")):
            if value is not None:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{_y(_clamp(value)):.1f}" r="6" fill="none" stroke="{_ORANGE}" '
                    f'stroke-width="2.5"><title>policy {_e(what)}: {value:.3f}</title></circle>'
                )
        anchor = "end" if policy_x > 0.6 else "start"
        offset = -6 if anchor == "end" else 6
        parts.append(
            f'<text x="{x + offset:.1f}" y="{_y(0) - 6:.1f}" text-anchor="{anchor}" fill="{_ORANGE}">policy</text>'
        )
    parts += _legend(((_BLUE, "coverage"), (_GREEN, "precision"), (_ORANGE, "policy operating point")))
    if not points:
        parts.append(f'<text x="{_x(0.5):.1f}" y="{_y(0.5):.1f}" text-anchor="middle">no curve</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bar_svg(title: str, items: Sequence[tuple[str, float, str]], scale: float, colour: str) -> str:
    """Horizontal bars: ``(label, value, value text)``; a bar's length is value / scale of the plot width."""
    label_width, bar_height, gap, width = 200, 16, 6, _W + 80
    plot = width - label_width - 70
    height = 30 + len(items) * (bar_height + gap) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(title)}">',
        f'<text class="title" x="0" y="16">{_e(title)}</text>',
    ]
    for i, (label, value, text) in enumerate(items):
        y = 28 + i * (bar_height + gap)
        length = plot * min(1.0, max(0.0, value / scale)) if scale > 0 else 0.0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height - 4}" text-anchor="end">{_e(_short(label))}'
            f"<title>{_e(label)}</title></text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{max(length, 0.5):.1f}" height="{bar_height}" fill="{colour}">'
            f"<title>{_e(label)}: {_e(text)}</title></rect>"
        )
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height - 4}">{_e(text)}</text>')
    if not items:
        parts.append('<text x="0" y="44">none</text>')
    parts.append("</svg>")
    return "".join(parts)


def _f1_svg(summary: Summary) -> str:
    items = []
    for label, scores in _per_label(summary).items():
        f1 = _number(scores.get("f1"))
        if f1 is not None:
            items.append((label, f1, f"{f1:.3f} (n={_int(scores.get('support'))})"))
    return _bar_svg("F1 per label", items, 1.0, _BLUE)


def _reasons_svg(summary: Summary) -> str:
    reasons = _reasons(summary)
    scale = float(max((count for _, count in reasons), default=0))
    return _bar_svg("Reason codes (rows carrying each)", [(c, n, str(n)) for c, n in reasons], scale, _ORANGE)


def _confusion_html(summary: Summary) -> str:
    matrix = summary.get("confusion")
    if not isinstance(matrix, Mapping) or not matrix:
        return "<p>No confusion matrix.</p>"
    rows = {str(t): m for t, m in matrix.items() if isinstance(m, Mapping)}
    columns: list[str] = []
    for counts in rows.values():
        columns += [str(c) for c in counts if str(c) not in columns]
    if NO_LABEL in columns:  # the "no label" column last, and only when some row has no label
        columns.remove(NO_LABEL)
        if any(_number(counts.get(NO_LABEL)) for counts in rows.values()):
            columns.append(NO_LABEL)
    head = "".join(f'<th class="rot">{_e(c)}</th>' for c in columns)
    out = [
        '<div class="scroll"><table class="heat"><thead><tr><th>true \\ predicted</th>',
        head,
        "<th>total</th></tr></thead><tbody>",
    ]
    for truth, counts in rows.items():
        total = sum(_number(counts.get(c)) or 0.0 for c in columns)
        cells = []
        for column in columns:
            count = _number(counts.get(column)) or 0.0
            share = count / total if total else 0.0
            rgb = "37,99,235" if column == truth else "220,38,38"
            colour = "#fff" if share > 0.55 else "#1f2933"
            klass = ' class="diag"' if column == truth else ""
            cells.append(
                f'<td{klass} style="background:rgba({rgb},{share * 0.9:.3f});color:{colour}" '
                f'title="{_e(truth)} \u2192 {_e(column)}: {count:.0f} ({share * 100:.1f}% of {_e(truth)})">'
                f"{count:.0f}</td>"
            )
        out.append(f"<tr><th>{_e(truth)}</th>{''.join(cells)}<td>{total:.0f}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _comparison_html(runs: Sequence[Summary]) -> str:
    names = [_name(run, "candidate" if i == 0 else f"baseline {i}") for i, run in enumerate(runs)]
    mark = [' class="cand"', *([""] * (len(runs) - 1))]
    head = "".join(f"<th{mark[i]}>{_e(n)}</th>" for i, n in enumerate(names))
    body = []
    for title, cell in (*_COMPARISON, *_COMPARISON_HTML_EXTRA):
        cells = "".join(f"<td{mark[i]}>{_e(cell(run))}</td>" for i, run in enumerate(runs))
        body.append(f"<tr><td>{_e(title)}</td>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _per_label_html(summary: Summary) -> str:
    rows = "".join(
        f"<tr><td>{_e(label)}</td><td>{_dec(s.get('precision'))}</td><td>{_dec(s.get('recall'))}</td>"
        f"<td>{_dec(s.get('f1'))}</td><td>{_int(s.get('support'))}</td></tr>"
        for label, s in _per_label(summary).items()
    )
    return (
        "<table><thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def render_html(candidate: Summary, baselines: Sequence[Summary]) -> str:
    """The report page as a string (see :func:`write_html`)."""
    name = _name(candidate, "candidate")
    baseline_names = ", ".join(_name(b, f"baseline {i + 1}") for i, b in enumerate(baselines)) or "none"
    policy = (
        f"At the policy's thresholds: coverage {_pct(candidate.get('coverage'))}, auto-applied precision "
        f"{_auto_precision(candidate)}"
    )
    threshold = _number(candidate.get("policy_threshold"))
    if threshold is not None:
        policy += f"; marked at the mean policy threshold of the predicted labels, {threshold:.2f}"
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Triage eval: {_e(name)}</title><style>{_CSS}</style></head><body>",
            f"<h1>Triage eval: {_e(name)}</h1>",
            f'<p class="meta">{_e(_int(candidate.get("n")))} labelled rows; baselines: {_e(baseline_names)}</p>',
            "<h2>Side by side</h2>",
            _comparison_html([candidate, *baselines]),
            "<h2>Guardrails and calibration</h2><div class=grid>",
            f"<figure>{_curve_svg(candidate)}<figcaption>A row counts as auto-applied at a threshold when its "
            f"calibrated confidence reaches it (other guardrails ignored). {_e(policy)}.</figcaption></figure>",
            f"<figure>{_reliability_svg(candidate)}<figcaption>Bars: accuracy per confidence bin (rows above each "
            "bar); red ticks: the bin's mean confidence; dashed: perfect calibration. "
            f"ECE {_e(_dec(candidate.get('ece')))}.</figcaption></figure></div>",
            "<h2>Confusion matrix</h2>",
            "<p class=meta>Rows: true label; columns: predicted label; colour: share of the true label's rows "
            "(blue on the diagonal, red off it).</p>",
            _confusion_html(candidate),
            "<h2>Per label</h2><div class=grid>",
            f"<figure>{_f1_svg(candidate)}</figure>",
            f"<div>{_per_label_html(candidate)}</div></div>",
            "<h2>Reason codes</h2>",
            f"<figure>{_reasons_svg(candidate)}</figure>",
            "</body></html>\n",
        ]
    )


def write_html(out_dir: Path, candidate: Summary, baselines: Sequence[Summary]) -> Path:
    """Write ``out_dir/report.html`` (self-contained: inline CSS and SVG charts) and ``out_dir/summary.json``
    (``{"candidate": ..., "baselines": [...]}``, what ``--gate`` reads back). Returns the HTML file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.html"
    report.write_text(render_html(candidate, baselines), encoding="utf-8")
    payload = {"candidate": dict(candidate), "baselines": [dict(b) for b in baselines]}
    (out_dir / "summary.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return report
