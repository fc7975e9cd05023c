"""``triage setup secrets|zendesk|hubspot|slack`` and ``triage doctor``: the arguments. The work is in the
sibling modules, imported when a command runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["add_setup_parsers"]

EXIT_USAGE, EXIT_FAILED = 2, 1
DEFAULT_MANIFEST = Path("infra/slack/manifest.yaml")

SETUP_DESCRIPTION = """\
The admin's path after `make deploy`, one command a step (each idempotent: a second run changes nothing):

  triage setup slack --stack NAME --manifest-only the Slack app's manifest, to create the app from
  triage setup secrets --from FILE --stack NAME   the vendor keys into the stack's secret
  triage setup zendesk --stack NAME               groups/brands/fields; webhook, triggers, signing secret
  triage setup hubspot --stack NAME               token scopes; custom properties; webhook settings to enter
  triage setup slack --stack NAME                 infra/slack/manifest.yaml; the bot in the policy's channels
  triage doctor --stack NAME                      every credential, URL, flag and alarm subscription checked

Without --stack they work on the local stack (`make local`, http://127.0.0.1:3000 or --url)."""


def _stack_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("which stack (default: the local stack)")
    where.add_argument("--stack", metavar="NAME", help="a deployed stack (CloudFormation outputs and parameters)")
    where.add_argument("--url", metavar="URL", help="the local stack's address (default http://127.0.0.1:3000)")
    where.add_argument("--secret-id", metavar="ID", help="the vendor secret (default: the stack's VendorSecretArn)")


def _policy_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, metavar="FILE", help="policy file (default: the shipped one)")


def add_setup_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``setup`` (secrets, zendesk, hubspot, slack) and ``doctor``."""
    setup = sub.add_parser(
        "setup", help="connect a stack to Zendesk, HubSpot and Slack, one idempotent command a step",
        description=SETUP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    steps = setup.add_subparsers(dest="setup_command", metavar="STEP", required=True)

    secrets = steps.add_parser(
        "secrets", help="put the vendor keys from FILE into the stack's secret (merged; values never shown)",
        description="Put the keys of FILE (a JSON object, or KEY=VALUE lines) into the stack's vendor secret, merged "
        "with what it holds. Unknown keys and required keys left without a value are refused (exit 2); values are "
        "never printed: each key is reported as set, unchanged, kept or not set.",
    )  # fmt: skip
    secrets.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE", help="the keys")
    secrets.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    _stack_options(secrets)
    secrets.set_defaults(func=_run("secrets_cmd"))

    zendesk = steps.add_parser(
        "zendesk", help="list groups/brands/fields; fill the policy's ids; create the webhook and triggers",
        description="API token auth: ZENDESK_BASE_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN from the stack's secret "
        "(and its ZendeskBaseUrl parameter), else the environment. Lists groups, brands and ticket fields; "
        "--write-policy fills the policy's group and custom field ids by name; creates or updates the webhook "
        "(endpoint: the stack's ZendeskWebhookUrl) and its triggers with loop-safe conditions (tags contain none of "
        "the marker tag), and stores the webhook's signing secret as ZENDESK_WEBHOOK_SECRET. Webhooks and "
        "triggers need an admin's API token.",
    )  # fmt: skip
    zendesk.add_argument(
        "--connection",
        choices=("trigger", "events"),
        default="trigger",
        help="trigger: the README's two triggers (default); events: a Zendesk event subscription",
    )
    zendesk.add_argument("--webhook-url", metavar="URL", help="the endpoint (default: the stack's ZendeskWebhookUrl)")
    zendesk.add_argument("--list-only", action="store_true", help="only list groups, brands and fields")
    zendesk.add_argument("--write-policy", action="store_true", help="fill the policy's Zendesk ids by name")
    zendesk.add_argument("--group", action="append", default=[], metavar="LABEL=NAME",
                         help="the Zendesk group a label routes to (LABEL, TASK.LABEL or WORKFLOW.TASK.LABEL); "
                         "default: the group named like the label (account_access = 'Account Access')")  # fmt: skip
    zendesk.add_argument("--field", action="append", default=[], metavar="TASK=TITLE",
                         help="the ticket field a task's custom_fields set (TASK or WORKFLOW.TASK); default: the "
                         "field titled like the task or 'AI <task>'")  # fmt: skip
    zendesk.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    _policy_option(zendesk)
    _stack_options(zendesk)
    zendesk.set_defaults(func=_run("zendesk_cmd"))

    hubspot = steps.add_parser(
        "hubspot", help="check the private app's scopes; create the policy's custom ticket properties",
        description="HUBSPOT_ACCESS_TOKEN (a private app's token) from the stack's secret, else the environment. "
        "Checks the token's scopes, creates or updates the custom ticket properties the policy declares "
        "(writeback.hubspot_custom_properties: enumerations of the values the policy writes) in the 'Triage Gate' "
        "property group, checks the options of HubSpot's own properties the policy writes, and prints the webhook "
        "subscriptions to enter in the developer app (a private app token cannot create them).",
    )  # fmt: skip
    hubspot.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    _policy_option(hubspot)
    _stack_options(hubspot)
    hubspot.set_defaults(func=_run("hubspot_cmd"))

    slack = steps.add_parser(
        "slack", help="write the Slack app manifest; check the bot is in the policy's channels",
        description="Writes the app manifest (bot scopes: exactly those of the Slack methods the code calls; "
        "interactivity request URL: the stack's SlackInteractionsUrl, or --request-url) and checks, with "
        "SLACK_BOT_TOKEN from the stack's secret (else the environment), that the bot is a member of every review "
        "and escalation channel of the policy, printing how to invite it where it is not.",
    )  # fmt: skip
    slack.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, metavar="FILE",
                       help=f"where to write the manifest (default {DEFAULT_MANIFEST})")  # fmt: skip
    slack.add_argument("--request-url", metavar="URL", help="the interactivity URL (default: the stack's)")
    slack.add_argument("--manifest-only", action="store_true", help="write the manifest; check no channel")
    slack.add_argument("--dry-run", action="store_true", help="show the manifest's changes; write nothing")
    _policy_option(slack)
    _stack_options(slack)
    slack.set_defaults(func=_run("slack_cmd"))

    doctor = sub.add_parser(
        "doctor", help="check a stack end to end: credentials, webhook URLs, flags, alarm subscription",
        description="Checks every credential with a harmless call (Zendesk users/me, HubSpot token info, Slack "
        "auth.test, Anthropic token counting), the Zendesk webhook's endpoint and signing secret and its triggers, "
        "the HubSpot properties, the bot's channels, the stack's three public URLs (one unsigned POST each: "
        "refused with 401 when the function reads its signing secret), the rollout flags and the alarm topic's "
        "subscriptions. Prints OK or what is wrong and the fix, per check. Exit 0 when nothing failed, 1 "
        "otherwise.",
    )  # fmt: skip
    doctor.add_argument("--flags", type=Path, metavar="FILE",
                        help="the local flags file (default $FLAGS_FILE, else infra/local/flags.json)")  # fmt: skip
    _policy_option(doctor)
    _stack_options(doctor)
    doctor.set_defaults(func=_run("doctor"))


def _run(module: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import importlib

        from triage_gate.errors import ConfigurationError
        from triage_tools.setup.context import UsageProblem
        from triage_tools.setup.http import VendorError
        from triage_tools.setup.stack import StackError

        command = "triage doctor" if module == "doctor" else f"triage setup {args.setup_command}"
        try:
            return int(importlib.import_module(f"triage_tools.setup.{module}").run(args))
        except (UsageProblem, ConfigurationError) as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except (StackError, VendorError) as exc:
            print(f"{command} failed: {exc}", file=sys.stderr)
            return EXIT_FAILED

    return run
