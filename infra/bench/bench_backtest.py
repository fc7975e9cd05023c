"""Benchmark: `triage backtest` on a 50,000-ticket history, local model, beside its floor measured in the same run.

The history is generated in a temporary directory from the project's own seed examples (infra/seed/*.csv,
zendesk-support): every text varied (greetings, sign-offs, filler sentences, dropped words, reference numbers),
created over 26 weeks, a person assigning each after a log-normal delay, 8 % re-routed, 1.5 % of final
categories differing from what the text says. It works on a fresh clone; ../shared/data is not needed.

- **backtest**: `triage backtest DIR --workflow zendesk-support --model local --out REPORT` through the CLI
  (reading, the time split, training per task, pooled calibration, deciding through TriageService, report).
- **floor**: the same split with the training code alone: train each task's model on the same fit window and
  predict the calibration and test windows with the model's own ``predict`` (no decision pipeline).

Times are medians of ``--repeat`` runs (default 1: one run each, as printed). Not a pass/fail test.

    .venv/bin/python infra/bench/bench_backtest.py [--tickets 50000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT / "infra" / "tools")]

from triage_tools.history.files import HistoryTicket, ticket_columns  # noqa: E402

SEED_CSV = ROOT / "infra" / "seed" / "zendesk-support.csv"
TASKS = ("category", "priority")
WORKFLOW = "zendesk-support"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WEEKS = 26
GREETINGS = ("", "Hi, ", "Hello team, ", "Good morning, ", "Hey support, ", "Dear team, ")
SIGN_OFFS = ("", " Thanks!", " Regards, Sam.", " Any update?", " Please advise.", " Cheers, Priya.")
FILLERS = (
    "", " I tried again this morning.", " This is the second time I write.", " We are on the team plan.",
    " My colleague has the same issue.", " Screenshot attached.", " Not sure who to ask.",
)  # fmt: skip


def _vary(text: str, rng: random.Random) -> str:
    words = [w for w in text.split() if rng.random() > 0.1 or len(text.split()) < 6]
    return (
        f"{rng.choice(GREETINGS)}{' '.join(words)}{rng.choice(FILLERS)}{rng.choice(SIGN_OFFS)}"
        f" (ref {rng.randint(10_000, 99_999)})"
    )


def generate(directory: Path, count: int, seed: int = 0) -> None:
    """tickets.csv (in no particular order) and baseline.json for ``count`` varied seed tickets."""
    rng = random.Random(seed)
    with SEED_CSV.open(newline="", encoding="utf-8") as handle:
        seeds = list(csv.DictReader(handle))
    categories = sorted({row["category"] for row in seeds})
    span = WEEKS * 7 * 86400
    tickets = []
    for i in range(count):
        row = rng.choice(seeds)
        created = START + timedelta(seconds=span * i / count + rng.random())
        category = rng.choice(categories) if rng.random() < 0.015 else row["category"]
        tickets.append(
            HistoryTicket(
                id=str(100_000 + i), created_at=created, subject="", text=_vary(row["text"], rng),
                labels={"category": category, "priority": row["priority"]}, unmapped={},
                first_assigned_at=created + timedelta(minutes=rng.lognormvariate(4.2, 1.1)),
                rerouted=rng.random() < 0.08,
            )
        )  # fmt: skip
    rng.shuffle(tickets)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ticket_columns(TASKS))
        writer.writeheader()
        writer.writerows(t.row(TASKS) for t in tickets)
    (directory / "baseline.json").write_text(json.dumps(_baseline(tickets)), encoding="utf-8")


def _baseline(tickets: list[HistoryTicket]) -> dict[str, object]:
    minutes = sorted((t.first_assigned_at - t.created_at).total_seconds() / 60 for t in tickets if t.first_assigned_at)
    p50, p90 = (minutes[max(1, math.ceil(p * len(minutes) / 100)) - 1] for p in (50, 90))
    rerouted = sum(t.rerouted for t in tickets)
    return {
        "source": "zendesk", "workflow": WORKFLOW, "since": START.date().isoformat(),
        "until": (START + timedelta(weeks=WEEKS)).date().isoformat(), "pulled_at": datetime.now(UTC).isoformat(),
        "seen": len(tickets), "kept": len(tickets), "left_out": {}, "unmapped": {},
        "turnaround_minutes": {"n": len(minutes), "p50": p50, "p90": p90},
        "rerouting": {"n": len(tickets), "rerouted": rerouted, "rate": rerouted / len(tickets)},
        "weeks": [], "roi_baseline": {"turnaround_minutes": p50, "error_rate": rerouted / len(tickets)},
    }  # fmt: skip


def run_backtest(history: Path, out: Path) -> tuple[float, str]:
    from triage_tools.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["backtest", str(history), "--workflow", WORKFLOW, "--model", "local", "--out", str(out)])
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"backtest failed ({code}):\n{stderr.getvalue()[-2000:]}")
    return seconds, stdout.getvalue()


def run_floor(history: Path) -> float:
    """Train each task on the backtest's fit window; predict its calibration and test windows."""
    from triage_gate.policy import load_policy
    from triage_tools.backtest.history import load_history
    from triage_tools.backtest.split import split_by_time
    from triage_tools.training import train

    started = time.perf_counter()
    loaded = load_history(history, WORKFLOW, load_policy().workflows[WORKFLOW])
    split = split_by_time(loaded.tickets)
    for task in TASKS:
        fit = [t for t in split.fit if task in t.labels]
        model = train([t.text for t in fit], [t.labels[task] for t in fit], task=task)
        for ticket in [*split.calibration, *split.test]:
            model.predict(ticket.text)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, the median is printed (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as scratch:
        history = Path(scratch) / "history"
        started = time.perf_counter()
        generate(history, args.tickets)
        print(f"generated {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s ({history})")
        backtests, floors, summary = [], [], ""
        for i in range(args.repeat):
            seconds, summary = run_backtest(history, Path(scratch) / f"report-{i}")
            backtests.append(seconds)
            floors.append(run_floor(history))
        backtest, floor = statistics.median(backtests), statistics.median(floors)
        result = json.loads((Path(scratch) / "report-0" / "backtest.json").read_text())
    runs = "one run each" if args.repeat == 1 else f"median of {args.repeat} runs each"
    decided = result["split"]["calibration"]["tickets"] + result["split"]["test"]["tickets"]
    print(f"\nbacktest time on {args.tickets:,} tickets ({runs}):")
    print(f"  triage backtest (local model)         {backtest:7.1f} s   {args.tickets / backtest:7.0f} tickets/s")
    print(f"  floor: training + predict, same split {floor:7.1f} s   ({decided:,} tickets predicted per task)")
    print(f"  backtest / floor                      {backtest / floor:7.2f} x")
    auto = result["modes"]["auto"]
    print(
        f"  auto mode on the {result['split']['test']['tickets']:,} newest: coverage {auto['coverage']:.1%}, "
        f"precision {auto['precision']['precision']:.1%} (95% low {auto['precision']['wilson_low']:.1%})"
    )
    print("\n" + "\n".join(summary.splitlines()[:9]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
