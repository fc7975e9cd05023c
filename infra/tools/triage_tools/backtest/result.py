"""``backtest.json``: one JSON-ready dict with everything the terminal summary and ``report.html`` show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from triage_gate.policy import BaselineFigure, Policy
from triage_tools.backtest.baseline import history_words, measured_figures
from triage_tools.backtest.history import History
from triage_tools.backtest.languages import by_language
from triage_tools.backtest.measures import figures
from triage_tools.backtest.replay import Replay
from triage_tools.backtest.split import TimeSplit
from triage_tools.evaluation.calibration_report import proposal_dict
from triage_tools.history.files import HistoryTicket

SCHEMA_VERSION = 1


def _window(tickets: Sequence[HistoryTicket]) -> dict[str, Any]:
    if not tickets:
        return {"tickets": 0, "from": None, "to": None}
    return {
        "tickets": len(tickets),
        "from": tickets[0].created_at.isoformat(),
        "to": tickets[-1].created_at.isoformat(),
    }


def _tasks(history: History, replay: Replay) -> dict[str, Any]:
    out = {}
    for task, training in replay.training.items():
        out[task] = {
            "trained": training.trained,
            "note": training.note,
            "n_train": training.n_train,
            "labels_seen": training.labels_seen,
            "unlabelled": training.unlabelled,
            "empty_text": training.empty_text,
            "unknown_labels": history.unknown_labels.get(task, {}),
            "unmapped_in_history": history.baseline.get("unmapped", {}).get(task, {}),
            "model_holdout": training.metadata.get("holdout"),
            "calibration_tickets": replay.calibration_rows.get(task, 0),
            "calibration": proposal_dict(replay.proposals[task]),
        }
    return out


def _baseline(history: History, policy: Policy, workflow: str) -> dict[str, Any]:
    measured, notes = measured_figures(history.baseline)
    roi = policy.workflows[workflow].roi_baseline
    baseline = history.baseline
    return {
        "history": history_words(baseline),
        "source": baseline["source"],
        "since": baseline["since"],
        "until": baseline["until"],
        "seen": baseline.get("seen"),
        "kept": baseline["kept"],
        "left_out_at_pull": baseline.get("left_out", {}),
        "turnaround_minutes": baseline["turnaround_minutes"],
        "rerouting": baseline["rerouting"],
        "weeks": len(baseline.get("weeks", [])),
        "policy": {
            figure: {"value": getattr(roi, figure), "source": roi.source_of(figure)}
            for figure in get_args(BaselineFigure)
        },
        "measured": {figure: {"value": value, "source": source} for figure, (value, source) in measured.items()},
        "notes": [*notes, *baseline.get("notes", [])],
    }


def build_result(
    *,
    history: History,
    split: TimeSplit,
    replay: Replay,
    policy: Policy,
    policy_path: Path,
    workflow: str,
    model: str,
) -> dict[str, Any]:
    wf = policy.workflows[workflow]
    measured_rate = history.baseline["rerouting"].get("rate")
    measures = figures(replay.decided, wf, measured_rate)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workflow": workflow,
        "policy": {"path": str(policy_path), "version": policy.version, "sha256": policy.sha256},
        "model": model,
        "directory": str(history.directory),
        "tickets": len(history.tickets),
        "left_out": history.left_out,
        "split": {
            "train_share": split.train_share,
            "calibration_share": split.calibration_share,
            "fit": _window(split.fit),
            "calibration": _window(split.calibration),
            "test": _window(split.test),
        },
        "training": _tasks(history, replay),
        "baseline": _baseline(history, policy, workflow),
        "cost_usd": sum(d.cost_usd for d in replay.decided),
        **measures,
        "languages": by_language(replay.decided, list(wf.tasks), measures["bar"], measures["modes"]["auto"]["weeks"]),
        "next_step": next_step(measures["modes"]["auto"], workflow),
    }


def next_step(auto: dict[str, Any], workflow: str) -> str:
    """What the history says to do next. A backtest never replaces live evidence: the promotion gate still
    walks shadow → assist → auto on the live stack's own decisions (`triage rollout status`)."""
    verdict = auto["precision"]["verdict"]
    live = (
        f"Start {workflow} in shadow with this calibration (`triage calibrate --write` on the same labelled "
        "tickets), then let `triage rollout status` tell when live evidence carries it to assist and auto."
    )
    if verdict == "proven":
        return f"The history supports auto on {auto['coverage']:.0%} of tickets within the tolerance. {live}"
    if verdict == "within, not proven":
        return (
            f"Auto would have applied {auto['coverage']:.0%} of tickets within the tolerance, but too few to prove "
            f"it. {live}"
        )
    if verdict in ("below, not proven", "fails"):
        return (
            "Auto would have missed the error tolerance on this history: keep the workflow in shadow or assist, "
            "and look at the per-label table for the labels that pull precision down."
        )
    return (
        "Nothing would have cleared the bar on this history: keep the workflow in shadow or assist; more labelled "
        "history, or the policy's Claude routes (`--model policy`), may change that."
    )
