"""``triage rollout status`` and ``triage rollout promote``: the arguments (the work is in :mod:`.commands`,
imported when a command runs)."""

from __future__ import annotations

import argparse

__all__ = ["add_flags_options", "add_parser"]

DEFAULT_FLAGS_FILE = "infra/local/flags.json"


def add_flags_options(parser: argparse.ArgumentParser, *, decisions: bool = True) -> None:
    """Where the rollout flags are (and, with ``decisions``, the decision records: ``--url``/``--table``): a local
    stack and its flags file, or a deployed stack."""
    where = parser.add_argument_group(f"rollout flags (default: $FLAGS_FILE, else {DEFAULT_FLAGS_FILE})")
    if decisions:
        records = where.add_mutually_exclusive_group()
        records.add_argument("--url", help="a running local stack (default http://127.0.0.1:3000)")
        records.add_argument("--table", help="a deployed DecisionsTable (AWS credentials from the environment)")
    where.add_argument("--flags", metavar="FILE", help="the flags JSON file (default $FLAGS_FILE, else the local one)")
    where.add_argument(
        "--stack",
        metavar="NAME",
        help="a deployed stack: AppConfig ids, DecisionsTable and ControlTable from its outputs",
    )
    where.add_argument("--appconfig-application", metavar="ID", help="AppConfig application id (RolloutApplicationId)")
    where.add_argument("--appconfig-environment", metavar="ID", help="AppConfig environment id (RolloutEnvironmentId)")
    where.add_argument(
        "--appconfig-profile", metavar="ID", help="AppConfig configuration profile id (RolloutProfileId)"
    )
    where.add_argument(
        "--deployment-strategy", metavar="ID", help="AppConfig deployment strategy id (RolloutDeploymentStrategyId)"
    )
    where.add_argument("--control-table", metavar="NAME", help="the ControlTable holding the audit trail (AWS)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``rollout`` with ``status`` and ``promote``."""
    rollout = sub.add_parser(
        "rollout", help="the promotion gate: rollout evidence per segment, and evidence-backed flag changes"
    )
    actions = rollout.add_subparsers(dest="rollout_command", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status",
        help="per workflow and segment: mode, shadow agreement, applied precision, review load, what next",
        description="Per workflow and rollout segment: the current mode, decisions, shadow agreement with humans and "
        "precision of applied decisions (Wilson bounds), review backlog and SLA misses, against the policy's "
        "error_tolerance and promotion bar; the recommendation (hold, promote, widen, roll back) and the last "
        "changes from the audit trail.",
    )
    status.add_argument("--workflow", help="only this workflow")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--policy", help="policy file (default: the shipped one)")
    add_flags_options(status)
    status.set_defaults(func=_cmd_status)

    promote = actions.add_parser(
        "promote",
        help="change a segment's mode (or share) when the evidence meets the policy's bar; recorded",
        description="Write a rollout flag change: locally the flags file, in AWS a new AppConfig hosted configuration "
        "version deployed with the stack's strategy. Refused (exit 1, naming each unmet bar) when the evidence does "
        "not meet the policy's promotion bar, unless --force --reason TEXT. Rolling back (a safer mode, a smaller "
        "share) is always allowed. Every change is written to the audit trail.",
    )
    promote.add_argument("--workflow", required=True, help="the workflow (mode.<workflow> flag)")
    promote.add_argument("--to", required=True, metavar="MODE", help="off, shadow, assist or auto")
    promote.add_argument(
        "--segment", default="default", metavar="RULE", help="a rule of the flag, or 'default' (the default)"
    )
    promote.add_argument(
        "--share", type=float, metavar="PCT", help="percentage of ticket numbers for a MODULO_RANGE rule (new or not)"
    )
    promote.add_argument("--force", action="store_true", help="make the change although the bar is not met")
    promote.add_argument("--reason", help="why (required with --force; recorded in the audit trail)")
    promote.add_argument("--actor", help="who (default: $TRIAGE_ACTOR, the AWS caller, or the local user)")
    promote.add_argument("--policy", help="policy file (default: the shipped one)")
    add_flags_options(promote)
    promote.set_defaults(func=_cmd_promote)


def _cmd_status(args: argparse.Namespace) -> int:
    from triage_tools.rollout.commands import status_command

    return status_command(args)


def _cmd_promote(args: argparse.Namespace) -> int:
    from triage_tools.rollout.commands import promote_command

    return promote_command(args)
