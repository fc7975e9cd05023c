"""What `triage eval` shows: the terminal summary, the HTML report (inline CSS and SVG) and the CI gate.

Everything here reads the dicts made by :func:`triage_tools.evaluation.metrics.summary` (a baseline may also
be the smaller dict of :func:`~triage_tools.evaluation.metrics.majority_baseline`: a figure it lacks shows as
"-"). Standard library only; the HTML page is one self-contained file with no scripts and no external
resources, and every piece of text in it (names, labels, reason codes) is escaped. The charts are
:mod:`triage_tools.reports.eval_charts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from triage_gate.display import MISSING, integer, number, percent, ranked_counts, shown, text_table
from triage_tools.evaluation.metrics import NO_LABEL, wilson_lower_bound
from triage_tools.reports.common import BLUE, FIGURE_CSS, ORANGE, SVG_CSS, TABLE_CSS, escape
from triage_tools.reports.eval_charts import bar_svg, curve_svg, reliability_svg
from triage_tools.reports.languages import EVAL_HEADER, eval_rows, html_table, terminal_lines

__all__ = ["gate", "render_html", "terminal_summary", "write_html"]

Summary = Mapping[str, Any]

_EPSILON = 1e-9  # float noise allowed at the gate's boundaries (0.95 vs 1 - 0.05)
_TOP_REASONS = 10


# --------------------------------------------------------------------------------------------- formatting


def _get(summary: Summary, *keys: str) -> object:
    value: object = summary
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _dec(value: object) -> str:
    return shown(value, ".3f")


def _usd(value: object) -> str:
    return shown(value, ".5f", prefix="$")


def _ms(value: object) -> str:
    return shown(value, ".0f", suffix=" ms")


def _auto_precision(summary: Summary) -> str:
    precision = percent(summary.get("precision_auto"))
    n_auto = number(summary.get("n_auto"))
    return precision if precision == MISSING or n_auto is None else f"{precision} (n={n_auto:.0f})"


def _auto_lower_bound(summary: Summary) -> str:
    """Wilson 95% lower bound of the auto-applied precision (successes recovered from precision x n)."""
    precision, n_auto = number(summary.get("precision_auto")), number(summary.get("n_auto"))
    if precision is None or n_auto is None or n_auto < 1:
        return MISSING
    n = round(n_auto)
    return percent(wilson_lower_bound(min(n, max(0, round(precision * n))), n))


_Row = tuple[str, Callable[[Summary], str]]

_COMPARISON: tuple[_Row, ...] = (
    ("rows", lambda s: integer(s.get("n"))),
    ("accuracy", lambda s: percent(s.get("accuracy"))),
    ("macro-F1", lambda s: _dec(s.get("macro_f1"))),
    ("coverage (auto-applied)", lambda s: percent(s.get("coverage"))),
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
    lines = text_table(["", *names], [[title, *(cell(run) for run in runs)] for title, cell in _COMPARISON])

    per_label = _per_label(candidate)
    if per_label:
        lines += ["", f"Per label ({names[0]}):"]
        lines += text_table(
            ["label", "precision", "recall", "F1", "support"],
            [
                [
                    label,
                    _dec(scores.get("precision")),
                    _dec(scores.get("recall")),
                    _dec(scores.get("f1")),
                    integer(scores.get("support")),
                ]
                for label, scores in per_label.items()
            ],
        )

    lines += ["", *_language_lines(candidate, names[0])]
    reasons = ranked_counts(candidate.get("reasons"))
    lines += ["", f"Top reason codes ({names[0]}):"]
    if not reasons:
        lines.append("  (none)")
    else:
        total = number(candidate.get("n"))
        rows = [
            [code, str(count), percent(count / total) if total else MISSING] for code, count in reasons[:_TOP_REASONS]
        ]
        lines += text_table(["reason code", "rows", "share"], rows)
        if len(reasons) > _TOP_REASONS:
            lines.append(f"  ... and {len(reasons) - _TOP_REASONS} more")
    return "\n".join(lines) + "\n"


def _languages(summary: Summary) -> list[Mapping[str, Any]]:
    entries = summary.get("by_language")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _language_lines(summary: Summary, name: str) -> list[str]:
    """The by-language table (languages with at least one ticket, most first) and the language_unsupported count."""
    lines = terminal_lines(f"By language ({name}):", EVAL_HEADER, eval_rows(_languages(summary)))
    return [*lines, f"language_unsupported: {integer(summary.get('language_unsupported'))} rows"]


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

    precision = number(candidate.get("precision_auto"))
    n_auto = number(candidate.get("n_auto"))
    coverage = number(candidate.get("coverage"))
    baseline_precision = number(baseline.get("precision_auto"))
    baseline_coverage = number(baseline.get("coverage"))

    if precision is not None:
        required = 1.0 - tolerance
        if precision < required - _EPSILON:
            of = f" ({round(precision * n_auto)}/{n_auto:.0f} correct)" if n_auto else ""
            reasons.append(
                f"Auto-applied precision {percent(precision, 2)}{of} is below the required {percent(required, 2)} "
                f"(error tolerance {percent(tolerance, 2)})."
            )
        if baseline_precision is not None and baseline_precision - precision > margin + _EPSILON:
            reasons.append(
                f"Auto-applied precision {percent(precision, 2)} is {(baseline_precision - precision) * 100:.2f} "
                f"points below the baseline {baseline_name}'s {percent(baseline_precision, 2)}, more than the allowed "
                f"margin of {margin * 100:.2f} points."
            )

    nothing_applied = (n_auto is not None and n_auto == 0) or (coverage is not None and coverage <= 0.0)
    if nothing_applied and baseline_coverage is not None and baseline_coverage > 0.0:
        reasons.append(
            f"Coverage dropped to 0% (nothing auto-applied out of {integer(candidate.get('n'))} tickets) while the "
            f"baseline {baseline_name} auto-applied {percent(baseline_coverage, 2)} of tickets."
        )
    return reasons


# --------------------------------------------------------------------------------------------- HTML


_CSS = f"""
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:24px auto;
max-width:1100px;padding:0 16px}}
h1{{font-size:22px;margin:0 0 4px}}h2{{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}}
.meta{{color:#616e7c;margin:0 0 12px}}
{TABLE_CSS}.cand{{background:#eef4ff}}
{FIGURE_CSS}.scroll{{overflow-x:auto}}
.heat td{{min-width:34px;text-align:center}}.heat td.diag{{outline:2px solid #1f2933;outline-offset:-2px}}
.heat th.rot{{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;vertical-align:bottom}}
{SVG_CSS}"""


def _f1_svg(summary: Summary) -> str:
    items = []
    for label, scores in _per_label(summary).items():
        f1 = number(scores.get("f1"))
        if f1 is not None:
            items.append((label, f1, f"{f1:.3f} (n={integer(scores.get('support'))})"))
    return bar_svg("F1 per label", items, 1.0, BLUE)


def _reasons_svg(summary: Summary) -> str:
    reasons = ranked_counts(summary.get("reasons"))
    scale = float(max((count for _, count in reasons), default=0))
    return bar_svg("Reason codes (rows carrying each)", [(c, n, str(n)) for c, n in reasons], scale, ORANGE)


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
        if any(number(counts.get(NO_LABEL)) for counts in rows.values()):
            columns.append(NO_LABEL)
    head = "".join(f'<th class="rot">{escape(c)}</th>' for c in columns)
    out = [
        '<div class="scroll"><table class="heat"><thead><tr><th>true \\ predicted</th>',
        head,
        "<th>total</th></tr></thead><tbody>",
    ]
    for truth, counts in rows.items():
        total = sum(number(counts.get(c)) or 0.0 for c in columns)
        cells = []
        for column in columns:
            count = number(counts.get(column)) or 0.0
            share = count / total if total else 0.0
            rgb = "37,99,235" if column == truth else "220,38,38"
            colour = "#fff" if share > 0.55 else "#1f2933"
            klass = ' class="diag"' if column == truth else ""
            cells.append(
                f'<td{klass} style="background:rgba({rgb},{share * 0.9:.3f});color:{colour}" '
                f'title="{escape(truth)} \u2192 {escape(column)}: {count:.0f} ({share * 100:.1f}% of {escape(truth)})">'
                f"{count:.0f}</td>"
            )
        out.append(f"<tr><th>{escape(truth)}</th>{''.join(cells)}<td>{total:.0f}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _comparison_html(runs: Sequence[Summary]) -> str:
    names = [_name(run, "candidate" if i == 0 else f"baseline {i}") for i, run in enumerate(runs)]
    mark = [' class="cand"', *([""] * (len(runs) - 1))]
    head = "".join(f"<th{mark[i]}>{escape(n)}</th>" for i, n in enumerate(names))
    body = []
    for title, cell in (*_COMPARISON, *_COMPARISON_HTML_EXTRA):
        cells = "".join(f"<td{mark[i]}>{escape(cell(run))}</td>" for i, run in enumerate(runs))
        body.append(f"<tr><td>{escape(title)}</td>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _per_label_html(summary: Summary) -> str:
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{_dec(s.get('precision'))}</td><td>{_dec(s.get('recall'))}</td>"
        f"<td>{_dec(s.get('f1'))}</td><td>{integer(s.get('support'))}</td></tr>"
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
        f"At the policy's thresholds: coverage {percent(candidate.get('coverage'))}, auto-applied precision "
        f"{_auto_precision(candidate)}"
    )
    threshold = number(candidate.get("policy_threshold"))
    if threshold is not None:
        policy += f"; marked at the mean policy threshold of the predicted labels, {threshold:.2f}"
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Triage eval: {escape(name)}</title><style>{_CSS}</style></head><body>",
            f"<h1>Triage eval: {escape(name)}</h1>",
            f'<p class="meta">{escape(integer(candidate.get("n")))} labelled rows; '
            f"baselines: {escape(baseline_names)}</p>",
            "<h2>Side by side</h2>",
            _comparison_html([candidate, *baselines]),
            "<h2>Guardrails and calibration</h2><div class=grid>",
            f"<figure>{curve_svg(candidate)}<figcaption>A row counts as auto-applied at a threshold when its "
            f"calibrated confidence reaches it (other guardrails ignored). {escape(policy)}.</figcaption></figure>",
            f"<figure>{reliability_svg(candidate)}<figcaption>Bars: accuracy per confidence bin (rows above each "
            "bar); red ticks: the bin's mean confidence; dashed: perfect calibration. "
            f"ECE {escape(_dec(candidate.get('ece')))}.</figcaption></figure></div>",
            "<h2>Confusion matrix</h2>",
            "<p class=meta>Rows: true label; columns: predicted label; colour: share of the true label's rows "
            "(blue on the diagonal, red off it).</p>",
            _confusion_html(candidate),
            "<h2>Per label</h2><div class=grid>",
            f"<figure>{_f1_svg(candidate)}</figure>",
            f"<div>{_per_label_html(candidate)}</div></div>",
            "<h2>By language</h2>",
            f"<p class=meta>The language each decision counted; language_unsupported: "
            f"{escape(integer(candidate.get('language_unsupported')))} rows.</p>",
            html_table(EVAL_HEADER, eval_rows(_languages(candidate))),
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
