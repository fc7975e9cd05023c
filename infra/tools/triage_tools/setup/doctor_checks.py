"""The checks ``triage doctor`` runs against one stack. Each is harmless (reads only; Anthropic's token counting
is free) and answers OK, FAIL with the fix, SKIP with why, or INFO for a step only a person can check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from triage_gate.policy import Policy
from triage_tools.setup.context import SetupContext
from triage_tools.setup.http import VendorError
from triage_tools.setup.secrets import FILLED_BY_SETUP, REQUIRED

Status = Literal["OK", "FAIL", "SKIP", "INFO"]
SETUP = "triage setup"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def stack_option(context: SetupContext) -> str:
    stack = context.stack
    return f" --stack {stack.name}" if stack is not None and not stack.local else ""


def check_secret(context: SetupContext) -> list[Check]:
    if context.secret is None:
        return [Check("vendor secret", "FAIL", "the stack has no vendor secret", "deploy the current template")]
    _, problem = context.secret.read()
    where = context.secret.secret_id
    missing = [k for k in REQUIRED if not context.stored.get(k)]
    if problem or missing:
        later = [k for k in missing if k in FILLED_BY_SETUP]
        now = [k for k in missing if k not in FILLED_BY_SETUP]
        fixes = [f"`{SETUP} secrets --from FILE{stack_option(context)}` for {', '.join(now)}"] if now else []
        fixes += [f"`{FILLED_BY_SETUP[k]}{stack_option(context)}` for {k}" for k in later]
        detail = problem or f"{where} has no value for {', '.join(missing)}"
        return [Check("vendor secret", "FAIL", detail, "; ".join(fixes) or f"`{SETUP} secrets --from FILE`")]
    return [Check("vendor secret", "OK", f"{where} holds all {len(REQUIRED)} keys")]


def _guarded(name: str, fix: str, probe: Callable[[], list[Check]]) -> list[Check]:
    """A vendor probe whose refusal or silence becomes a FAIL with ``fix``."""
    try:
        return probe()
    except VendorError as exc:
        if exc.status in (401, 403) or exc.status == 200:
            return [Check(name, "FAIL", f"{exc.vendor} refused the credentials: {exc.message}", fix)]
        return [Check(name, "FAIL", str(exc), "check the vendor's base URL and status page, then run doctor again")]


def check_zendesk(context: SetupContext, policy: Policy) -> list[Check]:
    from triage_tools.setup.zendesk_account import who_am_i, zendesk_http

    base_url = context.base_url("ZENDESK_BASE_URL")
    email, token = context.value("ZENDESK_EMAIL"), context.value("ZENDESK_API_TOKEN")
    if not base_url:
        local = context.stack is not None and context.stack.local
        fix = ("set ZENDESK_BASE_URL (your account's, or the Zendesk sandbox's) for `triage local` and this shell"
               if local else "redeploy with the ZendeskBaseUrl parameter (e.g. https://acme.zendesk.com)")  # fmt: skip
        return [Check("zendesk credentials", "FAIL", "no Zendesk base URL: no context fetch, no write-back", fix)]
    if not (email and token):
        return [Check("zendesk credentials", "FAIL", "ZENDESK_EMAIL or ZENDESK_API_TOKEN is not set",
                      f"`{SETUP} secrets --from FILE{stack_option(context)}`")]  # fmt: skip
    http = zendesk_http(base_url, email, token)
    fix = ("create an API token (Admin Center → Apps and integrations → APIs → Zendesk API → Add API token, with "
           f"token access on) and store it and its admin's e-mail with `{SETUP} secrets`")  # fmt: skip

    def probe() -> list[Check]:
        user = who_am_i(http)
        found = [Check("zendesk credentials", "OK", f"{user.get('email')} (role {user.get('role')}) at {base_url}")]
        return found + _zendesk_webhook(context, http, user, policy)

    return _guarded("zendesk credentials", fix, probe)


def _zendesk_webhook(context: SetupContext, http: Any, user: dict[str, Any], policy: Policy) -> list[Check]:
    from triage_tools.setup.http import paged
    from triage_tools.setup.zendesk_hooks import (
        CONDITIONAL,
        NEW_TICKET,
        UPDATED_TICKET,
        desired_triggers,
        marker_tags,
        signing_secret,
        trigger_problems,
        webhook_name,
    )

    name, fix = "zendesk webhook", f"`{SETUP} zendesk{stack_option(context)}`"
    if user.get("role") != "admin":
        return [Check(name, "SKIP", "the API token is an agent's: webhooks are visible to admins only")]
    stack = context.stack
    assert stack is not None
    wanted = webhook_name(stack.name)
    found = [w for w in paged(http, "/api/v2/webhooks", "webhooks") if w.get("name") == wanted]
    if not found:
        return [Check(name, "FAIL", f"no webhook named {wanted!r}", fix)]
    webhook, endpoint = found[0], stack.outputs.get("ZendeskWebhookUrl")
    if webhook.get("endpoint") != endpoint or webhook.get("status") != "active":
        detail = f"{webhook.get('status')}, calls {webhook.get('endpoint')}; the stack's endpoint is {endpoint}"
        return [Check(name, "FAIL", detail, fix)]
    if signing_secret(http, str(webhook["id"])) != context.stored.get("ZENDESK_WEBHOOK_SECRET"):
        return [Check(name, "FAIL", "its signing secret is not the stack's ZENDESK_WEBHOOK_SECRET (every delivery "
                      "would be refused)", fix)]  # fmt: skip
    checks = [Check(name, "OK", f"{wanted!r} calls {endpoint}, signed with the stored secret")]
    if CONDITIONAL in (webhook.get("subscriptions") or []):
        problems = trigger_problems(http, desired_triggers(str(webhook["id"]), marker_tags(policy)))
        detail = "; ".join(problems) or f"{NEW_TICKET!r} and {UPDATED_TICKET!r} notify it (loop-safe)"
        checks.append(Check("zendesk triggers", "FAIL" if problems else "OK", detail, fix if problems else ""))
    return checks


def check_hubspot(context: SetupContext, policy: Policy) -> list[Check]:
    from triage_tools.setup.hubspot import (
        PROPERTIES,
        custom_properties,
        hubspot_http,
        missing_scopes,
        scope_fix,
        token_info,
    )

    token = context.value("HUBSPOT_ACCESS_TOKEN")
    if not token:
        return [Check("hubspot token", "FAIL", "HUBSPOT_ACCESS_TOKEN is not set",
                      f"`{SETUP} secrets --from FILE{stack_option(context)}`")]  # fmt: skip
    http = hubspot_http(context.base_url("HUBSPOT_BASE_URL"), token)
    fix = "copy the private app's access token (Settings → Integrations → Private Apps) into HUBSPOT_ACCESS_TOKEN"

    def probe() -> list[Check]:
        info = token_info(http, token)
        missing = missing_scopes(info)
        if missing:
            return [
                Check(
                    "hubspot token",
                    "FAIL",
                    f"portal {info.get('hubId')}: " + "; ".join(map(scope_fix, missing)),
                    "add the scopes to the private app (its Scopes tab), commit, and keep the same token",
                )
            ]
        found = [Check("hubspot token", "OK", f"portal {info.get('hubId')}, app {info.get('appId')}, scopes ok")]
        for name in custom_properties(policy):
            answer = http.request("GET", f"{PROPERTIES}/{name}", allow=(404,))
            ok = answer.get("status") != 404
            found.append(Check(f"hubspot property {name}", "OK" if ok else "FAIL",
                               "exists" if ok else "does not exist: write-backs that set it are refused",
                               "" if ok else f"`{SETUP} hubspot{stack_option(context)}`"))  # fmt: skip
        return found

    checks = _guarded("hubspot token", fix, probe)
    url = context.stack.outputs.get("HubSpotWebhookUrl") if context.stack else None
    checks.append(Check("hubspot app settings", "INFO", f"the webhook app's Target URL must be {url}, and "
                        "HUBSPOT_CLIENT_SECRET its client secret (HubSpot's API cannot show either to a private app)",
                        f"`{SETUP} hubspot{stack_option(context)}` prints the subscriptions; the client secret is "
                        "on the app's Auth page"))  # fmt: skip
    return checks


def check_slack(context: SetupContext, policy: Policy) -> list[Check]:
    from slack_sdk.errors import SlackApiError, SlackClientError

    from triage_tools.setup.slack import APP_NAME, check_membership, policy_channels, slack_client, slack_error_fix

    token = context.value("SLACK_BOT_TOKEN")
    if not token:
        return [Check("slack bot token", "FAIL", "SLACK_BOT_TOKEN is not set",
                      f"`{SETUP} secrets --from FILE{stack_option(context)}`")]  # fmt: skip
    client = slack_client(token, context.base_url("SLACK_API_URL"))
    try:
        bot, memberships = check_membership(client, policy_channels(policy))
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        return [Check("slack bot token", "FAIL", f"Slack answered {error}",
                      slack_error_fix(error, exc.response.get("needed")))]  # fmt: skip
    except (SlackClientError, OSError) as exc:
        return [Check("slack bot token", "FAIL", f"Slack cannot be reached ({type(exc).__name__})",
                      "check SlackApiUrl and your network")]  # fmt: skip
    checks = [Check("slack bot token", "OK", f"bot @{bot}")]
    for m in memberships:
        uses = ", ".join(m.uses)
        if m.state == "member":
            checks.append(Check(f"slack #{m.channel}", "OK", f"{uses}: the bot is a member"))
        else:
            checks.append(Check(f"slack #{m.channel}", "FAIL", f"{uses}: the bot cannot post here ({m.state})",
                                m.fix(APP_NAME)))  # fmt: skip
    url = context.stack.outputs.get("SlackInteractionsUrl") if context.stack else None
    checks.append(Check("slack app settings", "INFO", f"the app's Interactivity Request URL must be {url}, and "
                        "SLACK_SIGNING_SECRET its Signing Secret (Slack's API cannot show either)",
                        f"`{SETUP} slack{stack_option(context)}` writes the URL into infra/slack/manifest.yaml; "
                        "the secret is under Basic Information → App Credentials"))  # fmt: skip
    return checks


def check_anthropic(context: SetupContext, policy: Policy) -> list[Check]:
    models = sorted({r.model for r in policy.routes.values() if r.kind == "claude" and r.model})
    key = context.value("ANTHROPIC_API_KEY")
    if not models:
        return [Check("anthropic key", "SKIP", "the policy routes no task to Claude")]
    if not key:
        return [Check("anthropic key", "FAIL", "ANTHROPIC_API_KEY is not set: every Claude route falls back",
                      f"`{SETUP} secrets --from FILE{stack_option(context)}`")]  # fmt: skip
    import anthropic

    client = anthropic.Anthropic(api_key=key, base_url=context.base_url("ANTHROPIC_BASE_URL") or None, max_retries=1,
                                 timeout=15.0)  # fmt: skip
    checks: list[Check] = []
    for model in models:  # token counting is free: it checks the key and the model name
        try:
            client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "ping"}])
            checks.append(Check(f"anthropic {model}", "OK", "the key is accepted and the model exists"))
        except anthropic.AuthenticationError:
            return [Check("anthropic key", "FAIL", "ANTHROPIC_API_KEY was refused (401)",
                          "create a key in the Anthropic Console and store it as ANTHROPIC_API_KEY")]  # fmt: skip
        except anthropic.APIStatusError as exc:
            checks.append(Check(f"anthropic {model}", "FAIL", f"HTTP {exc.status_code}: {exc.message}",
                                "fix the policy's routes (model name) or the key's workspace access"))  # fmt: skip
        except anthropic.APIConnectionError:
            return [Check("anthropic key", "FAIL", "the Anthropic API cannot be reached", "check AnthropicBaseUrl")]
    return checks
