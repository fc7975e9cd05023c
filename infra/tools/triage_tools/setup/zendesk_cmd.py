"""``triage setup zendesk``: list the account, fill the policy's ids, connect the webhook, store its secret."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from triage_gate.policy import DEFAULT_POLICY_PATH, Policy
from triage_tools.setup.changes import Changes
from triage_tools.setup.context import SetupContext, UsageProblem, load_policy_arg, open_context, parse_pairs
from triage_tools.setup.http import AdminHttp
from triage_tools.setup.zendesk_account import ZendeskAccount, print_account, read_account, zendesk_http
from triage_tools.setup.zendesk_hooks import (
    PENDING_ID,
    desired_triggers,
    desired_webhook,
    ensure_triggers,
    ensure_webhook,
    marker_tags,
    signing_secret,
    webhook_name,
)

SECRET_KEY = "ZENDESK_WEBHOOK_SECRET"
CACHE_NOTE = (
    "warm functions keep the secret they read for up to 5 minutes (SECRETS_MAX_AGE_SECONDS): a delivery before "
    "then may be refused (401), and Zendesk does not retry a 401; wait 5 minutes before creating test tickets"
)


def run(args: argparse.Namespace) -> int:
    groups, fields = parse_pairs(args.group, "--group"), parse_pairs(args.field, "--field")
    if (groups or fields) and not args.write_policy:
        raise UsageProblem("--group and --field only apply with --write-policy")
    policy = load_policy_arg(args.policy)
    connect = not args.list_only
    context = open_context(args, stack_required=connect and not args.webhook_url and not args.secret_id)
    http = _http(context)
    account = read_account(http)
    print_account(account, http.base_url, sys.stdout)
    changes = Changes(args.dry_run)
    _check_flag_brands(context, policy, account, changes)
    if args.write_policy:
        _write_policy(Path(args.policy or DEFAULT_POLICY_PATH), policy, account, groups, fields, changes)
    if connect:
        if not account.is_admin:
            changes.problem(
                f"{account.user.get('email')} is an {account.user.get('role')}: webhooks and triggers "
                "need an admin's API token (Admin Center → Apps and integrations → Zendesk API)"
            )
        else:
            _connect(args, context, http, policy, changes)
    return changes.summary("Zendesk")


def _http(context: SetupContext) -> AdminHttp:
    base_url = context.base_url("ZENDESK_BASE_URL")
    email, token = context.value("ZENDESK_EMAIL"), context.value("ZENDESK_API_TOKEN")
    missing = [name for name, value in (("ZENDESK_BASE_URL", base_url), ("ZENDESK_EMAIL", email),
                                         ("ZENDESK_API_TOKEN", token)) if not value]  # fmt: skip
    if missing:
        where = "the stack's secret or the environment" if context.stack else "the environment (no stack found)"
        hint = " (ZendeskBaseUrl is a stack parameter: redeploy with it)" if "ZENDESK_BASE_URL" in missing else ""
        raise UsageProblem(f"Zendesk needs {', '.join(missing)} from {where}{hint}")
    if not base_url.startswith(("https://", "http://")):
        raise UsageProblem(f"ZENDESK_BASE_URL must be a URL such as https://acme.zendesk.com, got {base_url!r}")
    return zendesk_http(base_url, email, token)


def _check_flag_brands(context: SetupContext, policy: Policy, account: ZendeskAccount, changes: Changes) -> None:
    from triage_tools.rollout.flags import FlagsError
    from triage_tools.setup.flags import read_flags
    from triage_tools.setup.zendesk_account import flag_brand_problems

    names = {f"mode.{name}" for name, workflow in policy.workflows.items() if workflow.source == "zendesk"}
    try:
        flags, where = read_flags(context.stack)
    except FlagsError as exc:
        print(f"(rollout flags not checked: {exc})")
        return
    for problem in flag_brand_problems(flags, account.brands, names):
        changes.problem(f"{where}: {problem}: change the rule (`triage rollout promote`, or edit the flags)")


def _write_policy(path: Path, policy: Policy, account: ZendeskAccount, groups: dict[str, str],
                  fields: dict[str, str], changes: Changes) -> None:  # fmt: skip
    from triage_tools.setup.zendesk_policy import resolve_ids, rewrite_policy, write_policy

    resolved = resolve_ids(policy, account, groups, fields)
    print(f"Policy {path}: {len(resolved.changes)} id(s) to fill, {resolved.kept} already this account's")
    for change in resolved.changes:
        where = f"{change.workflow}.{change.task}" + (f".{change.label} group_id" if change.label else " custom field")
        print(f"  {where}: {change.old} → {change.new} ({change.name})")
    if resolved.changes:
        text, diff = rewrite_policy(path, resolved.changes)
        print(diff, end="")
        changes.change("wrote", f"{path} ({len(resolved.changes)} id(s))")
        if not changes.dry_run:
            write_policy(path, text)
    for problem in [*resolved.unresolved, *resolved.option_problems]:
        changes.problem(problem)


def _connect(args: argparse.Namespace, context: SetupContext, http: AdminHttp, policy: Policy,
             changes: Changes) -> None:  # fmt: skip
    stack_name = context.stack.name if context.stack else "custom"
    endpoint = args.webhook_url or context.require_stack("the webhook's endpoint").outputs.get("ZendeskWebhookUrl")
    if not endpoint:
        raise UsageProblem("the stack has no ZendeskWebhookUrl output: give --webhook-url URL")
    if context.secret is None:
        raise UsageProblem("there is no secret to store the webhook's signing secret in: give --stack or --secret-id")
    print(f"Webhook for {context.stack.label if context.stack else endpoint} ({args.connection}):")
    webhook_id = ensure_webhook(http, desired_webhook(webhook_name(stack_name), endpoint, args.connection), changes)
    if args.connection == "trigger":
        ensure_triggers(http, desired_triggers(webhook_id, marker_tags(policy)), changes)
    if webhook_id == PENDING_ID:
        changes.change("stored", f"the new webhook's signing secret as {SECRET_KEY} in {context.secret.secret_id}")
        return
    secret = signing_secret(http, webhook_id)
    if context.stored.get(SECRET_KEY) == secret:
        changes.unchanged(f"{SECRET_KEY} in {context.secret.secret_id}")
        return
    changes.change("stored", f"the webhook's signing secret as {SECRET_KEY} in {context.secret.secret_id}")
    if not changes.dry_run:
        context.secret.write({**context.stored, SECRET_KEY: secret})
        context.stored[SECRET_KEY] = secret
        print(f"  note: {CACHE_NOTE}")
