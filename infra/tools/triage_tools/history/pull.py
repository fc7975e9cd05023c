"""One history pull, start to finish: pages → staged rows (state saved after each) → tickets.csv → baseline.json.

Resumable at any point: the state file records the export's position and the staging file's length after
each page, so re-running the same command after Ctrl-C or a crash continues from the last saved page and
ends with exactly the files an uninterrupted pull writes. A finished pull removes both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from triage_gate.policy import Workflow
from triage_tools.history.baseline import measure
from triage_tools.history.files import BASELINE_FILE, TICKETS_FILE, Baseline
from triage_tools.history.mapping import task_mappings
from triage_tools.history.progress import Progress
from triage_tools.history.source import HistorySource
from triage_tools.history.staging import OUTSIDE_WINDOW, RowMaker, Staging
from triage_tools.history.state import PullState, load_state, remove_state, save_state


class PullUsageError(ValueError):
    """The command cannot run as given (another pull's state in DIR, a finished pull there)."""


@dataclass(frozen=True)
class PullPlan:
    source: str
    workflow_name: str
    workflow: Workflow
    pii_patterns: dict[str, str]
    policy_sha256: str
    since: datetime
    until: datetime
    out: Path
    overwrite: bool = False

    def identity(self) -> PullState:
        return PullState(
            source=self.source,
            workflow=self.workflow_name,
            since=self.since.isoformat(),
            until=self.until.isoformat(),
            policy_sha256=self.policy_sha256,
        )


@dataclass(frozen=True)
class PullResult:
    baseline: Baseline
    resumed: bool
    pages: int
    fetched: int


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_pull(
    plan: PullPlan,
    history: HistorySource,
    progress: Progress,
    *,
    now: Callable[[], datetime] = utc_now,
    on_page: Callable[[PullState], None] | None = None,
) -> PullResult:
    """Pull (or resume) into ``plan.out``. ``on_page`` runs after each page's state is saved (tests use it to
    interrupt a pull exactly there)."""
    plan.out.mkdir(parents=True, exist_ok=True)
    state, resumed = _start(plan, now)
    maker = RowMaker(task_mappings(plan.workflow), plan.pii_patterns, since=plan.since, until=plan.until)
    staging = Staging(plan.out, maker.columns)
    staging.open_at(state.staged_bytes)
    if not state.complete:
        progress.begin(state.fetched, state.progress)
        for page in history.pages(state.position):
            state.staged_bytes = staging.append([maker.row(ticket) for ticket in page.tickets])
            state.position, state.progress, state.complete = page.position, page.progress, page.last
            state.pages += 1
            state.fetched += len(page.tickets)
            save_state(plan.out, state)
            progress.update(state.fetched, state.progress)
            if on_page is not None:
                on_page(state)
        state.complete = True
        save_state(plan.out, state)
    counts = staging.finalize(plan.out)
    reasons = (*history.left_out_reasons, OUTSIDE_WINDOW)
    left_out = {reason: counts.left_out.get(reason, 0) for reason in reasons} | counts.left_out
    identity = {"source": plan.source, "workflow": plan.workflow_name, "since": plan.since.date().isoformat(),
                "until": plan.until.date().isoformat(), "pulled_at": now().isoformat(timespec="seconds")}  # fmt: skip
    notes = [*history.notes, _window_note(plan)]
    baseline = measure(plan.out, maker.tasks, identity=identity, seen=counts.seen, left_out=left_out, notes=notes)
    _write_json(plan.out / BASELINE_FILE, baseline)
    staging.remove()
    remove_state(plan.out)
    progress.finish(state.fetched)
    return PullResult(baseline, resumed, state.pages, state.fetched)


def _start(plan: PullPlan, now: Callable[[], datetime]) -> tuple[PullState, bool]:
    """The saved state of this same pull (resume), or a fresh one; refuses another pull's state."""
    wanted = plan.identity()
    saved = load_state(plan.out)
    if saved is not None:
        differences = saved.differences(wanted)
        if differences:
            raise PullUsageError(
                f"{plan.out} holds an unfinished pull of another command ({'; '.join(differences)}). "
                "Re-run that command to finish it, or use another --out directory."
            )
        return saved, True
    if (plan.out / TICKETS_FILE).exists() and not plan.overwrite:
        raise PullUsageError(
            f"{plan.out} already holds a finished pull ({TICKETS_FILE}); use --overwrite or another --out"
        )
    wanted.started_at = now().isoformat(timespec="seconds")
    save_state(plan.out, wanted)
    return wanted, False


def _window_note(plan: PullPlan) -> str:
    return (
        f"window: tickets created in [{plan.since.isoformat()}, {plan.until.isoformat()}); tickets the export "
        f"returned that were created outside it (updated since, created before) are counted as {OUTSIDE_WINDOW}"
    )


def _write_json(path: Path, document: object) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
