"""Output guardrails, part one: turn a model's raw reply into per-task answers, or reason codes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec
from msgspec import field

from triage_gate.policy import Task
from triage_gate.triage import reasons
from triage_gate.triage.prompt import GIST_MAX_CHARS, Asks

Sentiment = Literal["negative", "neutral", "positive"]
_SENTIMENTS: dict[object, Sentiment] = {"negative": "negative", "neutral": "neutral", "positive": "positive"}


class TaskAnswer(msgspec.Struct, frozen=True):
    label: str | None
    confidence: float | None
    problem: str | None = None  # a reason code when the answer cannot be used


class ModelResult(msgspec.Struct):
    route: str
    model: str
    answers: dict[str, TaskAnswer]
    rationale: str | None = None
    raw: Any = None
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    note: str | None = None  # e.g. why a fallback was used


def parse_tool_input(raw: Any, tasks: Mapping[str, Task], wanted: Sequence[str]) -> dict[str, TaskAnswer]:
    """Validate the tool input against the taxonomy; never guess a default label."""
    if not isinstance(raw, dict):
        return {t: TaskAnswer(None, None, reasons.MALFORMED_OUTPUT) for t in wanted}
    return {task: _one(raw, task, tasks[task]) for task in wanted}


def parse_recorded(raw: Any, tasks: Mapping[str, Task], wanted: Sequence[str]) -> dict[str, TaskAnswer]:
    """A recorded raw output (tool input + ``stop_reason``): anything but a finished tool call answers nothing."""
    if isinstance(raw, dict) and raw.get("stop_reason") not in (None, "tool_use"):
        return {t: TaskAnswer(None, None, reasons.MODEL_OUTPUT_INCOMPLETE) for t in wanted}
    return parse_tool_input(raw, tasks, wanted)


class SideAnswers(msgspec.Struct, frozen=True):
    """What a call answered beside the tasks (gist, signals). None: not asked, or the answer was unusable (never an
    error for the tasks); ``unusable`` names the asked-for answers that came back missing or invalid."""

    gist: str | None = None
    sentiment: Sentiment | None = None
    urgent: bool | None = None
    unusable: tuple[str, ...] = ()


def parse_side_answers(raw: Any, asks: Asks) -> SideAnswers:
    """The optional answers from a raw output (tool input, ``stop_reason`` beside it when recorded). A reply that did
    not finish its tool call answers none of them."""
    finished = isinstance(raw, dict) and raw.get("stop_reason") in (None, "tool_use")
    given: Mapping[str, Any] = raw if finished else {}
    gist = given.get("gist")
    gist = gist.strip() if isinstance(gist, str) else None
    answers = SideAnswers(
        gist=gist if asks.gist and gist and len(gist) <= GIST_MAX_CHARS else None,
        sentiment=_SENTIMENTS.get(given.get("sentiment")) if asks.sentiment else None,
        urgent=given.get("urgent") if asks.urgent and isinstance(given.get("urgent"), bool) else None,
    )  # fmt: skip
    wanted = (("gist", asks.gist, answers.gist), ("sentiment", asks.sentiment, answers.sentiment),
              ("urgent", asks.urgent, answers.urgent))  # fmt: skip
    unusable = tuple(name for name, asked, value in wanted if asked and value is None)
    return SideAnswers(answers.gist, answers.sentiment, answers.urgent, unusable)


def _one(raw: Mapping[str, Any], task: str, spec: Task) -> TaskAnswer:
    label, confidence = raw.get(task), raw.get(f"{task}_confidence")
    if not isinstance(label, str) or not _is_probability(confidence):
        return TaskAnswer(label if isinstance(label, str) else None, None, reasons.MALFORMED_OUTPUT)
    probability = float(confidence)  # type: ignore[arg-type]  # checked by _is_probability
    if label not in spec.labels:
        return TaskAnswer(label, probability, reasons.LABEL_NOT_IN_TAXONOMY)
    return TaskAnswer(label, probability)


def _is_probability(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and 0.0 <= value <= 1.0
    )


def calibrate(confidence: float, points: Sequence[tuple[float, float]] | None) -> float:
    """Map a reported confidence to observed accuracy by piecewise-linear interpolation."""
    if not points:
        return confidence
    if confidence <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if confidence <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (confidence - x0) / (x1 - x0)
    return points[-1][1]
