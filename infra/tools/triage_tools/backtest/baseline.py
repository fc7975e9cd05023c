"""`triage backtest --write-baseline`: the measured manual baseline into the policy's ``roi_baseline``, each figure
with where it came from (``roi_baseline.sources``), so `triage report` compares against measurements.

``turnaround_minutes`` ← the history's p50 from creation to the first assignment; ``error_rate`` ← its re-routing
rate. ``manual_minutes_per_ticket`` stays as the team stated it: a help desk's history has no handling time.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml

from triage_gate.display import number
from triage_gate.policy import BaselineFigure, Policy
from triage_tools.evaluation.calibration_policy import policy_yaml, unified_diff
from triage_tools.history.files import Baseline

Measured = dict[BaselineFigure, tuple[float, str]]


def history_words(baseline: Baseline) -> str:
    """``zendesk history 2026-06-01..2026-09-01, 4812 tickets``."""
    return f"{baseline['source']} history {baseline['since']}..{baseline['until']}, {baseline['kept']} tickets"


def measured_figures(baseline: Baseline) -> tuple[Measured, list[str]]:
    """(figure → (value, provenance) for what baseline.json measured, notes on what it could not measure)."""
    where = f"measured: {history_words(baseline)}"
    stated = baseline["roi_baseline"]
    figures: Measured = {}
    notes = []
    turnaround = number(stated.get("turnaround_minutes"))
    quantiles = baseline["turnaround_minutes"]
    if turnaround is None:
        notes.append("turnaround_minutes not measured: no ticket in the history has a first assignment time")
    else:
        figures["turnaround_minutes"] = (
            round(turnaround, 1),
            f"{where}, p50 creation → first assignment over {quantiles['n']} tickets",
        )
    error = number(stated.get("error_rate"))
    rate = baseline["rerouting"]
    if error is None:
        notes.append("error_rate not measured: no ticket in the history was routed by a person")
    else:
        figures["error_rate"] = (
            round(error, 4),
            f"{where}, re-routed after the first assignment: {rate['rerouted']} of {rate['n']}",
        )
    return figures, notes


def baseline_change(policy_path: Path, workflow: str, figures: Measured) -> tuple[str, str]:
    """(the new policy text, a unified diff). Comments are kept (ruamel); other sources are left as they are.

    Raises ValueError when the result would not be a valid policy (it is never written then)."""
    from ruamel.yaml.comments import CommentedMap

    round_trip = policy_yaml()
    original = policy_path.read_text(encoding="utf-8")
    data: Any = round_trip.load(original)
    spec = data["workflows"][workflow]
    roi = spec.get("roi_baseline")
    if roi is None:
        roi = spec["roi_baseline"] = CommentedMap()
    sources = roi.get("sources")
    if sources is None:
        sources = roi["sources"] = CommentedMap()
    for figure, (value, provenance) in figures.items():
        roi[figure] = value
        sources[figure] = provenance
    roi.fa.set_block_style()  # a provenance sentence per figure does not fit a one-line mapping
    sources.fa.set_block_style()
    out = io.StringIO()
    round_trip.dump(data, out)
    changed = out.getvalue()
    _validate(changed, policy_path)
    return changed, unified_diff(policy_path, original, changed, "measured baseline")


def _validate(text: str, policy_path: Path) -> None:
    from triage_gate.records import ValidationError, describe_error

    data = {**yaml.safe_load(text), "base_dir": str(policy_path.resolve().parent)}
    try:
        Policy.from_data(data)
    except ValidationError as exc:
        raise ValueError(describe_error(exc, data, Policy, prefix=str(policy_path))) from exc
