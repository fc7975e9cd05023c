"""``triage policy check`` and ``triage flags check``: validate what the deployed functions will read."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``policy`` and ``flags``."""
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
