"""What the load test prints: each pass's accounting, then the passes' figures side by side with the targets."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from loadtest_accounting import Accounting, percentile
from loadtest_send import Sender

P95_TARGET_MS = 121_000 / 2  # half the end-to-end p95 measured before worker pools and TCP_NODELAY (README)
CORES = 2  # the machine the README's figures come from
MIB = 1024


@dataclass(frozen=True)
class FunctionFigures:
    """What one function's workers did during a burst."""

    name: str
    invocations: int
    cpu_seconds: float  # summed over its workers (those started during the burst count whole)
    busy_seconds: float  # wall time in invocations, summed over its workers
    peak_rss_kib: int  # the largest worker's VmHWM
    workers: int  # started by the end of the burst
    max_workers: int  # N
    memory_mb: int  # the template's MemorySize

    @property
    def short(self) -> str:
        return self.name.removesuffix("Function")


@dataclass
class PassResult:
    label: str
    accounting: Accounting
    sender: Sender
    send_seconds: float
    drain_seconds: float
    drained: bool
    wall_seconds: float  # from the first request sent until the queues drained
    functions: dict[str, FunctionFigures]
    depths: dict[str, Any]
    aws_cpu_seconds: float | None  # the embedded moto server's
    self_cpu_seconds: float  # this process: senders, gateway, pollers, sandboxes
    slack_posts: int
    vendor_calls: dict[str, Counter[str]]  # sandbox -> requests by HTTP method

    def p(self, pct: float) -> float:
        return percentile(self.accounting.latencies_ms, pct)

    @property
    def events_per_second(self) -> float:
        return self.accounting.sent_events / self.send_seconds

    @property
    def busy_functions(self) -> list[FunctionFigures]:
        return [f for f in self.functions.values() if f.invocations]


def print_pass(result: PassResult) -> None:
    acc = result.accounting
    tally, fates = acc.tally, acc.fates
    print(f"\n=== {result.label} per function: intake (HTTP answers)")
    retried = dict(result.sender.retries)
    print(f"  requests by status: {dict(sorted(tally.http.items()))}; retried after 5xx/errors: {retried}")
    for reason, n in sorted(tally.reasons.items()):
        print(f"    {n:5d} x {reason}")
    twice = f"; accepted twice: {tally.accepted_twice}" if tally.accepted_twice else ""
    print(f"  per event: {dict(tally.outcome)}{twice}")
    print("What became of the accepted events")
    for name, n in sorted(fates.detail.items()):
        print(f"  {n:6d}  {name}")
    if fates.fate["decided but never routed"]:
        print(f"  {fates.fate['decided but never routed']:6d}  decided but never routed (counted unaccounted)")
    extra_records = len(set(acc.records) - set(tally.accepted))
    if extra_records:
        print(f"  ({extra_records} decision records not from this run's accepted events: the warm-up)")
    print(f"Queues after the run: {json.dumps({k: v['visible'] + v['in_flight'] for k, v in result.depths.items()})}")
    print(f"Slack messages posted (review cases): {result.slack_posts}")
    calls = {name: dict(sorted(methods.items())) for name, methods in result.vendor_calls.items() if methods}
    print(f"Vendor API requests by method: {json.dumps(calls)}")
    print(f"check: {acc.check_line()}")
    if sum(tally.outcome.values()) != acc.sent_events:
        print(f"  note: intake answered for {sum(tally.outcome.values()):,} of {acc.sent_events:,} events")
    if fates.unaccounted:
        print(f"  accepted but with no routed decision, DLQ entry or not-classified reason: {fates.unaccounted[:5]}")


Row = tuple[str, list[str], str, bool | None]


def print_side_by_side(results: list[PassResult]) -> None:
    rows = _pipeline_rows(results) + _function_rows(results) + _machine_rows(results)
    labels = [f"{r.label} per function" for r in results]
    width = max(len(r[0]) for r in rows) + 2
    columns = [max(len(label), *(len(r[1][i]) for r in rows)) + 2 for i, label in enumerate(labels)]
    print()
    print(
        f"{'figure':<{width}}" + "".join(f"{label:<{w}}" for label, w in zip(labels, columns, strict=True)) + "target"
    )
    print("-" * (width + sum(columns) + 24))
    for name, values, target, met in rows:
        cells = "".join(f"{v:<{w}}" for v, w in zip(values, columns, strict=True))
        mark = "" if met is None else ("  yes" if met else "  NO")
        print(f"{name:<{width}}{cells}{target}{mark}")
    missed = [name.strip() for name, _, _, met in rows if met is False]
    print("NOT MET: " + ", ".join(missed) if missed else "ALL TARGETS MET")


def _pipeline_rows(results: list[PassResult]) -> list[Row]:
    last = results[-1]
    ms = "{:,.0f} ms".format
    return [
        ("workers per function (max)", [_workers(r) for r in results], "", None),
        ("events sent", [f"{r.accounting.sent_events:,}" for r in results], ">= 2,000",
         all(r.accounting.sent_events >= 2000 for r in results)),
        ("unaccounted events", [f"{r.accounting.lost:,}" for r in results], "0",
         all(r.accounting.complete for r in results)),
        ("duplicate write-backs (AI notes)", [f"{r.accounting.duplicate_notes} of {r.accounting.notes_total}"
                                              for r in results], "0",
         all(r.accounting.duplicate_notes == 0 for r in results)),
        ("notes without an apply decision", [str(r.accounting.stray_notes) for r in results], "0",
         all(r.accounting.stray_notes == 0 for r in results)),
        ("intake events/s (requests/s)", [f"{r.events_per_second:,.1f} ({r.accounting.requests / r.send_seconds:,.1f})"
                                          for r in results], "-", None),
        ("send phase", [f"{r.send_seconds:,.1f} s" for r in results], "-", None),
        ("end-to-end p50", [ms(r.p(50)) for r in results], "-", None),
        ("end-to-end p95", [ms(r.p(95)) for r in results], f"<= {P95_TARGET_MS / 1000:.1f} s (N workers)",
         last.p(95) <= P95_TARGET_MS),
        ("end-to-end p99", [ms(r.p(99)) for r in results], "-", None),
        ("  decisions timed", [f"{len(r.accounting.latencies_ms):,}" for r in results], "", None),
        ("drain after the burst", [f"{r.drain_seconds:,.1f} s" + ("" if r.drained else " (TIMED OUT)")
                                   for r in results], "drains", all(r.drained for r in results)),
    ]  # fmt: skip


def _workers(result: PassResult) -> str:
    return ", ".join(f"{f.short} {f.workers} ({f.max_workers})" for f in result.busy_functions)


def _function_rows(results: list[PassResult]) -> list[Row]:
    names = sorted({f.name for r in results for f in r.busy_functions})
    rows: list[Row] = [("CPU per event sent (ms), per invocation", ["" for _ in results], "", None)]
    for name in names:
        cells = []
        for result in results:
            figures, events = result.functions.get(name), result.accounting.sent_events
            if figures is None or not figures.invocations:
                cells.append("-")
                continue
            per_call = figures.cpu_seconds / figures.invocations * 1000
            cells.append(f"{figures.cpu_seconds / events * 1000:.2f} ({per_call:.1f} x {figures.invocations:,})")
        rows.append((f"  {name.removesuffix('Function')}", cells, "", None))
    rows.append(("invocation duration, mean ms", ["" for _ in results], "", None))
    for name in names:
        cells = [_busy(result.functions.get(name)) for result in results]
        rows.append((f"  {name.removesuffix('Function')}", cells, "", None))
    rows.append(("peak RSS per worker (MiB; MemorySize)", ["" for _ in results], "", None))
    for name in names:
        cells = [_rss(result.functions.get(name)) for result in results]
        rows.append((f"  {name.removesuffix('Function')}", cells, "", None))
    return rows


def _busy(figures: FunctionFigures | None) -> str:
    if figures is None or not figures.invocations:
        return "-"
    return f"{figures.busy_seconds / figures.invocations * 1000:.0f}"


def _rss(figures: FunctionFigures | None) -> str:
    if figures is None or not figures.peak_rss_kib:
        return "unknown (no /proc)"
    return f"{figures.peak_rss_kib / MIB:.0f} of {figures.memory_mb}"


def _machine_rows(results: list[PassResult]) -> list[Row]:
    def cpu(result: PassResult) -> str:
        workers = sum(f.cpu_seconds for f in result.functions.values())
        aws = result.aws_cpu_seconds
        total = workers + (aws or 0.0) + result.self_cpu_seconds
        busy = total / result.wall_seconds / CORES
        moto = f"{aws:,.0f}" if aws is not None else "?"
        return f"{workers:,.0f} + moto {moto} + rest {result.self_cpu_seconds:,.0f} = {busy:.0%} of {CORES} cores"

    return [("CPU-s: workers + moto + rest", [cpu(r) for r in results], "", None)]
