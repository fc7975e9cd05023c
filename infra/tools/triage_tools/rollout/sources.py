"""Where ``triage rollout`` (and ``triage report``'s rollout section) reads and writes, from the command line.

- ``--flags FILE``: that file (the audit trail beside it).
- ``--stack NAME`` or ``--appconfig-*``: AppConfig; the stack's outputs fill in what is not given (the
  application, environment, profile and deployment strategy ids, DecisionsTable, ControlTable). The audit trail
  is in the ControlTable.
- nothing: the local stack (``--url``, default http://127.0.0.1:3000) and the flags file it reads:
  ``$FLAGS_FILE``, else ``infra/local/flags.json`` (what ``make local`` and ``make demo`` use).
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from triage_tools.cli.stores import decision_store
from triage_tools.rollout.audit import AuditTrail, DynamoAuditTrail, JsonlAuditTrail
from triage_tools.rollout.cli import DEFAULT_FLAGS_FILE
from triage_tools.rollout.flags import AppConfigFlags, FileFlags, FlagsTarget, stack_outputs

if TYPE_CHECKING:
    from triage_gate.adapters.aws import AwsClients
    from triage_gate.triage.decision import DecisionRecord

__all__ = ["Sources", "UsageError", "resolve"]


class UsageError(ValueError):
    """The options do not say where to read or write (exit 2)."""


@dataclass
class Sources:
    flags: FlagsTarget
    audit: AuditTrail | None
    audit_problem: str | None  # why there is no audit trail
    decisions: Callable[[], list[DecisionRecord]]
    aws: AwsClients

    def identity(self) -> str | None:
        """The AWS caller's ARN when the flags are in AppConfig (None locally, or when STS cannot say)."""
        if not isinstance(self.flags, AppConfigFlags):
            return None
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(self.aws.client("sts").get_caller_identity()["Arn"])
        except (BotoCoreError, ClientError, KeyError):
            return None

    def actor(self, given: str | None, identity: str | None) -> str:
        return given or os.environ.get("TRIAGE_ACTOR") or identity or getpass.getuser()


def resolve(args: argparse.Namespace, aws: AwsClients | None = None) -> Sources:
    """Raises UsageError (incomplete options) or FlagsError (a stack that cannot be described)."""
    from triage_gate.adapters.aws import AwsClients

    aws = aws or AwsClients()
    outputs = stack_outputs(aws.client("cloudformation"), args.stack) if args.stack else {}
    ids = {
        "--appconfig-application": args.appconfig_application or outputs.get("RolloutApplicationId"),
        "--appconfig-environment": args.appconfig_environment or outputs.get("RolloutEnvironmentId"),
        "--appconfig-profile": args.appconfig_profile or outputs.get("RolloutProfileId"),
    }
    table = args.table or (None if args.url else outputs.get("DecisionsTableName"))
    flags: FlagsTarget
    audit: AuditTrail | None = None
    problem = None
    if args.flags:
        flags = FileFlags(Path(args.flags))
    elif any(ids.values()):
        missing = [option for option, value in ids.items() if not value]
        if missing:
            raise UsageError(f"AppConfig needs {', '.join(missing)} too (or --stack NAME)")
        strategy = args.deployment_strategy or outputs.get("RolloutDeploymentStrategyId")
        app, env, profile = (str(v) for v in ids.values())
        flags = AppConfigFlags(aws.client("appconfig", read_timeout=10.0), app, env, profile, strategy)
    elif table:
        raise UsageError(
            "a deployed stack's flags are in AppConfig: give --stack NAME, or --appconfig-application, "
            "--appconfig-environment and --appconfig-profile (or --flags FILE)"
        )
    else:
        flags = FileFlags(Path(os.environ.get("FLAGS_FILE") or DEFAULT_FLAGS_FILE))
    if isinstance(flags, FileFlags):
        audit = JsonlAuditTrail(flags.audit_path)
    elif control := (args.control_table or outputs.get("ControlTableName")):
        audit = DynamoAuditTrail(control, aws.client("dynamodb", read_timeout=10.0))
    else:
        problem = "no ControlTable for the audit trail: give --control-table NAME or --stack NAME"
    return Sources(flags, audit, problem, lambda: decision_store(args.url, table).scan(), aws)
