"""``triage setup secrets --from FILE``: read FILE, merge it into the stack's secret, report per key."""

from __future__ import annotations

import argparse
import sys

from triage_tools.setup.context import UsageProblem
from triage_tools.setup.secrets import SecretsFileError, plan_secrets, print_report, read_secrets_file
from triage_tools.setup.stack import resolve_stack


def run(args: argparse.Namespace) -> int:
    try:
        given = read_secrets_file(args.source)
    except SecretsFileError as exc:
        raise UsageProblem(str(exc)) from None
    stack = resolve_stack(args.stack, args.url, args.secret_id)
    secret = stack.secret()
    current, problem = secret.read()
    if problem:
        print(f"{secret.secret_id}: {problem}; it is replaced by the keys below")
    change = plan_secrets(current, given)
    if change.missing:
        raise UsageProblem(
            f"{args.source} leaves required key(s) without a value: {', '.join(change.missing)} "
            f"(neither {args.source} nor the secret {secret.secret_id} has them); nothing was written"
        )
    print(f"{stack.label}: secret {secret.secret_id}")
    if change.changed and not args.dry_run:
        secret.write(change.merged)
    print_report(change, f"secret {secret.secret_id}", sys.stdout, dry_run=args.dry_run)
    if change.changed and not args.dry_run:
        print("Warm functions keep the secret they read for up to 5 minutes: the change is in effect by then.")
    return 0
