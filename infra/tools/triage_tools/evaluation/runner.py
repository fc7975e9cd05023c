"""Replay labelled examples through the production decision code (TriageService.decide: the same
guardrails, model routes and output checks — no second implementation) and collect EvalRows.

Model answers are cached on disk keyed by model + prompt (which includes the prompt version), so a
re-run is free and an interrupted run resumes; the same file replays as a recorded-responses set.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from triage_gate.adapters.language_detector import FastTextLanguageDetector
from triage_gate.errors import ModelUnavailable
from triage_gate.messages import TicketEvent
from triage_gate.policy import Policy, Route, Task, Workflow
from triage_gate.triage.answers import ModelResult, parse_recorded
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.ports import LocalModels, RemoteModel
from triage_gate.triage.prompt import Prompt
from triage_gate.triage.service import TriageService
from triage_tools.evaluation.dataset import Example
from triage_tools.evaluation.metrics import EvalRow
from triage_tools.memory import (
    InMemoryBreakerStore,
    InMemoryDecisionStore,
    InMemoryTicketClaims,
    RecordingQueue,
    StaticContext,
)


class _NoBudget:
    def spent(self, key: str) -> float:
        return 0.0

    def add(self, key: str, usd: float) -> None:
        return None


class _Auto:
    """Evaluate what the guardrails would do in auto mode, whatever the workflow's rollout mode."""

    def mode_for(self, *_args: object) -> str:
        return "auto"


class AnswerCache:
    """JSON lines {"key", "model", "input", "usage", "cost_usd", "latency_ms"}: a cache and a recording."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.answers: dict[str, dict[str, Any]] = {}
        if path and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.answers[entry["key"]] = entry

    @staticmethod
    def key(model: str, prompt: Prompt) -> str:
        return hashlib.sha256(f"{model}\n{prompt.system}\n{prompt.user}".encode()).hexdigest()

    def put(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.answers[entry["key"]] = entry
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")


class CachedRemote:
    """The real remote model behind the cache; with ``replay_only`` a miss is an error, never a call."""

    def __init__(self, inner: RemoteModel | None, cache: AnswerCache, *, replay_only: bool = False) -> None:
        self._inner = inner
        self._cache = cache
        self._replay_only = replay_only
        self.hits = self.calls = 0

    def enabled(self) -> bool:
        return self._replay_only or (self._inner is not None and self._inner.enabled())

    def classify(self, route_name: str, route: Route, prompt: Prompt, tasks: Mapping[str, Task]) -> ModelResult:
        model = route.model or route_name
        key = AnswerCache.key(model, prompt)
        entry = self._cache.answers.get(key)
        if entry is not None:
            self.hits += 1
            return ModelResult(
                route=route_name, model=model, answers=parse_recorded(entry["input"], tasks, list(tasks)),
                rationale=(entry["input"] or {}).get("rationale") if isinstance(entry["input"], dict) else None,
                raw=entry["input"], usage=entry.get("usage", {}), cost_usd=entry.get("cost_usd", 0.0),
                latency_ms=entry.get("latency_ms", 0.0),
            )  # fmt: skip
        if self._replay_only or self._inner is None:
            raise ModelUnavailable("no recorded answer for this prompt", kind="not_recorded")
        self.calls += 1
        result = self._inner.classify(route_name, route, prompt, tasks)
        self._cache.put(
            {"key": key, "model": model, "input": result.raw, "usage": result.usage, "cost_usd": result.cost_usd,
             "latency_ms": result.latency_ms}
        )  # fmt: skip
        return result


@dataclass
class EvalSetup:
    policy: Policy
    workflow: str
    task: str
    remote: RemoteModel | None
    local: LocalModels
    concurrency: int = 4


def with_route(policy: Policy, workflow_name: str, route: str) -> Policy:
    """The policy with every task of the workflow on ``route`` ("policy" keeps it as written)."""
    if route == "policy":
        return policy
    if route not in policy.routes:
        raise ValueError(f"unknown route {route!r}; the policy has {sorted(policy.routes)} (or use 'policy')")
    workflow = policy.workflows[workflow_name]
    tasks = {name: t.replace(**{"route": route, "route_rules": []}) for name, t in workflow.tasks.items()}
    workflows = {**policy.workflows, workflow_name: workflow.replace(**{"tasks": tasks})}
    return policy.replace(**{"workflows": workflows})


def run(setup: EvalSetup, examples: Iterable[Example], progress: bool = True) -> list[EvalRow]:
    """Decide every example; ``progress`` prints a progress line to stderr."""
    examples = list(examples)
    stream: TextIO | None = sys.stderr if progress and sys.stderr.isatty() else None
    workflow = setup.policy.workflows[setup.workflow]
    if setup.task not in workflow.tasks:
        raise ValueError(f"workflow {setup.workflow} has no task {setup.task!r} (tasks: {sorted(workflow.tasks)})")
    service = _service(setup, workflow, examples)
    done = [0]
    started = time.monotonic()
    lock = threading.Lock()

    def one(position: int) -> EvalRow:
        row = _evaluate(service, setup, workflow, examples[position], position)
        with lock:
            done[0] += 1
            if stream is not None and (done[0] % 25 == 0 or done[0] == len(examples)):
                rate = done[0] / max(time.monotonic() - started, 1e-6)
                stream.write(f"\r  {setup.workflow}: {done[0]}/{len(examples)} tickets ({rate:.0f}/s)")
                stream.flush()
        return row

    workers = setup.concurrency if setup.remote is not None and setup.remote.enabled() else 1
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(one, range(len(examples))))
    if stream is not None:
        stream.write("\n")
    return rows


# Every eval decision reads its ticket's language as production does (loaded at the first ticket).
LANGUAGE_DETECTOR = FastTextLanguageDetector()


def _service(setup: EvalSetup, workflow: Workflow, examples: list[Example]) -> TriageService:
    documents: dict[tuple[str, str], dict[str, Any]] = {
        (str(workflow.source), _ticket_id(position)): {
            "ticket": {"subject": ex.subject, "description": ex.text, "content": ex.text}
        }
        for position, ex in enumerate(examples)
    }
    deps = TriageDeps(
        policy=setup.policy,
        context=StaticContext(documents),
        remote=setup.remote,
        local=setup.local,
        breakers=InMemoryBreakerStore(),
        budgets=_NoBudget(),
        decisions=InMemoryDecisionStore(),
        actions=RecordingQueue(),
        exceptions=RecordingQueue(),
        claims=InMemoryTicketClaims(),
        languages=LANGUAGE_DETECTOR,
        rollout=_Auto(),
    )
    return TriageService(deps)


def _ticket_id(position: int) -> str:
    """Ticket ids are vendor ids (digits); the CSV's own row id stays on the result row."""
    return str(position + 1)


def _evaluate(service: TriageService, setup: EvalSetup, workflow: Workflow, example: Example, position: int) -> EvalRow:
    now = datetime.now(UTC)
    event = TicketEvent(
        source=workflow.source, account_id="eval", ticket_id=_ticket_id(position),
        event_type=workflow.classify_events[0],
        vendor_event_type="eval", event_id=example.row_id, occurred_at=now, received_at=now,
        dedupe_key=f"eval:{example.row_id}", subject=example.subject, text=example.text,
    )  # fmt: skip
    record = service.decide(event, setup.workflow, workflow)
    decision = record.tasks.get(setup.task)
    return EvalRow(
        row_id=example.row_id,
        truth=example.truth,
        predicted=decision.label if decision else None,
        confidence=decision.calibrated_confidence if decision else None,
        reported_confidence=decision.reported_confidence if decision else None,
        threshold=decision.threshold if decision else None,
        auto_applied=record.proposed_action == "apply",
        reason_codes=tuple(record.reason_codes),
        cost_usd=record.cost_usd,
        latency_ms=record.latency_ms.get("total", 0.0),
        model=decision.model if decision else "",
        language=record.language.code if record.language else None,
    )


Progress = Callable[[int, int], None]
