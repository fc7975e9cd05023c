"""`make bench`: what a user pays for the functions — cold start per function and CPU per event — each
printed beside its reference measured in the same run, as min/median/max of repeated runs (median first).

Targets (issue #15): a cold start (fresh interpreter, import, first request with its real AWS clients) within
100 ms of a fresh interpreter that imports boto3, creates the same clients and makes the same AWS calls;
per-event CPU with the SDK at most 2x the SDK's own cost for the same calls. AWS is moto in its own process
(``local_aws.py``), vendors are the loopback sandboxes. How each figure is taken: ``cold_start.py`` and
``cpu_per_event.py``. Never judged in tests: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from bench_stats import machine_line, render_table, verdict  # noqa: E402 - after the path it lives on
from local_aws import LocalAws  # noqa: E402

if TYPE_CHECKING:
    from cold_start import ClientSetup, ColdStartRow, CompileCheck, Discovery, Scenario

COLD_LIMIT_MS = 100.0
CPU_RATIO_LIMIT = 2.0
# Every function: a fresh stack serves each first request, seeded by cold_prepare.py where it acts on an earlier
# decision (cold_scenarios.NOT_MEASURED would name any left out, and why).
DEFAULT_FUNCTIONS = (
    "IngestFunction",
    "TriageFunction",
    "TriageFunction/claude",
    "ReviewBacklogFunction",
    "RoiDigestFunction",
    "WritebackFunction",
    "ReviewNotifyFunction",
    "SlackActionsFunction",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_ingest.py",
        description="Cold start per function and CPU per event, beside their references (issue #15 targets).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 repeats, two bytecode modes, no compile check, fewer CPU samples (~1 min)",
    )
    parser.add_argument(
        "--repeats", type=int, help="cold-start samples per side, function and mode (default 5; quick 3)"
    )
    parser.add_argument("--functions", help=f"comma-separated scenarios (a function's logical id, or "
                        f"TriageFunction/claude for its Claude route), or 'all' for every one measured "
                        f"(default {','.join(DEFAULT_FUNCTIONS)})")  # fmt: skip
    parser.add_argument("--modes", help="comma-separated bytecode modes: bytecode, layer no .pyc, no .pyc at all "
                        "(default all three; quick the first two)")  # fmt: skip
    parser.add_argument("--zendesk-events", type=int, help="timed Zendesk invocations per way (default 200; quick 60)")
    parser.add_argument("--hubspot-batches", type=int, help="timed HubSpot batches per way (default 5; quick 2)")
    parser.add_argument("--skip-cold-start", action="store_true", help="only the CPU-per-event table")
    parser.add_argument("--skip-cpu", action="store_true", help="only the cold-start tables")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.zendesk_events = args.zendesk_events or (60 if args.quick else 200)
    args.hubspot_batches = args.hubspot_batches or (2 if args.quick else 5)
    args.function_list = _functions(parser, args)
    args.mode_list = _modes(parser, args)
    if min(args.repeats, args.zendesk_events, args.hubspot_batches) < 1:
        parser.error("--repeats, --zendesk-events and --hubspot-batches must be at least 1")
    return args


def _functions(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    from cold_scenarios import NOT_MEASURED, SCENARIOS

    names = args.functions.split(",") if args.functions else list(DEFAULT_FUNCTIONS)
    if names == ["all"]:
        names = list(SCENARIOS)
    for name in names:
        if name in NOT_MEASURED:
            parser.error(f"--functions: {name} is not measured: {NOT_MEASURED[name]}")
        if name not in SCENARIOS:
            parser.error(f"--functions: unknown function {name!r}; one of {', '.join(SCENARIOS)}")
    return names


def _modes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    from cold_start import MODES

    modes = [m.strip() for m in args.modes.split(",")] if args.modes else list(MODES[:2] if args.quick else MODES)
    for mode in modes:
        if mode not in MODES:
            parser.error(f"--modes: unknown mode {mode!r}; one of {', '.join(MODES)}")
    return modes


def secret_values(vendor_environment: dict[str, str]) -> dict[str, str]:
    """The vendor secret as provisioned: the signing secrets the test signatures use, the sandboxes' tokens."""
    from tests.builders import HUBSPOT_SECRET, ZENDESK_SECRET

    return {"ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET, "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
            "SLACK_SIGNING_SECRET": "bench-slack-signing-secret", **vendor_environment}  # fmt: skip


def cold_start_tables(aws: LocalAws, vendors: Any, args: argparse.Namespace) -> None:
    import cold_start
    from cold_scenarios import NOT_MEASURED, SCENARIOS

    scenarios = [SCENARIOS[name] for name in args.function_list]
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as workdir:
        flags = Path(workdir) / "flags.json"
        flags.write_text("{}", encoding="utf-8")  # the template's initial AppConfig content
        bench = cold_start.Bench(aws, vendors, Path(workdir), flags)
        discoveries = {s.key: cold_start.discover(bench, s) for s in scenarios}
        if cold_start.MODES[1] in args.mode_list:
            bench.prime_runtime_cache(scenarios, discoveries)
        by_mode = [cold_start.measure(bench, scenarios, discoveries, mode, args.repeats) for mode in args.mode_list]
        rows = [row for scenario_rows in zip(*by_mode, strict=True) for row in scenario_rows]  # scenario, then mode
        checks = [] if args.quick else cold_start.compile_checks(bench, scenarios[0], args.mode_list)
        services = sorted({service for found in discoveries.values() for service, _, _ in found.calls})
        setup = cold_start.client_setup(bench, scenarios[0].function, services, max(args.repeats, 9))
    print_cold_start(rows, scenarios, discoveries, NOT_MEASURED)
    print_client_setup(setup)
    if checks:
        print_compile_checks(scenarios[0].function, checks)


def print_client_setup(setup: ClientSetup) -> None:
    print(f"\nMaking the clients ({', '.join(setup.services)}) in a fresh interpreter after boto3's import, same run:")
    print(f"  the reference's plain boto3 session {setup.plain_ms.format('ms', 0)}; the functions' session "
          "(AwsClients: botocore's data without the scan of every service, decoded by msgspec) "
          f"{setup.functions_ms.format('ms', 0)}.")  # fmt: skip
    print(f"  The functions make them {setup.saved_ms:.0f} ms faster. 'over ref' above counts that in their favour: "
          f"the rest of their cold start costs 'over ref' + {setup.saved_ms:.0f} ms.")  # fmt: skip


def print_cold_start(
    rows: list[ColdStartRow], scenarios: list[Scenario], discoveries: dict[str, Discovery], not_measured: dict[str, str]
) -> None:
    print("Cold start = fresh interpreter: import the handler, serve the first request with its real AWS clients.")
    print("Reference  = fresh interpreter: import boto3, one client per service, the same AWS calls (same params).")
    print("Wall ms from the bootstrap's first line to the first response; median (min-max).\n")
    header = ("function", "bytecode", "cold start", "of which import", "reference", "over ref", "target ≤ ref+100",
              "CPU ms (fn / ref)")  # fmt: skip
    table = []
    for row in rows:
        over = row.function_ms.median - row.reference_ms.median
        table.append((row.function, row.mode, row.function_ms.format("ms", 0), row.function_import_ms.format("ms", 0),
                      row.reference_ms.format("ms", 0), f"{over:+.0f} ms",
                      verdict(row.function_ms.median, row.reference_ms.median + COLD_LIMIT_MS),
                      f"{row.function_cpu_ms.median:.0f} / {row.reference_cpu_ms.median:.0f}"))  # fmt: skip
    print(render_table(header, table))
    print("\nFirst requests (AWS calls the reference repeats; vendor calls go to the loopback sandboxes):")
    for scenario in scenarios:
        found = discoveries[scenario.key]
        calls = ", ".join(f"{service}:{operation}" for service, operation, _ in found.calls)
        print(f"  {scenario.key}: {scenario.describe}; {len(found.calls)} AWS calls ({calls}); "
              f"{found.vendor_calls} vendor HTTP call(s)")  # fmt: skip
    for function, why in not_measured.items():
        print(f"  {function}: not measured ({why})")


def print_compile_checks(function: str, checks: list[CompileCheck]) -> None:
    print(f"\nDo the modes really compile? Modules compiled from source during {function}'s cold start:")
    header = ("mode", "compiled", "ours", "layer deps", "runtime (stdlib+boto3)", "cold start")
    rows = [(c.label, str(c.compiled), str(c.ours), str(c.others), str(c.runtime), f"{c.ms:.0f} ms") for c in checks]
    print(render_table(header, rows))


def cpu_table(aws: LocalAws, args: argparse.Namespace) -> None:
    import cpu_per_event

    rows = cpu_per_event.run(aws, args.zendesk_events, args.hubspot_batches)
    print("\nCPU per invocation through IngestFunction's handler (process time, this process only; moto runs in")
    print("its own). Median (min-max) over distinct events; each invocation timed alone.\n")
    header = ("invocation", "n", "SDK in", "SDK stubbed", "SDK's own (same calls)", "AWS calls", "SDK in / own",
              "target ≤ 2x", "per event (SDK in)")  # fmt: skip
    table = []
    for row in rows:
        ratio = row.sdk_in_ms.median / row.sdk_own_ms.median
        per_event = row.sdk_in_ms.scaled(1000 / row.events_per_invocation)
        table.append((row.label, str(row.sdk_in_ms.count), row.sdk_in_ms.format("ms", 2),
                      row.stubbed_ms.format("ms", 2), row.sdk_own_ms.format("ms", 2),
                      f"{row.aws_calls_per_invocation:.0f}", f"{ratio:.2f}x", verdict(ratio, CPU_RATIO_LIMIT),
                      per_event.format("µs", 0)))  # fmt: skip
    print(render_table(header, table))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from triage_local.vendors import LocalVendors

    started = time.perf_counter()
    print(machine_line(f"cold start: {args.repeats} samples per side, function and mode; CPU: {args.zendesk_events} "
                       f"Zendesk invocations, {args.hubspot_batches} HubSpot batches per way\n"))  # fmt: skip
    vendors = LocalVendors({})
    # Samples follow each other faster than Slack's 1 post per second per channel: the first requests of
    # ReviewBacklog, RoiDigest and ReviewNotify would meet the sandbox's rate limit (a 429), not the path a
    # user pays.
    vendors.sandboxes.slack.per_channel_per_second = None
    # Likewise WritebackFunction's samples update ticket 40211 faster than Zendesk's 30 updates per ticket per
    # 10 minutes (a 429 is a failed first request, not the path a user pays).
    vendors.sandboxes.zendesk.ticket_updates_per_10_minutes = None
    vendors.start()
    try:
        with LocalAws(secret_values(vendors.environment())) as aws:
            if not args.skip_cold_start:
                cold_start_tables(aws, vendors, args)
            vendors.stop()  # idle sandbox threads would share this process with the CPU measurements
            if not args.skip_cpu:
                cpu_table(aws, args)
    finally:
        vendors.stop()  # stopping twice is a no-op
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
