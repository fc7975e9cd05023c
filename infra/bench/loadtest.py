"""``make loadtest``: a burst of signed webhooks through the local stack, on 1 and on N workers per function.

Each pass starts the sandboxed vendors (Zendesk, HubSpot, Slack, Anthropic) and the local runner (embedded moto
with IAM enforced), sends at least 2,000 webhook events over HTTP from a thread pool (Zendesk event-subscription
bodies and HubSpot batches of 10-50 events; 10% exact re-sends, 5% invalid), waits for the queues to drain and
accounts for every event from the HTTP answers, DecisionsTable and the DLQs. The first pass runs every function
on one worker process; the second on N, the template's concurrency (the SQS mappings' MaximumConcurrency,
reserved concurrency, else 2), scaled out as load needs them, as Lambda does. Printed side by side: intake
events/s, end-to-end p50/p95/p99, drain time, per-function CPU per event and peak RSS (the function workers',
read from /proc; moto's CPU is listed apart), next to the targets (0 unaccounted, 0 duplicate write-backs,
end-to-end p95 at most half the 121 s measured before worker pools and TCP_NODELAY). A benchmark: the exit
code is 0 whatever the figures; a "NOT MET" line says when a target is missed.

    python infra/bench/loadtest.py [--events 2000] [--senders 8] [--concurrency N] [--no-compare]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "infra" / "local"), str(ROOT / "layers" / "core")]

from loadtest_accounting import Accounting, account, dlq_keys, drain, notes_at_vendors, scan_items  # noqa: E402
from loadtest_plan import Plan, flags_document, seed  # noqa: E402
from loadtest_report import FunctionFigures, PassResult, print_pass, print_side_by_side  # noqa: E402
from loadtest_send import Sender, warm_up  # noqa: E402

from triage_gate.policy import load_policy  # noqa: E402
from triage_local import demo_data  # noqa: E402
from triage_local.runner import LocalRunner, RunnerConfig  # noqa: E402
from triage_local.sandboxes import Sandboxes  # noqa: E402
from triage_local.usage import process_usage  # noqa: E402

RETRY_DELAY_SECONDS = 10  # failed SQS records reappear after 10 s instead of the template's 360-540 s
LOG_PATH = ROOT / ".triage" / "loadtest.log"


@dataclass(frozen=True)
class Settings:
    events: int
    senders: int
    drain_timeout: float
    seed: int
    secrets: dict[str, str]
    policy: Any


def _secrets() -> dict[str, str]:
    return {
        "ZENDESK_WEBHOOK_SECRET": "loadtest-zendesk-" + uuid.uuid4().hex,
        "HUBSPOT_CLIENT_SECRET": uuid.uuid4().hex,
        "SLACK_SIGNING_SECRET": uuid.uuid4().hex,
        "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
        "HUBSPOT_ACCESS_TOKEN": demo_data.HUBSPOT_TOKEN,
        "SLACK_BOT_TOKEN": demo_data.SLACK_TOKEN,
    }


def run_pass(settings: Settings, label: str, concurrency: int | None, log: TextIO) -> PassResult:
    """One burst on a fresh stack; ``concurrency`` workers per function (None: the template's)."""
    plan = Plan(settings.events, random.Random(settings.seed))  # the same burst in every pass
    log.write(f"[loadtest] ---- pass: {label}\n")
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN, slack_token=demo_data.SLACK_TOKEN,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, sandboxes:
        seed(sandboxes, plan)
        flags = Path(tmp) / "flags.json"
        flags.write_text(json.dumps(flags_document()), encoding="utf-8")
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "AWS_ENDPOINT"))}
        environ.update({**settings.secrets, **sandboxes.env(), "FLAGS_FILE": str(flags)})
        environ.pop("ANTHROPIC_API_KEY", None)
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ,
                              retry_delay_seconds=RETRY_DELAY_SECONDS, concurrency=concurrency)  # fmt: skip
        started = time.monotonic()
        with LocalRunner(config, log=log) as runner:
            print(f"\n[{label}] stack up in {time.monotonic() - started:.1f} s at {runner.base_url}", flush=True)
            return _burst(settings, label, plan, runner, sandboxes)


def _burst(settings: Settings, label: str, plan: Plan, runner: LocalRunner, sandboxes: Sandboxes) -> PassResult:
    warm_up(runner.base_url, settings.secrets)
    before = _function_counters(runner)
    aws_before = _aws_cpu(runner)
    self_before = _self_cpu()
    sender = Sender(runner.base_url, settings.secrets)
    send_started = time.monotonic()
    with ThreadPoolExecutor(max_workers=settings.senders) as pool:
        list(pool.map(sender.send, plan.requests))
    send_seconds = time.monotonic() - send_started
    print(f"[{label}] sent in {send_seconds:.1f} s; waiting for the queues to drain...", flush=True)
    drain_seconds, drained, _ = drain(runner, settings.drain_timeout)
    wall = time.monotonic() - send_started
    functions = _function_figures(runner, before)
    aws_cpu = _aws_cpu(runner)
    accounting = _account(plan, runner, sandboxes, settings.policy)
    slack = sandboxes.slack
    return PassResult(
        label=label, accounting=accounting, sender=sender, send_seconds=send_seconds, drain_seconds=drain_seconds,
        drained=drained, wall_seconds=wall, functions=functions, depths=runner.queue_depths(),
        aws_cpu_seconds=None if aws_cpu is None or aws_before is None else aws_cpu - aws_before,
        self_cpu_seconds=_self_cpu() - self_before,
        slack_posts=sum(len(slack.messages(cid)) for cid in slack.channels.values()),
        vendor_calls={s.name: Counter(r.method for r in s.requests) for s in sandboxes.all},
    )  # fmt: skip


def _account(plan: Plan, runner: LocalRunner, sandboxes: Sandboxes, policy: Any) -> Accounting:
    items = scan_items(runner, "DecisionsTable")
    return account(plan, items, dlq_keys(runner), notes_at_vendors(sandboxes), policy)


def _function_counters(runner: LocalRunner) -> dict[str, tuple[float, int, float]]:
    """CPU seconds, invocations and busy seconds of each function's workers so far."""
    return {name: (p.usage().cpu_seconds, p.invocations, p.busy_seconds) for name, p in runner.functions.items()}


def _function_figures(runner: LocalRunner, before: dict[str, tuple[float, int, float]]) -> dict[str, FunctionFigures]:
    """What each function's workers did during the burst (workers started during it count whole: cold starts)."""
    figures = {}
    for name, pool in runner.functions.items():
        usage, status = pool.usage(), pool.status()
        cpu_before, invocations_before, busy_before = before[name]
        figures[name] = FunctionFigures(
            name=name, invocations=pool.invocations - invocations_before, cpu_seconds=usage.cpu_seconds - cpu_before,
            busy_seconds=pool.busy_seconds - busy_before, peak_rss_kib=usage.peak_rss_kib, workers=status["started"],
            max_workers=status["max"], memory_mb=pool.spec.memory,
        )  # fmt: skip
    return figures


def _aws_cpu(runner: LocalRunner) -> float | None:
    usage = process_usage(runner.aws_pid) if runner.aws_pid is not None else None
    return usage.cpu_seconds if usage else None


def _self_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="webhook events to send (default 2000, at least 40)")
    parser.add_argument("--senders", type=int, default=8, help="sender threads (default 8)")
    parser.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="workers per function in the N pass (default: the template's concurrency)")  # fmt: skip
    parser.add_argument("--compare", action=argparse.BooleanOptionalAction, default=True,
                        help="run a 1-worker pass before the N pass (default; --no-compare: N only)")  # fmt: skip
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the queues")
    parser.add_argument("--seed", type=int, default=8, help="random seed of the burst (default 8)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.events < 40:
        parser.error(
            f"--events must be at least 40 (the burst mixes HubSpot batches of 10 to 50 events), got {args.events}"
        )
    for name in ("senders", "concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1, got {value}")
    settings = Settings(args.events, args.senders, args.drain_timeout, args.seed, _secrets(), load_policy())
    plan = Plan(args.events, random.Random(args.seed))
    passes = [("1 worker", 1)] if args.compare else []
    passes.append((f"{args.concurrency} workers" if args.concurrency else "N workers", args.concurrency))
    listed = ", ".join(label for label, _ in passes)
    print(f"Triage Gate load test: {sum(len(r.events) for r in plan.requests)} events in {len(plan.requests)} "
          f"requests, {args.senders} senders; passes: {listed} per function")  # fmt: skip
    print(f"  function logs: {LOG_PATH}")
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    with LOG_PATH.open("w", encoding="utf-8") as log:
        results = [run_pass(settings, label, concurrency, log) for label, concurrency in passes]
    for result in results:
        print_pass(result)
    print_side_by_side(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
