"""A calibration proposal (:mod:`triage_tools.evaluation.calibrate`) put into the policy: in memory for the
backtest (:func:`apply_to_policy`) and into the file for `triage calibrate --write` (:func:`policy_change`, ruamel:
comments kept), both from the same :func:`settings_for`. Labels in ``rules.always_review`` are never removed."""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage_gate.policy import Policy, Thresholds
from triage_tools.evaluation.calibrate import CalibrationProposal, Point


@dataclass(frozen=True)
class TaskSettings:
    """What a proposal sets on a task: the same for the file (`policy_change`) and in memory (`apply_to_policy`)."""

    default: float | None  # the pooled threshold (None: keep the current default)
    per_label: dict[str, float]
    dropped_per_label: list[str]
    calibration: dict[str, list[Point]]
    calibration_default: list[Point] | None
    always_review_added: list[str]


def settings_for(proposal: CalibrationProposal) -> TaskSettings:
    per_label = {p.label: p.threshold for p in proposal.labels if p.own_threshold and p.threshold is not None}
    return TaskSettings(
        default=proposal.pooled.threshold,
        per_label={label: round(value, 4) for label, value in per_label.items()},
        dropped_per_label=[p.label for p in proposal.labels if p.label not in per_label],
        calibration={p.label: p.calibration for p in proposal.labels if p.own_evidence and p.calibration},
        calibration_default=proposal.pooled.calibration or None,
        always_review_added=[p.label for p in proposal.labels if p.applies == "always_review"],
    )


def apply_to_policy(policy: Policy, workflow: str, task: str, proposal: CalibrationProposal) -> Policy:
    """The policy with the proposal in force (what `policy_change` writes, in memory)."""
    wf = policy.workflows[workflow]
    spec = wf.tasks[task]
    change = settings_for(proposal)
    per_label = {k: v for k, v in spec.thresholds.per_label.items() if k not in change.dropped_per_label}
    thresholds = Thresholds(
        default=spec.thresholds.default if change.default is None else change.default,
        per_label={**per_label, **change.per_label},
    )
    new_task = spec.replace(**{"thresholds": thresholds, "calibration": change.calibration,
                "calibration_default": change.calibration_default}
    )  # fmt: skip
    review = dict(wf.rules.always_review)
    kept = list(review.get(task, []))
    review[task] = kept + [label for label in change.always_review_added if label not in kept]
    rules = wf.rules.replace(**{"always_review": review})
    new_wf = wf.replace(**{"tasks": {**wf.tasks, task: new_task}, "rules": rules})
    return policy.replace(**{"workflows": {**policy.workflows, workflow: new_wf}})


def policy_yaml() -> Any:
    """The round-trip YAML settings the shipped policy file is written in (so edits diff cleanly)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # flow collections stay on their line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def flow_points(points: Sequence[Point]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq([CommentedSeq(list(p)) for p in points])
    for point in seq:
        point.fa.set_flow_style()
    seq.fa.set_flow_style()
    return seq


def unified_diff(path: Path, original: str, changed: str, what: str) -> str:
    return "".join(
        difflib.unified_diff(original.splitlines(True), changed.splitlines(True), str(path), f"{path} ({what})")
    )


def policy_change(policy_path: Path, workflow: str, task: str, proposal: CalibrationProposal) -> tuple[str, str]:
    """(the new policy text, a unified diff against the current one). Comments are kept (ruamel)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = policy_yaml()
    original = policy_path.read_text(encoding="utf-8")
    data: Any = yaml.load(original)
    spec = data["workflows"][workflow]["tasks"][task]
    change = settings_for(proposal)
    thresholds = spec.setdefault("thresholds", CommentedMap())
    if change.default is not None:
        thresholds["default"] = change.default
    per_label = thresholds.setdefault("per_label", CommentedMap())
    for label in change.dropped_per_label:
        per_label.pop(label, None)
    per_label.update(change.per_label)
    calibration = CommentedMap()
    for label, points in change.calibration.items():
        calibration[label] = flow_points(points)
    spec["calibration"] = calibration
    if change.calibration_default:
        spec["calibration_default"] = flow_points(change.calibration_default)
    else:
        spec.pop("calibration_default", None)
    rules = data["workflows"][workflow].setdefault("rules", CommentedMap())
    always = rules.setdefault("always_review", CommentedMap())
    review = list(always.get(task, []) or [])  # business rules: never removed
    review += [label for label in change.always_review_added if label not in review]
    always[task] = CommentedSeq(review)
    always[task].fa.set_flow_style()
    out = io.StringIO()
    yaml.dump(data, out)
    changed = out.getvalue()
    return changed, unified_diff(policy_path, original, changed, "calibrated")
