"""``triage backtest DIR --workflow W``: what Triage Gate would have done on a pulled help-desk history."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from triage_tools.backtest.split import DEFAULT_CALIBRATION_SHARE, DEFAULT_TRAIN_SHARE

EXIT_USAGE = 2
EXIT_FAILED = 1

_DESCRIPTION = """\
Replay a history pulled with `triage history pull` through the production decision code on a time split:
the oldest --train-share of the tickets (by created_at) trains the local model per task (its newest
--calibration-share calibrates it, pooled across labels), and only the newer tickets are decided. Reports, per
rollout mode, coverage, precision against the people's final labels (Wilson bounds against the error tolerance),
review volume per week, turnaround and hours recovered against the measured baseline in DIR/baseline.json."""


def add_backtest_parser(sub: Any) -> None:
    cmd = sub.add_parser(
        "backtest", help="replay a pulled history: what Triage Gate would have done, against the measured baseline",
        description=_DESCRIPTION,
    )  # fmt: skip
    cmd.add_argument("dir", type=Path, metavar="DIR", help="a `triage history pull --out` directory")
    cmd.add_argument("--workflow", required=True, help="workflow of the policy file the history was pulled for")
    cmd.add_argument("--policy", type=Path, help="policy file (default: the shipped one)")
    cmd.add_argument(
        "--model", choices=("local", "policy"), default="local",
        help="'local': every task on the local model trained on the history (default); 'policy': the policy's "
        "routes, Claude answered from --recorded or the answer cache (the trained local model when Claude is not "
        "available)",
    )  # fmt: skip
    cmd.add_argument("--out", type=Path, metavar="REPORT_DIR", help="write report.html, backtest.json and models/")
    cmd.add_argument(
        "--write-baseline", action="store_true",
        help="write the measured roi_baseline (turnaround, error rate, their sources) into the policy",
    )  # fmt: skip
    cmd.add_argument(
        "--train-share", type=float, default=DEFAULT_TRAIN_SHARE,
        help=f"oldest share of the tickets to train and calibrate on (default {DEFAULT_TRAIN_SHARE})",
    )  # fmt: skip
    cmd.add_argument("--calibration-share", type=float, default=DEFAULT_CALIBRATION_SHARE,
                     help="newest share of the training window that calibrates instead of training "
                     f"(default {DEFAULT_CALIBRATION_SHARE})")  # fmt: skip
    cmd.add_argument("--recorded", type=Path, help="replay Claude answers from this file (no API calls)")
    cmd.add_argument("--cache", type=Path, default=Path(".triage/eval-cache.jsonl"), help="Claude answer cache")
    cmd.add_argument("--concurrency", type=int, default=4, help="parallel Claude calls (default 4)")
    cmd.set_defaults(func=run_backtest_command)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"triage backtest: {message}", file=sys.stderr)
    return code


def _remote(args: argparse.Namespace, policy: Any) -> Any:
    """Claude for `--model policy` as `triage eval` has it: recorded answers, or the API behind the cache."""
    from triage_gate.adapters.claude import ClaudeModel
    from triage_gate.adapters.secrets import EnvironmentSecrets
    from triage_gate.config import VendorSecrets
    from triage_tools.evaluation.runner import AnswerCache, CachedRemote

    if args.model == "local":
        return None
    if args.recorded:
        if not args.recorded.is_file():
            raise FileNotFoundError(f"--recorded {args.recorded}: no such file")
        return CachedRemote(None, AnswerCache(args.recorded), replay_only=True)
    claude = ClaudeModel(
        EnvironmentSecrets(VendorSecrets.from_env()), policy.prices, os.environ.get("ANTHROPIC_BASE_URL")
    )
    workflow = policy.workflows[args.workflow]
    if any(policy.routes[t.route].kind == "claude" for t in workflow.tasks.values()) and not claude.enabled():
        print(
            "triage backtest: ANTHROPIC_API_KEY is not set: Claude routes use the trained local model", file=sys.stderr
        )
    return CachedRemote(claude, AnswerCache(args.cache))


def run_backtest_command(args: argparse.Namespace) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy
    from triage_tools.backtest.history import BacktestInputError, load_history
    from triage_tools.backtest.split import split_by_time
    from triage_tools.cli.extras import require
    from triage_tools.evaluation.runner import with_route

    require("train")  # the replay trains the local model on the older tickets
    if args.concurrency < 1:
        return _fail(f"--concurrency must be at least 1, got {args.concurrency}")
    try:
        policy = load_policy(args.policy)
        if args.workflow not in policy.workflows:
            raise BacktestInputError(
                f"no workflow {args.workflow!r} in the policy (workflows: {sorted(policy.workflows)})"
            )
        history = load_history(args.dir, args.workflow, policy.workflows[args.workflow])
        split = split_by_time(history.tickets, args.train_share, args.calibration_share)
        remote = _remote(args, policy)
    except (ConfigurationError, BacktestInputError, FileNotFoundError) as exc:
        return _fail(str(exc))
    for reason, count in history.left_out.items():
        print(f"triage backtest: left out {count} tickets ({reason})", file=sys.stderr)
    routed = with_route(policy, args.workflow, "local" if args.model == "local" else "policy")
    path = args.policy or DEFAULT_POLICY_PATH
    try:
        result = _replay(args, routed, history, split, remote, path)
    except BacktestInputError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted; Claude answers so far are cached: run the same command to resume", 130)
    return _report(args, result, history, path)


def _replay(args: argparse.Namespace, policy: Any, history: Any, split: Any, remote: Any, path: Path) -> dict[str, Any]:
    from triage_gate.adapters.local_models import LocalModelCache
    from triage_tools.backtest.replay import ReplaySetup, replay
    from triage_tools.backtest.result import build_result

    def say(message: str) -> None:
        print(f"triage backtest: {message}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="triage-backtest-") as scratch:
        models_dir = args.out / "models" if args.out else Path(scratch)
        setup = ReplaySetup(policy, args.workflow, remote, LocalModelCache(), models_dir, args.concurrency, say=say)
        outcome = replay(setup, split)
        return build_result(history=history, split=split, replay=outcome, policy=policy, policy_path=path,
                            workflow=args.workflow, model=args.model)  # fmt: skip


def _report(args: argparse.Namespace, result: dict[str, Any], history: Any, path: Path) -> int:
    from triage_tools.reports import backtest as report

    print(report.terminal(result))
    if args.out:
        print(f"report: {report.write_html(args.out, result)}")
    return _write_baseline(args, history, path) if args.write_baseline else _baseline_hint(result)


def _baseline_hint(result: dict[str, Any]) -> int:
    baseline = result["baseline"]
    stated = [f for f in baseline["measured"] if not baseline["policy"][f]["source"].startswith("measured")]
    if stated:
        print(f"the policy's {', '.join(stated)} are stated, not measured: --write-baseline records the measurements")
    return 0


def _write_baseline(args: argparse.Namespace, history: Any, path: Path) -> int:
    from triage_tools.backtest.baseline import baseline_change, measured_figures

    figures, notes = measured_figures(history.baseline)
    for note in notes:
        print(f"triage backtest: {note}", file=sys.stderr)
    if not figures:
        return _fail("nothing measured to write into the policy", EXIT_FAILED)
    try:
        changed, diff = baseline_change(path, args.workflow, figures)
    except (OSError, ValueError) as exc:
        return _fail(f"cannot write the baseline into {path}: {exc}", EXIT_FAILED)
    print(diff or "(the policy already holds the measured baseline)")
    if diff:
        path.write_text(changed, encoding="utf-8")
        print(f"wrote {path}: manual_minutes_per_ticket stays as stated; run `triage policy check` and review the diff")
    return 0
