"""``triage setup slack``: write the app manifest, then check the bot is in the policy's channels."""

from __future__ import annotations

import argparse
from pathlib import Path

from triage_tools.setup.changes import Changes
from triage_tools.setup.context import SetupContext, load_policy_arg, open_context
from triage_tools.setup.slack import (
    APP_NAME,
    PLACEHOLDER_URL,
    check_membership,
    manifest_text,
    policy_channels,
    slack_client,
    slack_error_fix,
)


def run(args: argparse.Namespace) -> int:
    policy = load_policy_arg(args.policy)
    context = open_context(args, stack_required=False)
    changes = Changes(args.dry_run)
    _write_manifest(args.manifest, _request_url(args, context), changes)
    if not args.manifest_only:
        _check_channels(context, policy_channels(policy), changes)
    return changes.summary("Slack")


def _request_url(args: argparse.Namespace, context: SetupContext) -> str:
    url = args.request_url
    if not url and context.stack is not None and not context.stack.local:
        url = context.stack.outputs.get("SlackInteractionsUrl")
    if not url:
        print(f"Interactivity URL: a placeholder ({PLACEHOLDER_URL}); run with --stack NAME after deploying, or give "
              "--request-url URL (Slack must reach it over HTTPS)")  # fmt: skip
        return PLACEHOLDER_URL
    if not str(url).startswith("https://"):
        print(f"Note: Slack accepts only https:// request URLs; {url} will be refused when the app is updated")
    return str(url)


def _write_manifest(path: Path, request_url: str, changes: Changes) -> None:
    import difflib

    text = manifest_text(request_url)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current == text:
        changes.unchanged(f"manifest {path}")
        return
    if current is not None:
        print("".join(difflib.unified_diff(current.splitlines(True), text.splitlines(True), str(path), str(path))),
              end="")  # fmt: skip
    changes.change("wrote" if current is not None else "created", f"manifest {path} (interactivity: {request_url})")
    if not changes.dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _check_channels(context: SetupContext, channels: dict[str, list[str]], changes: Changes) -> None:
    from slack_sdk.errors import SlackApiError, SlackClientError

    token = context.value("SLACK_BOT_TOKEN")
    if not token:
        changes.problem("channels not checked: no SLACK_BOT_TOKEN in the stack's secret or the environment "
                        "(install the app, then `triage setup secrets`)")  # fmt: skip
        return
    client = slack_client(token, context.base_url("SLACK_API_URL"))
    try:
        bot, memberships = check_membership(client, channels)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        changes.problem(
            f"channels not checked: Slack said {error}: {slack_error_fix(error, exc.response.get('needed'))}"
        )
        return
    except (SlackClientError, OSError) as exc:  # slack_sdk raises urllib's URLError (an OSError) when unreachable
        changes.problem(f"channels not checked: Slack could not be reached ({type(exc).__name__}): check SlackApiUrl")
        return
    print(f"Channels (the bot is @{bot}):")
    for membership in memberships:
        uses = ", ".join(membership.uses)
        if membership.state == "member":
            print(f"  #{membership.channel} ({uses}): the bot is a member")
        else:
            changes.problem(f"#{membership.channel} ({uses}): {membership.fix(APP_NAME)}")
