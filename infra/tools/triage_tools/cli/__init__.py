"""The ``triage`` command: one module per command group; each imports what it runs only when it runs."""

from __future__ import annotations

import argparse
import sys

from triage_gate import __version__
from triage_tools.backtest.cli import add_backtest_parser
from triage_tools.cli import checks, deploy_check, report, review, stack
from triage_tools.cli.extras import MissingExtra
from triage_tools.evaluation.cli import add_eval_parsers
from triage_tools.history.cli import add_history_parser
from triage_tools.rollout.cli import add_parser as add_rollout_parser
from triage_tools.setup.cli import add_setup_parsers
from triage_tools.training.cli import add_train_parser

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except MissingExtra as exc:  # e.g. `triage train` after a plain `pip install .`
        print(f"triage {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="Triage Gate operations and local tools.")
    parser.add_argument("--version", action="version", version=f"triage-gate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The order here is the order `triage --help` lists the commands in.
    stack.add_stack_parsers(sub)  # local, demo, send
    add_setup_parsers(sub)  # setup secrets|zendesk|hubspot|slack, doctor
    checks.add_parsers(sub)  # policy, flags
    review.add_parsers(sub)  # review, feedback
    report.add_parser(sub)  # report
    add_history_parser(sub)  # history pull
    add_backtest_parser(sub)  # backtest
    add_rollout_parser(sub)  # rollout status, rollout promote
    add_eval_parsers(sub)  # eval, calibrate
    add_train_parser(sub)  # train
    deploy_check.add_parser(sub)  # deploy-check
    stack.add_sign_event_parser(sub)  # sign-event
    return parser
