"""``triage doctor``'s check of the stack's public URLs: each answers, and its function can verify signatures.

One unsigned ``POST {}`` to each of ``ZendeskWebhookUrl``, ``HubSpotWebhookUrl`` and ``SlackInteractionsUrl``.
The functions read the vendor secret before they look for a signature, so the answer says it all: ``401
missing_signature`` = the URL reaches our function, which read its signing secret and refuses what is not signed
(nothing is queued or claimed: harmless); ``503 secrets_unavailable`` / ``misconfigured`` = the function cannot
read the secret, or the key is not in it; anything else = the URL is not our endpoint. (Each probe counts one
``WebhookRejected``; ``SignatureRejectionsAlarm`` needs more than 10 in 5 minutes.)
"""

from __future__ import annotations

from typing import Any

from triage_tools.setup.context import SetupContext
from triage_tools.setup.doctor_checks import SETUP, Check, stack_option

# (stack output, check name, the secret key its function verifies with)
ENDPOINTS = (
    ("ZendeskWebhookUrl", "zendesk webhook url", "ZENDESK_WEBHOOK_SECRET"),
    ("HubSpotWebhookUrl", "hubspot webhook url", "HUBSPOT_CLIENT_SECRET"),
    ("SlackInteractionsUrl", "slack interactions url", "SLACK_SIGNING_SECRET"),
)
TIMEOUT = (5.0, 15.0)


def check_endpoints(context: SetupContext) -> list[Check]:
    stack = context.stack
    assert stack is not None
    checks = []
    for output, name, key in ENDPOINTS:
        url = stack.outputs.get(output)
        if not url:
            checks.append(Check(name, "FAIL", f"{stack.label} has no output {output}", "deploy the current template"))
        else:
            checks.append(_probe(context, name, url, key))
    return checks


def _probe(context: SetupContext, name: str, url: str, key: str) -> Check:
    import requests

    try:
        response = requests.post(url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return Check(name, "FAIL", _unreachable(context, url, exc), _unreachable_fix(context))
    error, message = _error_of(response)
    if response.status_code == 401 and error == "missing_signature":
        return Check(name, "OK", f"{url} answers and refuses unsigned requests (401): its function reads {key}")
    if response.status_code == 503 and error == "secrets_unavailable":
        return Check(name, "FAIL", f"{url}: the function cannot read the vendor secret ({message})",
                     f"store the secret (`{SETUP} secrets --from FILE{stack_option(context)}`); the function's "
                     "role needs secretsmanager:GetSecretValue on it")  # fmt: skip
    if response.status_code == 503 and error == "misconfigured":
        return Check(name, "FAIL", f"{url}: the function is misconfigured (its log names the setting)",
                     f"usually {key} is not stored yet: `{SETUP} secrets --from FILE{stack_option(context)}`"
                     + (f" (or `{SETUP} zendesk`)" if key == "ZENDESK_WEBHOOK_SECRET" else ""))  # fmt: skip
    said = f"{error}: {message}" if error else (response.reason or "no JSON error")
    return Check(
        name,
        "FAIL",
        f"{url} answered HTTP {response.status_code} ({said}): not a Triage Gate endpoint",
        "check the stack's outputs (`aws cloudformation describe-stacks`) and any custom domain in front",
    )


def _error_of(response: Any) -> tuple[str, str]:
    """(the ``error`` and ``message`` of our functions' JSON error body) or ("", "") for any other answer."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")[:200]


def _unreachable(context: SetupContext, url: str, exc: Exception) -> str:
    from triage_tools.cli.stores import unreachable

    if context.stack is not None and context.stack.local:
        return unreachable(context.stack.outputs.get("WebhookBaseUrl"), exc)
    import requests

    why = "it did not answer in time" if isinstance(exc, requests.Timeout) else "connection refused or unknown host"
    return f"cannot reach {url} ({why})"


def _unreachable_fix(context: SetupContext) -> str:
    if context.stack is not None and context.stack.local:
        return "start it with `make local` (or `triage local`), or pass --url to the running one"
    return "check the stack deployed completely (its HttpApi) and, behind a custom domain, the DNS record"
