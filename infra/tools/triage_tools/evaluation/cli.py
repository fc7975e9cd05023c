"""`triage eval` and `triage calibrate`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
EXIT_GATE = 3


def add_eval_parsers(sub: Any) -> None:
    for name, text in (
        ("eval", "replay a labelled CSV/JSONL through the production guardrails: accuracy, coverage, cost by language"),
        ("calibrate", "fit calibration (pooled and per label) and propose thresholds that meet the error tolerance"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument(
            "csv", type=Path, metavar="FILE",
            help="labelled CSV, or JSON lines (.jsonl/.ndjson: keys as columns), or a `triage feedback export`",
        )  # fmt: skip
        cmd.add_argument("--workflow", required=True, help="workflow of the policy file")
        cmd.add_argument("--task", default="category", help="task the label column answers (default category)")
        cmd.add_argument("--text-col", required=True, metavar="COL")
        cmd.add_argument("--label-col", required=True, metavar="COL")
        cmd.add_argument("--subject-col", metavar="COL")
        cmd.add_argument("--id-col", metavar="COL")
        cmd.add_argument("--label-map", type=Path, metavar="JSON", help="dataset label → taxonomy label (null drops)")
        cmd.add_argument("--policy", type=Path, help="policy file (default: the shipped one)")
        cmd.add_argument(
            "--model", default="policy",
            help="'policy' (the policy's routes), or a route name: local, haiku, sonnet, ... (default policy)",
        )  # fmt: skip
        cmd.add_argument("--recorded", type=Path, help="replay Claude answers from this file (no API calls)")
        cmd.add_argument("--cache", type=Path, default=Path(".triage/eval-cache.jsonl"), help="answer cache")
        cmd.add_argument("--concurrency", type=int, default=4, help="parallel API calls (default 4)")
        cmd.add_argument("--limit", type=int, help="evaluate at most N rows")
        if name == "eval":
            cmd.add_argument("--out", type=Path, help="write report.html and summary.json here")
            cmd.add_argument("--json", type=Path, help="write the machine-readable summary here")
            cmd.add_argument("--gate", type=Path, metavar="BASELINE.json", help="exit 3 if worse than this summary")
            cmd.add_argument("--margin", type=float, default=0.02, help="allowed precision drop vs the gate baseline")
            cmd.add_argument("--no-baselines", action="store_true", help="skip the majority and local baselines")
            cmd.set_defaults(func=run_eval_command)
        else:
            cmd.add_argument("--min-samples", type=int, help="evidence needed per label (default: from the tolerance)")
            cmd.add_argument("--write", action="store_true", help="write the change into the policy file")
            cmd.set_defaults(func=run_calibrate_command)


def _prepare(args: argparse.Namespace) -> tuple[Any, Any, list[Any], Any]:
    from triage_gate.adapters.claude import ClaudeModel
    from triage_gate.adapters.local_models import LocalModelCache
    from triage_gate.adapters.secrets import EnvironmentSecrets
    from triage_gate.config import VendorSecrets
    from triage_gate.policy import load_policy
    from triage_tools.evaluation.dataset import read_examples, read_label_map
    from triage_tools.evaluation.runner import AnswerCache, CachedRemote, EvalSetup, with_route

    policy = load_policy(args.policy)
    if args.workflow not in policy.workflows:
        raise ValueError(f"no workflow {args.workflow!r} in the policy (workflows: {sorted(policy.workflows)})")
    policy = with_route(policy, args.workflow, args.model)
    workflow = policy.workflows[args.workflow]
    if args.task not in workflow.tasks:
        raise ValueError(f"workflow {args.workflow} has no task {args.task!r} (tasks: {sorted(workflow.tasks)})")
    label_map = read_label_map(args.label_map) if args.label_map else None
    examples, skipped = read_examples(
        args.csv, text_col=args.text_col, label_col=args.label_col, taxonomy=list(workflow.tasks[args.task].labels),
        subject_col=args.subject_col, id_col=args.id_col, label_map=label_map, limit=args.limit,
    )  # fmt: skip
    for reason, n in skipped.items():
        if n:
            print(f"triage {args.command}: skipped {n} rows ({reason})", file=sys.stderr)
    if args.recorded:
        remote: Any = CachedRemote(None, AnswerCache(args.recorded), replay_only=True)
    else:
        claude = ClaudeModel(
            EnvironmentSecrets(VendorSecrets.from_env()), policy.prices, os.environ.get("ANTHROPIC_BASE_URL")
        )
        remote = CachedRemote(claude, AnswerCache(args.cache))
        uses_claude = any(policy.routes[t.route].kind == "claude" for t in workflow.tasks.values())
        if uses_claude and not claude.enabled():
            print(
                f"triage {args.command}: ANTHROPIC_API_KEY is not set: Claude routes use the local model",
                file=sys.stderr,
            )
    setup = EvalSetup(policy, args.workflow, args.task, remote, LocalModelCache(), concurrency=args.concurrency)
    return setup, policy, examples, workflow


def run_eval_command(args: argparse.Namespace) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_tools.evaluation import metrics, runner
    from triage_tools.evaluation.dataset import DatasetError
    from triage_tools.reports import eval as report

    try:
        setup, policy, examples, workflow = _prepare(args)
    except (DatasetError, ConfigurationError, ValueError) as exc:
        print(f"triage eval: {exc}", file=sys.stderr)
        return EXIT_USAGE
    labels = list(workflow.tasks[args.task].labels)
    try:
        rows = runner.run(setup, examples)
    except KeyboardInterrupt:
        print("\ntriage eval: interrupted; answers so far are cached — run the same command to resume", file=sys.stderr)
        return 130
    route = None if args.model == "policy" else policy.routes[args.model]
    expected = None if route is None else ("local" if route.kind == "local" else route.model)
    name = metrics.run_name(args.workflow, args.task, args.model, expected, rows)
    candidate = metrics.summary(rows, labels, name=name)
    baselines: list[dict[str, Any]] = []
    if not args.no_baselines:
        baselines.append({**metrics.majority_baseline(rows), "name": "majority class"})
        if args.model != "local" and workflow.tasks[args.task].local_model:
            local_setup = runner.EvalSetup(
                runner.with_route(policy, args.workflow, "local"), args.workflow, args.task, None, setup.local
            )
            baselines.append(
                metrics.summary(runner.run(local_setup, examples, progress=False), labels, name="local model")
            )
    print(report.terminal_summary(candidate, baselines))
    if args.out:
        path = report.write_html(args.out, candidate, baselines)
        print(f"report: {path}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"candidate": candidate, "baselines": baselines}, indent=2))
    if args.gate:
        return _gate(args, candidate, workflow.error_tolerance)
    return 0


def _gate(args: argparse.Namespace, candidate: dict[str, Any], tolerance: float) -> int:
    from triage_tools.reports import eval as report

    try:
        stored = json.loads(args.gate.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"triage eval: cannot read the gate baseline {args.gate}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    baseline = stored.get("candidate", stored)
    problems = report.gate(candidate, baseline, tolerance=tolerance, margin=args.margin)
    if problems:
        print("GATE FAILED:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_GATE
    print(f"gate passed against {args.gate}")
    return 0


def run_calibrate_command(args: argparse.Namespace) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import DEFAULT_POLICY_PATH
    from triage_tools.evaluation import runner
    from triage_tools.evaluation.calibrate import min_samples_for, propose, task_tolerance
    from triage_tools.evaluation.calibration_policy import policy_change
    from triage_tools.evaluation.calibration_report import proposal_lines
    from triage_tools.evaluation.dataset import DatasetError

    try:
        setup, _policy, examples, workflow = _prepare(args)
    except (DatasetError, ConfigurationError, ValueError) as exc:
        print(f"triage calibrate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Fit on the raw reported confidence: drop the calibration currently in the policy for this task.
    task = workflow.tasks[args.task].replace(**{"calibration": {}, "calibration_default": None})
    tasks = {**workflow.tasks, args.task: task}
    policy = setup.policy.replace(
        **{"workflows": {**setup.policy.workflows, args.workflow: workflow.replace(**{"tasks": tasks})}}
    )
    setup.policy = policy
    rows = runner.run(setup, examples)
    tolerance = task_tolerance(workflow)
    needed = max(args.min_samples or 0, min_samples_for(tolerance))
    rule = workflow.rules.always_review.get(args.task, [])
    proposal = propose(rows, list(task.labels), tolerance, needed, always_review=rule)
    print(
        f"{args.workflow}/{args.task}: error tolerance {workflow.error_tolerance:.1%} per ticket, {tolerance:.1%} for "
        f"this task ({len(workflow.tasks)} tasks applied together); a label needs ≥ {needed} predictions of its "
        "own for its own threshold, otherwise the pooled threshold applies"
    )
    print("\n".join(proposal_lines(proposal)))
    path = args.policy or DEFAULT_POLICY_PATH
    changed, diff = policy_change(path, args.workflow, args.task, proposal)
    print(diff or "(no change to the policy)")
    if args.write and diff:
        path.write_text(changed, encoding="utf-8")
        print(f"wrote {path}; run `triage policy check` and review the diff before shipping")
    return 0
