"""``triage report``: ROI per workflow and week, from the decisions of a local stack or a deployed table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from triage_tools.cli.stores import decision_store, unreachable
from triage_tools.rollout.cli import add_flags_options


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``report``."""
    report = sub.add_parser(
        "report", help="ROI per workflow and week: turnaround, hours recovered, rework, escalations"
    )
    report.add_argument("--since", default="7d", help="7d, 4w or a date like 2026-11-01 (default 7d)")
    report.add_argument("--workflow", help="only this workflow")
    report_where = report.add_mutually_exclusive_group()
    report_where.add_argument("--url", help="a running local stack (default http://127.0.0.1:3000)")
    report_where.add_argument("--table", help="a deployed DecisionsTable (AWS credentials from the environment)")
    report.add_argument("--policy", type=Path, help="policy file with the ROI baselines (default: the shipped one)")
    report.add_argument("--out", type=Path, help="write report.html and roi.json (and rollout.json) here")
    add_flags_options(report, decisions=False)  # the rollout section: each segment's mode and what next
    report.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    import requests
    from botocore.exceptions import BotoCoreError, ClientError

    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import load_policy
    from triage_gate.roi.periods import parse_since
    from triage_gate.roi.totals import totals
    from triage_gate.roi.weeks import weekly
    from triage_tools.reports.roi import terminal, write_html
    from triage_tools.reports.roi_languages import by_language

    try:
        since = parse_since(args.since)
        policy = load_policy(args.policy)
        records = decision_store(args.url, args.table).scan()
    except ValueError as exc:
        print(f"triage report: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"triage report: {exc}", file=sys.stderr)
        return 2
    except requests.RequestException as exc:
        print(f"triage report: {unreachable(args.url, exc)}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"triage report: cannot read the decisions: {exc}", file=sys.stderr)
        return 1
    if args.workflow and args.workflow not in policy.workflows:
        print(f"triage report: no workflow {args.workflow!r} (workflows: {sorted(policy.workflows)})", file=sys.stderr)
        return 2
    baselines = {name: wf.roi_baseline for name, wf in policy.workflows.items()}
    stats = weekly(records, baselines, since=since, until=None, workflow=args.workflow)
    summary = totals(stats)
    languages = by_language(records, baselines, since=since, workflow=args.workflow)
    print(terminal(stats, summary, baselines, languages))
    if args.out:
        print(f"report: {write_html(args.out, stats, summary, baselines, languages)}")
    from triage_tools.rollout.commands import print_report_section

    print_report_section(args, policy, records)
    return 0
