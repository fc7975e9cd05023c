"""``triage history pull``: a help desk's routed tickets → DIR/tickets.csv + DIR/baseline.json.

Only argparse is imported at start-up; the pull's modules load when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage_gate.policy import Policy
    from triage_tools.history.pull import PullPlan, PullResult
    from triage_tools.history.source import HistorySource

EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130
# Client-side spacing per endpoint, seconds: Zendesk's incremental exports allow 10 requests a minute;
# HubSpot's CRM search 4-5 a second (sources differ: 4 is safe), other CRM calls 190 per 10 s.
PACING = {"zendesk": {"incremental_export": 6.0}, "hubspot": {"search": 0.25, "crm": 0.06}}

DESCRIPTION = """\
Pull the tickets people routed in a help desk, and measure the manual baseline.

Writes DIR/tickets.csv (one row per ticket created in [--since, --until): masked subject and text, the
label a person finally gave for each policy task, mapped back through the workflow's write-back mapping,
the first assignment and whether it was re-routed) and DIR/baseline.json (tickets per week, turnaround
from creation to first assignment, re-routing rate, what was left out and why). Resumable: re-run the
same command after Ctrl-C or a crash (DIR/pull-state.json).

Credentials as the functions take them: ZENDESK_BASE_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN /
HUBSPOT_BASE_URL (default https://api.hubapi.com), HUBSPOT_ACCESS_TOKEN; or --secret-id (the stack's
Secrets Manager secret, same key names)."""


class _UsageProblem(ValueError):
    pass


def add_history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``history pull``."""
    history = sub.add_parser("history", help="pull a help desk's history and measure the manual baseline")
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    pull = actions.add_parser(
        "pull", help="pull routed tickets into tickets.csv + baseline.json (resumable)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    pull.add_argument("--source", required=True, choices=("zendesk", "hubspot"), help="the help desk")
    pull.add_argument("--since", required=True, metavar="DATE", help="first creation date pulled (YYYY-MM-DD, UTC)")
    pull.add_argument("--until", metavar="DATE", help="creation dates before this one (default: tomorrow, UTC)")
    pull.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory (created if needed)")
    pull.add_argument("--workflow", help="policy workflow (default: the only one whose source matches)")
    pull.add_argument("--policy", type=Path, help="policy file (default: the shipped one)")
    pull.add_argument("--secret-id", help="read credentials from this Secrets Manager secret instead of the env")
    pull.add_argument(
        "--no-pacing", action="store_true",
        help="do not space requests client-side (sandboxes, benchmarks); 429s are still honoured",
    )  # fmt: skip
    pull.add_argument("--overwrite", action="store_true", help="replace a finished pull already in DIR")
    pull.set_defaults(func=run_pull_command)


def run_pull_command(args: argparse.Namespace) -> int:
    from triage_tools.history.access import AccessError, SecretReadError
    from triage_tools.history.pull import PullUsageError
    from triage_tools.history.staging import StagingError
    from triage_tools.history.state import StateError
    from triage_tools.history.transport import PullError

    try:
        plan, history = _prepare(args)
        result = _run(plan, history)
    except (_UsageProblem, AccessError, PullUsageError) as exc:
        print(f"triage history pull: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (PullError, SecretReadError, StateError, StagingError, OSError) as exc:
        print(f"triage history pull failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"\ninterrupted: re-run the same command to resume ({args.out / 'pull-state.json'})", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(summary(result, args.out))
    return 0


def _run(plan: PullPlan, history: HistorySource) -> PullResult:
    from triage_tools.history.progress import Progress
    from triage_tools.history.pull import run_pull

    try:
        return run_pull(plan, history, Progress(f"{plan.source} history"))
    finally:
        history.close()


def _prepare(args: argparse.Namespace) -> tuple[PullPlan, HistorySource]:
    from triage_tools.history.pull import PullPlan, utc_now

    now = utc_now()
    since, until = _window(args.since, args.until, now=now, default_until=_default_until(args.out, now))
    policy = _policy(args.policy)
    name = choose_workflow(policy, args.source, args.workflow)
    workflow = policy.workflows[name]
    plan = PullPlan(
        source=args.source, workflow_name=name, workflow=workflow,
        pii_patterns=dict(policy.guardrails.pii_extra_patterns), policy_sha256=policy.sha256,
        since=since, until=until, out=args.out, overwrite=args.overwrite,
    )  # fmt: skip
    return plan, _history(args, plan, now)


def _history(args: argparse.Namespace, plan: PullPlan, now: datetime) -> HistorySource:
    from triage_tools.history.access import read_secret, resolve_access
    from triage_tools.history.hubspot_export import HubSpotHistory
    from triage_tools.history.mapping import routing_properties
    from triage_tools.history.transport import Pacer, VendorSession
    from triage_tools.history.zendesk_export import ZendeskHistory

    secret = read_secret(args.secret_id, os.environ) if args.secret_id else None
    access = resolve_access(args.source, os.environ, secret)
    pacer = Pacer({} if args.no_pacing else PACING[args.source])
    session = VendorSession(args.source, access.headers, pacer)
    if args.source == "zendesk":
        marker = plan.workflow.writeback.marker_tag
        return ZendeskHistory(session, access.base_url, since=plan.since, now=now, marker_tag=marker)
    routing = routing_properties(plan.workflow)
    return HubSpotHistory(session, access.base_url, since=plan.since, until=plan.until, routing=routing)


def _default_until(out: Path, now: datetime) -> datetime:
    """Tomorrow (UTC) — or, when DIR holds an unfinished pull, that pull's --until, so the same command still
    resumes it the next day."""
    from triage_tools.history.state import StateError, load_state

    try:
        saved = load_state(out)
        if saved is not None:
            return datetime.fromisoformat(saved.until)
    except (StateError, ValueError):
        pass  # an unreadable state is reported when the pull starts
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)


def _window(
    since_text: str, until_text: str | None, *, now: datetime, default_until: datetime
) -> tuple[datetime, datetime]:
    since = _date(since_text, "--since")
    until = _date(until_text, "--until") if until_text else default_until
    if since >= now:
        raise _UsageProblem(f"--since {since_text} is in the future")
    if until <= since:
        raise _UsageProblem(f"--until {until.date()} must be after --since {since_text}")
    return since, until


def _date(text: str, option: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _UsageProblem(f"{option} must be a date like 2026-06-01, got {text!r}") from None
    return datetime.combine(day, datetime.min.time(), UTC)


def _policy(path: Path | None) -> Policy:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import load_policy

    try:
        return load_policy(path)
    except ConfigurationError as exc:
        raise _UsageProblem(str(exc)) from exc


def choose_workflow(policy: Policy, source: str, wanted: str | None) -> str:
    """``wanted`` when it exists and reads ``source``; else the only workflow that does."""
    matching = [name for name, workflow in policy.workflows.items() if workflow.source == source]
    if wanted is not None:
        if wanted not in policy.workflows:
            raise _UsageProblem(f"no workflow {wanted!r} in the policy (workflows: {', '.join(policy.workflows)})")
        if wanted not in matching:
            actual = policy.workflows[wanted].source
            raise _UsageProblem(f"workflow {wanted!r} reads {actual}, not {source}")
        return wanted
    if not matching:
        raise _UsageProblem(f"no workflow in the policy reads {source}")
    if len(matching) > 1:
        raise _UsageProblem(f"several workflows read {source} ({', '.join(matching)}): choose one with --workflow")
    return matching[0]


def summary(result: PullResult, out: Path) -> str:
    """What the pull found, in a few lines (the figures are baseline.json's)."""
    b = result.baseline
    left = ", ".join(f"{reason} {count:,}" for reason, count in b["left_out"].items())
    turnaround, rerouting = b["turnaround_minutes"], b["rerouting"]
    lines = [
        f"{b['source']} history {b['since']} .. {b['until']} for workflow {b['workflow']}"
        + (" (resumed)" if result.resumed else ""),
        f"  seen {b['seen']:,} tickets: kept {b['kept']:,}; left out {sum(b['left_out'].values()):,} ({left})",
        f"  manual turnaround (created → first assignment): p50 {_minutes(turnaround['p50'])}, "
        f"p90 {_minutes(turnaround['p90'])} (n={turnaround['n']:,})",
        f"  re-routing rate: {_percent(rerouting['rate'])} ({rerouting['rerouted']:,} of {rerouting['n']:,})",
        f"  weeks: {len(b['weeks'])} ({b['weeks'][0]['week']} .. {b['weeks'][-1]['week']})" if b["weeks"] else "",
    ]
    for task, counts in b["unmapped"].items():
        total = sum(counts.values())
        top = "; ".join(f"{raw}: {count:,}" for raw, count in list(counts.items())[:2])
        lines.append(f"  {task}: {total:,} unmapped" + (f" (top: {top})" if total else ""))
    lines.append(f"  → {out / 'tickets.csv'}, {out / 'baseline.json'}")
    return "\n".join(line for line in lines if line)


def _minutes(value: Any) -> str:
    if value is None:
        return "n/a"
    minutes = float(value)
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.1f} %"
