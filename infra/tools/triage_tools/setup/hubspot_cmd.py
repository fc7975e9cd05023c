"""``triage setup hubspot``: scopes, the policy's ticket properties, the webhook settings to enter by hand."""

from __future__ import annotations

import argparse

from triage_gate.policy import Policy
from triage_tools.setup.changes import Changes
from triage_tools.setup.context import SetupContext, UsageProblem, load_policy_arg, open_context
from triage_tools.setup.http import AdminHttp
from triage_tools.setup.hubspot import (
    check_standard_property,
    custom_properties,
    desired_property,
    ensure_group,
    ensure_property,
    hubspot_http,
    missing_scopes,
    scope_fix,
    token_info,
    watched_properties,
    written_values,
)


def run(args: argparse.Namespace) -> int:
    policy = load_policy_arg(args.policy)
    context = open_context(args, stack_required=False)
    token = context.value("HUBSPOT_ACCESS_TOKEN")
    if not token:
        where = "the stack's secret or the environment" if context.stack else "the environment (no stack found)"
        raise UsageProblem(f"HubSpot needs HUBSPOT_ACCESS_TOKEN (a private app's access token) from {where}")
    http = hubspot_http(context.base_url("HUBSPOT_BASE_URL"), token)
    changes = Changes(args.dry_run)
    info = token_info(http, token)
    print(f"HubSpot {http.base_url}: private app {info.get('appId')} in portal {info.get('hubId')}, "
          f"scopes: {', '.join(sorted(info.get('scopes') or [])) or 'none'}")  # fmt: skip
    missing = missing_scopes(info)
    for scope in missing:
        changes.problem(f"{scope_fix(scope)}: add it to the private app (HubSpot → Settings → Integrations → "
                        "Private Apps, or Development → Legacy apps → your app → Scopes), then commit")  # fmt: skip
    if "tickets" in missing:
        print("Properties: not checked without the tickets scope")
    else:
        _properties(http, policy, changes)
    _print_subscriptions(context, policy)
    return changes.summary("HubSpot")


def _properties(http: AdminHttp, policy: Policy, changes: Changes) -> None:
    values = written_values(policy)
    custom = custom_properties(policy)
    print("Ticket properties:")
    if custom:
        ensure_group(http, changes)
    for name in custom:
        if not values.get(name):
            changes.problem(f"{name} is declared in writeback.hubspot_custom_properties but no label writes it")
            continue
        ensure_property(http, desired_property(name, values[name]), changes)
    for name, written in values.items():
        if name not in custom:
            check_standard_property(http, name, written, changes)


def _print_subscriptions(context: SetupContext, policy: Policy) -> None:
    url = context.stack.outputs.get("HubSpotWebhookUrl") if context.stack else None
    print("Webhook subscriptions (a private app token cannot create them: enter them in the HubSpot app that "
          "sends the webhooks, its Webhooks settings; concurrency: the default 10 is fine):")  # fmt: skip
    print(f"  Target URL: {url or '<the stack output HubSpotWebhookUrl: run with --stack NAME>'}")
    print("  Event: ticket.creation")
    for name in watched_properties(policy):
        print(f"  Event: ticket.propertyChange, property {name}")
    print("  Then store that app's client secret (its Auth page) as HUBSPOT_CLIENT_SECRET (`triage setup secrets`): "
          "it signs the webhooks (X-HubSpot-Signature-v3).")  # fmt: skip
