"""What `triage backtest` shows: the terminal summary and the HTML report (inline CSS and SVG, no scripts), both
read from the one dict of :func:`triage_tools.backtest.result.build_result` (written beside as
``backtest.json``). Every piece of text in the page (labels, workflow names, provenance) is escaped."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from triage_gate.display import MISSING, duration, hours, integer, number, percent, ranked_counts, text_table
from triage_tools.reports.common import BLUE, FIGURE_CSS, GREEN, ORANGE, SVG_CSS, TABLE_CSS, escape
from triage_tools.reports.eval_charts import bar_svg
from triage_tools.reports.languages import (
    BACKTEST_HEADER,
    backtest_rows,
    html_table,
    language_task_rows,
    terminal_lines,
    wilson_text,
)

__all__ = ["render_html", "terminal", "write_html"]

Result = Mapping[str, Any]

_VERDICT = {
    "proven": "meets the tolerance (95% lower bound above the bar)",
    "within, not proven": "within the tolerance, not yet proven (more tickets needed)",
    "below, not proven": "below the tolerance, not yet proven either way",
    "fails": "fails the tolerance (95% upper bound below the bar)",
    "none": "nothing applied",
}
_APPLIES = {"own": "own", "pooled": "pooled", "always_review": "always review"}


# --------------------------------------------------------------------------------------------- formatting


def _day(value: object) -> str:
    return str(value)[:10] if value else MISSING


def _window(window: Mapping[str, Any]) -> str:
    return f"{_day(window.get('from'))} .. {_day(window.get('to'))} ({integer(window.get('tickets'))} tickets)"


def _per_week(value: object) -> str:
    found = number(value)
    return MISSING if found is None else f"{found:.0f}"


def _turnaround(pair: Mapping[str, Any]) -> str:
    return f"{duration(pair.get('p50'))} / {duration(pair.get('p90'))}"


_MODE_COLUMNS: tuple[tuple[str, Callable[[str, Mapping[str, Any]], str]], ...] = (
    ("mode", lambda name, m: name),
    ("applied", lambda name, m: f"{integer(m.get('applied'))} ({percent(m.get('coverage'))})"),
    ("suggested", lambda name, m: integer(m.get("suggestions"))),
    ("reviews/week", lambda name, m: _per_week(m.get("reviews_per_week"))),
    (
        "precision (95% Wilson)",
        lambda name, m: wilson_text(m.get("precision") or m.get("suggestion_precision") or m.get("agreement")),
    ),
    ("hours recovered/week", lambda name, m: hours(m.get("hours_recovered_per_week"))),
    ("turnaround p50 / p90", lambda name, m: _turnaround(m.get("turnaround") or {})),
)


def _mode_rows(result: Result) -> list[list[str]]:
    return [[cell(name, mode) for _, cell in _MODE_COLUMNS] for name, mode in result["modes"].items()]


def _headline(result: Result) -> list[str]:
    split, baseline = result["split"], result["baseline"]
    test = split["test"]
    weeks = number(result["modes"]["auto"].get("weeks")) or 0.0
    return [
        f"triage backtest: {result['workflow']} on {baseline['history']} (model: {result['model']})",
        f"time split by created_at: trained on {_window(split['fit'])}, calibrated on {_window(split['calibration'])},"
        f" decided {_window(test)}, {weeks:.1f} weeks",
    ]


def _notes(result: Result) -> list[str]:
    versus, turn, baseline = result["versus_people"], result["turnaround"], result["baseline"]
    manual = baseline["policy"]["manual_minutes_per_ticket"]
    return [
        f"vs people: auto's applied error rate {percent(versus.get('applied_error_rate'))} "
        f"(95% Wilson {percent(versus.get('applied_error_low'))}..{percent(versus.get('applied_error_high'))}, "
        f"{integer(versus.get('applied_judged'))} applied tickets judged by the person's final label); people "
        f"re-routed {percent(versus.get('people_rerouting_rate'))} of the same {integer(versus.get('tickets'))} "
        f"tickets ({percent(versus.get('people_rerouting_rate_history'))} over the whole history)",
        f"turnaround: people's p50 / p90 from creation to first assignment on {integer(turn.get('n'))} decided tickets"
        f" ({integer(turn.get('unknown'))} without an assignment time); auto counts an applied ticket the person's "
        f"label confirms at the policy's triage SLA ({duration(turn.get('sla_minutes'))}), every other ticket at the "
        "time people took",
        f"hours recovered: confirmed auto-applied tickets x {integer(manual['value'])} min of manual triage per "
        f"ticket ({manual['source']}; a history has no handling time); assist suggestions are not counted",
    ]


def _task_rows(result: Result) -> list[list[str]]:
    rows = []
    for task, scores in result["tasks"].items():
        applied = scores["applied"]
        rows.append([
            task, integer(scores.get("labelled")), percent(scores.get("agreement")), integer(applied.get("n")),
            percent(applied.get("precision")), percent(applied.get("wilson_low")), percent(applied.get("wilson_high")),
            _VERDICT.get(str(applied.get("verdict")), MISSING),
        ])  # fmt: skip
    return rows


def _label_rows(result: Result, task: str) -> list[list[str]]:
    applies = result["training"].get(task, {}).get("calibration", {}).get("labels", {})
    rows = []
    for label, scores in result["tasks"][task]["per_label"].items():
        applied = scores["applied"]
        rows.append([
            label, integer(scores.get("support")), integer(scores.get("predicted")),
            percent(scores.get("precision_all")), integer(applied.get("n")), percent(applied.get("precision")),
            percent(applied.get("wilson_low")), _APPLIES.get(str(applies.get(label, {}).get("applies")), MISSING),
        ])  # fmt: skip
    return rows


_WEEK_HEADER = ["week", "tickets", "applied", "reviews", "applied wrong", "hours recovered"]
_TOP_REASONS = 8


def _week_rows(result: Result) -> list[list[str]]:
    return [
        [w["week"], integer(w["tickets"]), integer(w["confident"]), integer(w["reviews"]), integer(w["wrong"]),
         hours(w["hours_recovered"])]
        for w in result["weeks"]
    ]  # fmt: skip


_LANGUAGE_TITLE = (
    "By language (the language each decision counted; applied = auto applies it, assist suggests it; reviews/week "
    "over the decided window):"
)
_LANGUAGE_TASK_TITLE = "By language and task (agreement of all decisions; precision of the applied ones, 95% Wilson):"
_TASK_HEADER = ["task", "labelled", "agreement", "applied", "precision", "95% low", "95% high", "verdict"]
_LABEL_HEADER = [
    "label",
    "support",
    "predicted",
    "precision",
    "applied",
    "applied precision",
    "95% low",
    "threshold used",
]


def _review_reasons(result: Result, task: str) -> list[str]:
    labels = result["training"].get(task, {}).get("calibration", {}).get("labels", {})
    return [
        f"{label}: always review, {info['why']}" for label, info in labels.items() if info["applies"] == "always_review"
    ]


def _training_lines(result: Result) -> list[str]:
    lines = []
    for task, info in result["training"].items():
        unlabelled = info.get("unlabelled", {})
        holdout = info.get("model_holdout") or {}
        trained = (
            f"trained on {integer(info['n_train'])} tickets ({len(info['labels_seen'])} labels)"
            if info["trained"]
            else str(info.get("note"))
        )
        lines.append(
            f"  {task}: {trained}; without a label for it (not used for it): {integer(unlabelled.get('fit'))} training,"
            f" {integer(unlabelled.get('calibration'))} calibration, {integer(unlabelled.get('test'))} decided"
            + (f"; model holdout accuracy {percent(holdout.get('accuracy'))}" if holdout else "")
        )
        calibration = info["calibration"]
        counts = dict.fromkeys(_APPLIES, 0)
        for label in calibration["labels"].values():
            counts[label["applies"]] += 1
        pooled = calibration["pooled"]
        threshold = number(pooled.get("threshold"))
        lines.append(
            f"    calibrated on {integer(info.get('calibration_tickets'))} tickets: pooled threshold "
            f"{MISSING if threshold is None else f'{threshold:.4f}'}; labels on their own threshold "
            f"{counts['own']}, pooled {counts['pooled']}, always review {counts['always_review']}"
        )
    return lines


def _baseline_lines(result: Result) -> list[str]:
    baseline = result["baseline"]
    show = {"manual_minutes_per_ticket": lambda v: f"{integer(v)} min", "turnaround_minutes": duration,
            "error_rate": percent}  # fmt: skip
    lines = ["Baseline (what `triage report` compares against):"]
    for figure, entry in baseline["policy"].items():
        measured = baseline["measured"].get(figure)
        now = f"  {figure}: {show[figure](entry['value'])} in the policy ({entry['source']})"
        lines.append(now + (f"; measured {show[figure](measured['value'])}" if measured else ""))
    lines += [f"  note: {note}" for note in baseline.get("notes", [])]
    return lines


# --------------------------------------------------------------------------------------------- terminal


def terminal(result: Result) -> str:
    """The summary: what each mode would have done, against people; per task and label; training; baseline."""
    lines = [*_headline(result), ""]
    bar = number(result.get("bar")) or 0.0
    lines.append(
        f"What Triage Gate would have done on the {integer(result['split']['test']['tickets'])} newest tickets "
        f"(error tolerance {percent(result.get('tolerance'))}: applied precision must reach {percent(bar)}):"
    )
    lines += text_table([title for title, _ in _MODE_COLUMNS], _mode_rows(result))
    lines += ["", f"Next: {result['next_step']}" if result.get("next_step") else "", *_notes(result)]
    lines += ["", "Week by week (auto mode):"]
    lines += text_table(_WEEK_HEADER, _week_rows(result))
    reasons = ranked_counts(result.get("review_reasons"))
    shown_reasons = ", ".join(f"{code} {count}" for code, count in reasons[:_TOP_REASONS]) or "none"
    lines += [f"Why tickets went to review (a ticket can have several): {shown_reasons}"]
    lines += ["", *terminal_lines(_LANGUAGE_TITLE, BACKTEST_HEADER, backtest_rows(result.get("languages") or []))]
    lines += ["", *terminal_lines(_LANGUAGE_TASK_TITLE, *language_task_rows(result.get("languages") or []))]
    lines += ["", "Per task (applied tickets against the person's final label):"]
    lines += text_table(_TASK_HEADER, _task_rows(result))
    for task in result["tasks"]:
        lines += ["", f"Per label ({task}; decided tickets, threshold from the calibration window):"]
        lines += text_table(_LABEL_HEADER, _label_rows(result, task))
        lines += [f"  {line}" for line in _review_reasons(result, task)]
    lines += ["", "Training and calibration (on the training window only):", *_training_lines(result), ""]
    lines += _baseline_lines(result)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- HTML


_CSS = f"""
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:24px auto;
max-width:1200px;padding:0 16px}}
h1{{font-size:22px;margin:0 0 4px}}h2{{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}}
.meta{{color:#616e7c;margin:0 0 12px}}
{TABLE_CSS}{FIGURE_CSS}.scroll{{overflow-x:auto}}
{SVG_CSS}ul.notes li{{margin:2px 0}}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _weekly_svgs(result: Result) -> str:
    weeks = result["weeks"]
    scale = float(max((w["tickets"] for w in weeks), default=0))
    applied = [(w["week"], float(w["confident"]), f"{w['confident']} of {w['tickets']}") for w in weeks]
    reviews = [(w["week"], float(w["reviews"]), f"{w['reviews']} of {w['tickets']}") for w in weeks]
    saved = [(w["week"], float(w["hours_recovered"]), hours(w["hours_recovered"])) for w in weeks]
    return "".join(
        f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"
        for svg, caption in (
            (bar_svg("Auto mode: applied per week", applied, scale, GREEN), "Bars on the week's ticket count."),
            (bar_svg("Auto and assist: reviews per week", reviews, scale, ORANGE), "Sent to review in Slack."),
            (bar_svg("Auto mode: hours recovered per week", saved, max((v for _, v, _ in saved), default=0), BLUE),
             "Confirmed applied tickets x the stated manual minutes."),
        )
    )  # fmt: skip


def _label_svg(result: Result, task: str) -> str:
    items = []
    for label, scores in result["tasks"][task]["per_label"].items():
        applied = scores["applied"]
        if applied.get("n"):
            items.append((label, float(applied["precision"]), wilson_text(applied)))
    return bar_svg(f"{task}: precision of applied tickets per label", items, 1.0, BLUE)


def render_html(result: Result) -> str:
    """The report page as a string (see :func:`write_html`)."""
    title = f"Triage backtest: {result['workflow']}"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><h1>{escape(title)}</h1>",
        *(f'<p class="meta">{escape(line)}</p>' for line in _headline(result)),
        "<h2>What Triage Gate would have done</h2>",
        _table([title for title, _ in _MODE_COLUMNS], _mode_rows(result)),
        f"<p><strong>Next:</strong> {escape(str(result.get('next_step') or ''))}</p>",
        '<ul class="notes">',
        *(f"<li>{escape(name)}: {escape(mode['meaning'])}</li>" for name, mode in result["modes"].items()),
        *(f"<li>{escape(line)}</li>" for line in _notes(result)),
        "</ul><h2>Week by week (decided window)</h2><div class=grid>",
        _weekly_svgs(result),
        "</div>",
        _table(_WEEK_HEADER, _week_rows(result)),
        "<h2>Why tickets went to review</h2>",
        _table(["reason code", "tickets"], [[code, str(n)] for code, n in ranked_counts(result.get("review_reasons"))]),
        f"<h2>By language</h2><p class=meta>{escape(_LANGUAGE_TITLE)}</p>",
        html_table(BACKTEST_HEADER, backtest_rows(result.get("languages") or [])),
        f"<p class=meta>{escape(_LANGUAGE_TASK_TITLE)}</p>",
        html_table(*language_task_rows(result.get("languages") or [])),
        "<h2>Per task</h2>",
        _table(_TASK_HEADER, _task_rows(result)),
    ]
    for task in result["tasks"]:
        parts += [
            f"<h2>Per label: {escape(task)}</h2><div class=grid><div>",
            _table(_LABEL_HEADER, _label_rows(result, task)),
            '<ul class="notes">',
            *(f"<li>{escape(line)}</li>" for line in _review_reasons(result, task)),
            f"</ul></div><figure>{_label_svg(result, task)}</figure></div>",
        ]
    parts += ["<h2>Training and calibration</h2><ul class=notes>"]
    parts += [f"<li>{escape(line.strip())}</li>" for line in _training_lines(result)]
    parts += ["</ul><h2>Baseline</h2><ul class=notes>"]
    parts += [f"<li>{escape(line.strip())}</li>" for line in _baseline_lines(result)[1:]]
    parts.append("</ul></body></html>\n")
    return "".join(parts)


def write_html(out_dir: Path, result: Result) -> Path:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/backtest.json``; returns the page's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    (out_dir / "backtest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return page
