"""Train, calibrate and decide, through the production code.

Per task: the local model is trained on the fit window's labelled tickets (``triage_tools.training``), the
calibration window is decided on raw confidence and pooled-calibrated (``triage_tools.evaluation.calibrate``),
and the test window is decided by ``TriageService.decide`` with that calibration in force
(``triage_tools.evaluation.runner``: the same guardrails, routes, thresholds and rules as production).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from triage_gate.policy import Policy
from triage_gate.triage.ports import LocalModels, RemoteModel
from triage_tools.backtest.history import BacktestInputError
from triage_tools.backtest.split import TimeSplit
from triage_tools.evaluation import runner
from triage_tools.evaluation.calibrate import CalibrationProposal, min_samples_for, propose, task_tolerance
from triage_tools.evaluation.calibration_policy import apply_to_policy
from triage_tools.evaluation.dataset import Example
from triage_tools.evaluation.metrics import EvalRow
from triage_tools.history.files import HistoryTicket

Say = Callable[[str], None]


@dataclass
class ReplaySetup:
    policy: Policy  # the model route already chosen (runner.with_route)
    workflow: str
    remote: RemoteModel | None
    local: LocalModels
    models_dir: Path
    concurrency: int = 4
    progress: bool = True
    say: Say = field(default=lambda _message: None)


@dataclass(frozen=True)
class TaskTraining:
    task: str
    trained: bool
    n_train: int  # labelled tickets with text in the fit window
    labels_seen: list[str]
    unlabelled: dict[str, int]  # window → tickets without a label for this task (not used for it)
    empty_text: int  # labelled fit tickets without text (not trained on)
    model_path: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # why the policy's own model is used instead


@dataclass(frozen=True)
class Decided:
    """One test-window ticket as production would have decided it."""

    ticket: HistoryTicket
    applied: bool  # every guardrail passed: auto applies it, assist writes it as a suggestion, shadow records it
    predicted: dict[str, str | None]
    confidence: dict[str, float | None]  # calibrated
    reason_codes: tuple[str, ...]
    latency_ms: float
    cost_usd: float
    language: str | None = None  # the language the decision record counted (None: not read)


@dataclass
class Replay:
    training: dict[str, TaskTraining]
    proposals: dict[str, CalibrationProposal]
    calibration_rows: dict[str, int]  # task → labelled calibration tickets
    decided: list[Decided]
    policy: Policy  # trained models and calibration in force


def _unlabelled(split: TimeSplit, task: str) -> dict[str, int]:
    windows = {"fit": split.fit, "calibration": split.calibration, "test": split.test}
    return {name: sum(1 for t in tickets if task not in t.labels) for name, tickets in windows.items()}


def train_models(setup: ReplaySetup, split: TimeSplit) -> dict[str, TaskTraining]:
    """One local model per task on the fit window; a task without two labels there keeps the policy's model."""
    from triage_tools.training import train

    workflow = setup.policy.workflows[setup.workflow]
    setup.models_dir.mkdir(parents=True, exist_ok=True)
    trainings = {}
    for task, spec in workflow.tasks.items():
        labelled = [t for t in split.fit if task in t.labels]
        with_text = [t for t in labelled if t.text.strip()]
        labels = sorted({t.labels[task] for t in with_text})
        common = TaskTraining(task, False, len(with_text), labels, _unlabelled(split, task),
                              len(labelled) - len(with_text), spec.local_model)  # fmt: skip
        if len(labels) < 2:
            if not spec.local_model:
                raise BacktestInputError(
                    f"task {task}: the training window has {len(with_text)} labelled tickets with {len(labels)} "
                    "distinct label(s); a model needs 2, and the policy has no local_model to fall back on"
                )
            note = (
                f"{len(with_text)} labelled tickets with {len(labels)} label(s) in the training window: "
                "kept the policy's model"
            )
            trainings[task] = replace(common, note=note)
            continue
        setup.say(f"training {task} on {len(with_text)} tickets ({len(labels)} labels)")
        model = train([t.text for t in with_text], [t.labels[task] for t in with_text], task=task,
                      workflow=setup.workflow)  # fmt: skip
        path = setup.models_dir / f"{setup.workflow}.{task}.json"
        model.save(path)
        trainings[task] = replace(common, trained=True, model_path=str(path.resolve()), metadata=model.metadata)
    return trainings


def _with_models(policy: Policy, workflow_name: str, trainings: dict[str, TaskTraining]) -> Policy:
    """The policy with each trained model in place and no calibration (the raw confidence is calibrated next)."""
    workflow = policy.workflows[workflow_name]
    tasks = {}
    for name, spec in workflow.tasks.items():
        update: dict[str, Any] = {"calibration": {}, "calibration_default": None}
        if trainings[name].trained:
            update["local_model"] = trainings[name].model_path  # absolute: Policy.model_path keeps it as is
        tasks[name] = spec.replace(**update)
    workflows = {**policy.workflows, workflow_name: workflow.replace(**{"tasks": tasks})}
    return policy.replace(**{"workflows": workflows})


def _examples(tickets: Sequence[HistoryTicket], task: str) -> list[Example]:
    """Every ticket, its human label as the truth ("" when it has none: decided, never scored for the task)."""
    return [Example(t.id, t.text, t.labels.get(task, ""), t.subject or None) for t in tickets]


def _run(setup: ReplaySetup, policy: Policy, task: str, examples: list[Example]) -> list[EvalRow]:
    evaluation = runner.EvalSetup(policy, setup.workflow, task, setup.remote, setup.local, setup.concurrency)
    return runner.run(evaluation, examples, progress=setup.progress)


def calibrate(
    setup: ReplaySetup, policy: Policy, split: TimeSplit
) -> tuple[Policy, dict[str, CalibrationProposal], dict[str, int]]:
    """Decide the calibration window's labelled tickets on raw confidence, then pool-calibrate each task."""
    workflow = policy.workflows[setup.workflow]
    tolerance = task_tolerance(workflow)
    needed = min_samples_for(tolerance)
    proposals, counts = {}, {}
    calibrated = policy
    for task, spec in workflow.tasks.items():
        labelled = [t for t in split.calibration if task in t.labels]
        counts[task] = len(labelled)
        setup.say(f"calibrating {task} on {len(labelled)} labelled tickets")
        rows = _run(setup, policy, task, _examples(labelled, task)) if labelled else []
        review = workflow.rules.always_review.get(task, [])
        proposals[task] = propose(rows, list(spec.labels), tolerance, needed, always_review=review)
        calibrated = apply_to_policy(calibrated, setup.workflow, task, proposals[task])
    return calibrated, proposals, counts


def decide(setup: ReplaySetup, policy: Policy, tickets: Sequence[HistoryTicket]) -> list[Decided]:
    """Every test ticket decided once per task pass (the runner scores one task at a time); the ticket is applied
    only when every pass applied it (they agree: the same decision code on the same input)."""
    tasks = list(policy.workflows[setup.workflow].tasks)
    passes: dict[str, list[EvalRow]] = {}
    for task in tasks:
        setup.say(f"deciding {len(tickets)} tickets ({task})")
        passes[task] = _run(setup, policy, task, _examples(tickets, task))
    decided = []
    for i, ticket in enumerate(tickets):
        rows = {task: passes[task][i] for task in tasks}
        first = rows[tasks[0]]
        decided.append(
            Decided(
                ticket=ticket, applied=all(r.auto_applied for r in rows.values()),
                predicted={task: r.predicted for task, r in rows.items()},
                confidence={task: r.confidence for task, r in rows.items()},
                reason_codes=first.reason_codes, latency_ms=first.latency_ms, cost_usd=first.cost_usd,
                language=first.language,
            )
        )  # fmt: skip
    return decided


def replay(setup: ReplaySetup, split: TimeSplit) -> Replay:
    trainings = train_models(setup, split)
    policy = _with_models(setup.policy, setup.workflow, trainings)
    calibrated, proposals, counts = calibrate(setup, policy, split)
    return Replay(trainings, proposals, counts, decide(setup, calibrated, split.test), calibrated)
