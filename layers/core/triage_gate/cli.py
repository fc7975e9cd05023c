"""The ``triage`` command. Dev-only subcommands import the local runner lazily."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from triage_gate import __version__

if TYPE_CHECKING:
    from triage_local.webhooks import Sample

SECRET_ENV = {"zendesk": "ZENDESK_WEBHOOK_SECRET", "hubspot": "HUBSPOT_CLIENT_SECRET"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="Triage Gate operations and local tools.")
    parser.add_argument("--version", action="version", version=f"triage-gate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    local = sub.add_parser("local", help="run the whole stack locally (embedded moto unless AWS_ENDPOINT_URL is set)")
    local.add_argument("--port", type=int, default=3000, help="HTTP port for the API routes (default 3000)")
    local.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    local.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template to run")
    local.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="template parameter override"
    )
    local.add_argument(
        "--retry-delay", type=int, default=None, metavar="SECONDS",
        help="redeliver failed queue records after SECONDS instead of the queue's visibility timeout",
    )  # fmt: skip
    local.set_defaults(func=_cmd_local)

    demo = sub.add_parser("demo", help="replay signed sample webhooks through a local stack and show the outcomes")
    demo.add_argument("--port", type=int, default=0, help="HTTP port (default: any free port)")
    demo.add_argument("--root", type=Path, default=Path("."), help="project root (template.yaml, events/)")
    demo.set_defaults(func=_cmd_demo)

    send = sub.add_parser("send", help="sign a sample webhook like the vendor does and POST it")
    send.add_argument("file", type=Path, help="an events/ sample or a raw vendor JSON body")
    send.add_argument("--url", default="http://127.0.0.1:3000", help="base URL of the stack")
    send.add_argument("--secret", help="signing secret (default: $ZENDESK_WEBHOOK_SECRET / $HUBSPOT_CLIENT_SECRET)")
    send.set_defaults(func=_cmd_send)

    policy = sub.add_parser("policy", help="work with the policy file")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = policy_sub.add_parser("check", help="validate the policy file (exit 1 with each problem's path)")
    check.add_argument("path", nargs="?", type=Path, default=None, help="policy file (default: the one shipped)")
    check.set_defaults(func=_cmd_policy_check)

    flags = sub.add_parser("flags", help="work with rollout flags (AppConfig or a local JSON file)")
    flags_sub = flags.add_subparsers(dest="flags_command", metavar="ACTION", required=True)
    flags_check = flags_sub.add_parser("check", help="validate a flags JSON file (exit 1 with each problem)")
    flags_check.add_argument("path", type=Path)
    flags_check.set_defaults(func=_cmd_flags_check)

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

    report = sub.add_parser(
        "report", help="ROI per workflow and week: turnaround, hours recovered, rework, escalations"
    )
    report.add_argument("--since", default="7d", help="7d, 4w or a date like 2026-11-01 (default 7d)")
    report.add_argument("--workflow", help="only this workflow")
    report_where = report.add_mutually_exclusive_group()
    report_where.add_argument("--url", help="a running local stack (default http://127.0.0.1:3000)")
    report_where.add_argument("--table", help="a deployed DecisionsTable (AWS credentials from the environment)")
    report.add_argument("--policy", type=Path, help="policy file with the ROI baselines (default: the shipped one)")
    report.add_argument("--out", type=Path, help="write report.html and roi.json here")
    report.set_defaults(func=_cmd_report)

    from triage_gate.evaluation.cli import add_eval_parsers

    add_eval_parsers(sub)

    from triage_gate.localmodel.cli import add_train_parser

    add_train_parser(sub)

    sign = sub.add_parser("sign-event", help="print an events/ sample with fresh signatures (for sam local invoke)")
    sign.add_argument("file", type=Path)
    sign.add_argument("--secret", help="signing secret (default: from the environment)")
    sign.add_argument("--url", help="URL HubSpot would call (default: https://<host header><rawPath>)")
    sign.set_defaults(func=_cmd_sign_event)
    return parser


def _cmd_local(args: argparse.Namespace) -> int:
    from triage_local.runner import LocalRunner, RunnerConfig
    from triage_local.template import TemplateError

    overrides = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"triage local: --parameter must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = value
    config = RunnerConfig(
        template_path=args.template,
        host=args.host,
        port=args.port,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        parameter_overrides=overrides,
        retry_delay_seconds=args.retry_delay,
    )
    from botocore.exceptions import BotoCoreError, ClientError

    runner = LocalRunner(config)
    try:
        runner.start()
    except (TemplateError, FileNotFoundError) as exc:
        runner.stop()
        print(f"triage local: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        runner.stop()
        print(f"triage local: cannot provision at {runner.endpoint_url}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        runner.stop()
        print(f"triage local: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Triage Gate local stack on {runner.base_url} (AWS endpoint {runner.endpoint_url}); Ctrl-C stops it.")
    for function in runner.functions.values():
        for route in function.spec.routes:
            print(f"  {route.route_key:<28} -> {function.name}")
    runner.serve_forever()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from triage_local.demo import run_demo

    if not (args.root / "template.yaml").is_file():
        print(f"triage demo: no template.yaml under {args.root.resolve()}", file=sys.stderr)
        return 2
    return run_demo(args.root.resolve(), args.port)


def _cmd_policy_check(args: argparse.Namespace) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy

    path = args.path or DEFAULT_POLICY_PATH
    try:
        policy = load_policy(path)
    except ConfigurationError as exc:
        print(f"policy check FAILED: {path}", file=sys.stderr)
        for problem in str(exc).split("; "):
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"policy OK: {path}")
    print(f"  version {policy.version}, prompt {policy.prompt_version}, sha256 {policy.sha256[:12]}")
    for name, workflow in policy.workflows.items():
        tasks = ", ".join(f"{t} ({len(s.labels)} labels → {s.route})" for t, s in workflow.tasks.items())
        print(f"  {name}: {workflow.source}, mode {workflow.mode}; {tasks}")
    return 0


def _cmd_flags_check(args: argparse.Namespace) -> int:
    from triage_gate.rollout import validate_flags

    try:
        document = json.loads(args.path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"triage flags check: no such file: {args.path}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"triage flags check: {args.path} is not JSON: {exc}", file=sys.stderr)
        return 1
    problems = validate_flags(document)
    if problems:
        print(f"flags check FAILED: {args.path}", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"flags OK: {args.path} ({', '.join(sorted(document)) or 'no flags'})")
    return 0


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
        print(f"triage review: {args.url} did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code} {response.text}".rstrip())
    return 0 if response.ok else 1


def _cmd_feedback_export(args: argparse.Namespace) -> int:
    import requests
    from botocore.exceptions import BotoCoreError, ClientError

    from triage_gate.review.feedback import labelled_rows, write_csv

    try:
        store = _decision_store(args.url, args.table)
        records = [r for r in store.scan() if not args.workflow or r.workflow == args.workflow]
    except requests.RequestException as exc:
        print(f"triage feedback export: the local stack did not answer: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"triage feedback export: cannot read the decisions: {exc}", file=sys.stderr)
        return 1
    count = write_csv(labelled_rows(records), args.out)
    print(f"wrote {count} labelled case(s) from {len(records)} decision(s) to {args.out}")
    return 0


def _decision_store(url: str | None, table: str | None):  # type: ignore[no-untyped-def]
    from triage_gate.adapters.aws import client
    from triage_gate.adapters.decisions_table import DynamoDecisionStore

    if table:
        return DynamoDecisionStore(table, client("dynamodb", read_timeout=30.0))
    from triage_local.review_cli import local_decision_store

    return local_decision_store(url or "http://127.0.0.1:3000")


def _cmd_report(args: argparse.Namespace) -> int:
    import requests
    from botocore.exceptions import BotoCoreError, ClientError

    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import load_policy
    from triage_gate.roi.maths import parse_since, totals, weekly
    from triage_gate.roi.render import terminal, write_html

    try:
        since = parse_since(args.since)
        policy = load_policy(args.policy)
        records = _decision_store(args.url, args.table).scan()
    except ValueError as exc:
        print(f"triage report: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"triage report: {exc}", file=sys.stderr)
        return 2
    except requests.RequestException as exc:
        print(f"triage report: the local stack did not answer: {exc}", file=sys.stderr)
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
    print(terminal(stats, summary))
    if args.out:
        print(f"report: {write_html(args.out, stats, summary)}")
    return 0


def _cmd_send(args: argparse.Namespace) -> int:
    import requests

    from triage_local.webhooks import send

    loaded = _sample_and_secret("send", args.file, args.secret)
    if loaded is None:
        return 2
    try:
        sample, secret = loaded
        response = send(sample, args.url, secret)
    except requests.RequestException as exc:
        print(f"triage send: {args.url} did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code}")
    print(response.text)
    return 0 if response.ok else 1


def _cmd_sign_event(args: argparse.Namespace) -> int:
    from triage_local.webhooks import signed_event

    loaded = _sample_and_secret("sign-event", args.file, args.secret)
    if loaded is None:
        return 2
    print(json.dumps(signed_event(args.file, loaded[1], args.url), indent=2))
    return 0


def _sample_and_secret(command: str, path: Path, given_secret: str | None) -> tuple[Sample, str] | None:
    """The sample at ``path`` and the secret to sign it with, or None after saying what is wrong."""
    from triage_local.webhooks import Sample

    try:
        sample = Sample.load(path)
    except FileNotFoundError:
        print(f"triage {command}: no such file: {path}", file=sys.stderr)
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"triage {command}: {path} is not JSON: {exc}", file=sys.stderr)
        return None
    if sample.source not in SECRET_ENV:
        print(f"triage {command}: {path} is not a Zendesk or HubSpot webhook sample", file=sys.stderr)
        return None
    secret = given_secret or os.environ.get(SECRET_ENV[sample.source])
    if not secret:
        print(f"triage {command}: no secret; pass --secret or set {SECRET_ENV[sample.source]}", file=sys.stderr)
        return None
    return sample, secret


if __name__ == "__main__":
    sys.exit(main())
