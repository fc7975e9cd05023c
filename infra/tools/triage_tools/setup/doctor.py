"""``triage doctor``: every check of :mod:`.doctor_checks`, plus the rollout flags and the alarm topic's
subscriptions; one line per check, the fix under each failure; exit 0 when nothing failed, 1 otherwise."""

from __future__ import annotations

import argparse
from pathlib import Path

from triage_tools.setup.context import SetupContext, load_policy_arg, open_context
from triage_tools.setup.doctor_checks import (
    Check,
    check_anthropic,
    check_hubspot,
    check_secret,
    check_slack,
    check_zendesk,
)
from triage_tools.setup.doctor_endpoints import check_endpoints


def run(args: argparse.Namespace) -> int:
    policy = load_policy_arg(args.policy)
    context = open_context(args, stack_required=True)
    assert context.stack is not None
    print(f"triage doctor: {context.stack.label}")
    checks = [
        *check_secret(context),
        *check_zendesk(context, policy),
        *check_hubspot(context, policy),
        *check_slack(context, policy),
        *check_anthropic(context, policy),
        *check_endpoints(context),
        check_flags(context, args.flags),
        *check_alarms(context),
    ]
    return report(checks)


def report(checks: list[Check]) -> int:
    width = max(len(c.name) for c in checks)
    for check in checks:
        print(f"[{check.status:<4}] {check.name:<{width}}  {check.detail}")
        if check.fix and check.status in ("FAIL", "INFO"):
            print(f"       {'':<{width}}  {'fix' if check.status == 'FAIL' else 'how'}: {check.fix}")
    counts = {status: sum(1 for c in checks if c.status == status) for status in ("OK", "FAIL", "SKIP", "INFO")}
    print(f"{counts['OK']} OK, {counts['FAIL']} failed, {counts['SKIP']} skipped, {counts['INFO']} to check by hand")
    return 1 if counts["FAIL"] else 0


def check_flags(context: SetupContext, path: Path | None) -> Check:
    from triage_gate.rollout import validate_flags
    from triage_tools.rollout.flags import FlagsError
    from triage_tools.setup.flags import read_flags

    try:
        document, where = read_flags(context.stack, path)
    except FlagsError as exc:
        fix = "fix AppConfig access (appconfig:List*/Get* for you)" if context.stack and not context.stack.local else (
            "give --flags FILE or set FLAGS_FILE to the file `triage local` reads")  # fmt: skip
        return Check("rollout flags", "FAIL", str(exc), fix)
    problems = validate_flags(document)
    if problems:
        return Check("rollout flags", "FAIL", f"{where}: " + "; ".join(problems),
                     "correct the flags (`triage flags check FILE`), then `triage rollout promote`")  # fmt: skip
    described = ", ".join(sorted(document)) or "none: every workflow in its policy mode"
    return Check("rollout flags", "OK", f"{where}: valid ({described})")


def check_alarms(context: SetupContext) -> list[Check]:
    from botocore.exceptions import BotoCoreError, ClientError

    stack = context.stack
    assert stack is not None
    topic = stack.outputs.get("AlarmTopicArn")
    if stack.local or not topic:
        why = "the local stack has no alarms" if stack.local else "the stack has no AlarmTopicArn output"
        return [Check("alarm subscription", "SKIP", why)]
    sns = stack.client("sns")
    try:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
        pending = [s for s in subscriptions if _pending(sns, s)]
    except (BotoCoreError, ClientError) as exc:
        return [Check("alarm subscription", "FAIL", f"cannot read {topic}: {exc}", "sns:ListSubscriptionsByTopic")]
    if not subscriptions:
        return [
            Check(
                "alarm subscription",
                "FAIL",
                "nobody is subscribed to the alarm topic: alarms reach no one",
                "redeploy with AlarmEmail=oncall@example.com (or subscribe a pager to AlarmTopicArn)",
            )
        ]
    if pending:
        emails = ", ".join(str(s.get("Endpoint")) for s in pending)
        return [Check("alarm subscription", "FAIL", f"PendingConfirmation for {emails}: alarms are not delivered",
                      f"confirm the e-mail: open the 'AWS Notification - Subscription Confirmation' mail sent to "
                      f"{emails} and click Confirm subscription")]  # fmt: skip
    shown = ", ".join(f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in subscriptions)
    return [Check("alarm subscription", "OK", f"confirmed: {shown}")]


def _pending(sns: object, subscription: dict[str, str]) -> bool:
    """SNS lists an unconfirmed subscription with the ARN "PendingConfirmation" (and, once it has an ARN, the
    attribute PendingConfirmation "true")."""
    arn = subscription.get("SubscriptionArn", "")
    if arn == "PendingConfirmation":
        return True
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn).get("Attributes", {})  # type: ignore[attr-defined]
    return str(attributes.get("PendingConfirmation", "false")).lower() == "true"
