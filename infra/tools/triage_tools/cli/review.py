"""``triage review`` (work the review queue of a local stack, no Slack needed) and ``triage feedback export``
(the improvement loop: reviewed and overridden cases as a labelled CSV)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from triage_tools.cli.stores import decision_store, unreachable


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``review`` and ``feedback``."""
    review = sub.add_parser("review", help="work the review queue through /slack/interactions (no Slack needed)")
    review_sub = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    for name, text in (
        ("list", "list cases waiting for a reviewer"),
        ("approve", "approve the proposed labels"),
        ("correct", "correct the labels (with a reason code)"),
        ("escalate", "send the case to the escalation channel, unapplied"),
    ):
        cmd = review_sub.add_parser(name, help=text)
        cmd.add_argument("--url", default="http://127.0.0.1:3000", help="base URL of the local stack")
        if name != "list":
            cmd.add_argument("decision_id")
            cmd.add_argument("--user", default=os.environ.get("USER", "reviewer"), help="reviewer's Slack user id")
            cmd.add_argument("--secret", help="Slack signing secret (default: $SLACK_SIGNING_SECRET)")
        if name == "correct":
            cmd.add_argument("--label", action="append", required=True, metavar="TASK=LABEL")
            cmd.add_argument("--reason", required=True, help="wrong_category, wrong_priority, missing_context, ...")
        cmd.set_defaults(func=_cmd_review)

    feedback = sub.add_parser("feedback", help="the improvement loop: reviewed and overridden cases")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    export = feedback_sub.add_parser("export", help="write reviewed and overridden cases as a labelled CSV")
    export.add_argument("--out", type=Path, required=True, help="CSV to write (masked text, one column per task)")
    where = export.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running local stack (default http://127.0.0.1:3000)")
    where.add_argument("--table", help="a deployed DecisionsTable (AWS credentials from the environment)")
    export.add_argument("--workflow", help="only this workflow")
    export.set_defaults(func=_cmd_feedback_export)


def _cmd_review(args: argparse.Namespace) -> int:
    import requests

    from triage_local.review_cli import click, pending_reviews

    try:
        if args.review_command == "list":
            cases = pending_reviews(args.url)
            for case in cases:
                shown = ", ".join(f"{t}={lbl}" for t, lbl in case.labels.items())
                why = ", ".join(case.reasons)
                print(f"{case.decision_id}\n    {case.ticket} {case.workflow} [{case.state}] {shown}; {why}")
            print(f"{len(cases)} case(s) waiting")
            return 0
        secret = args.secret or os.environ.get("SLACK_SIGNING_SECRET")
        if not secret:
            print("triage review: no signing secret; pass --secret or set SLACK_SIGNING_SECRET", file=sys.stderr)
            return 2
        labels: dict[str, str] = {}
        for item in getattr(args, "label", None) or []:
            task, sep, label = item.partition("=")
            if not sep:
                print(f"triage review: --label must be TASK=LABEL, got {item!r}", file=sys.stderr)
                return 2
            labels[task] = label
        response = click(
            args.url, args.review_command, args.decision_id, secret=secret, user=args.user, labels=labels,
            reason=getattr(args, "reason", None),
        )  # fmt: skip
    except requests.RequestException as exc:
        print(f"triage review: {unreachable(args.url, exc)}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code} {response.text}".rstrip())
    return 0 if response.ok else 1


def _cmd_feedback_export(args: argparse.Namespace) -> int:
    import requests
    from botocore.exceptions import BotoCoreError, ClientError

    from triage_gate.review.feedback import labelled_rows, write_csv

    try:
        store = decision_store(args.url, args.table)
        records = [r for r in store.scan() if not args.workflow or r.workflow == args.workflow]
    except requests.RequestException as exc:
        print(f"triage feedback export: {unreachable(args.url, exc)}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"triage feedback export: cannot read the decisions: {exc}", file=sys.stderr)
        return 1
    count = write_csv(labelled_rows(records), args.out)
    print(f"wrote {count} labelled case(s) from {len(records)} decision(s) to {args.out}")
    return 0
