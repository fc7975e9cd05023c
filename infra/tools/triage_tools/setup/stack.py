"""Which stack ``triage setup`` and ``triage doctor`` work on, and its vendor secret.

- ``--stack NAME``: a deployed stack. Its CloudFormation outputs (webhook URLs, the secret, the alarm topic, the
  AppConfig ids) and parameters (the vendors' base URLs) come from ``describe-stacks``; AWS credentials and
  region from the environment, as the AWS CLI takes them.
- otherwise the local stack (``--url``, default http://127.0.0.1:3000), found through its ``/healthz``: its
  moto endpoint and secret; the vendors' base URLs are the environment's (``ZENDESK_BASE_URL``, ...), as
  ``triage local`` gives them to the functions.

``--secret-id`` names another secret than the stack's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOCAL_STACK = "http://127.0.0.1:3000"
# The template's parameter for each vendor base URL, and the variable the functions read it from.
BASE_URL_PARAMETERS = {
    "ZENDESK_BASE_URL": "ZendeskBaseUrl",
    "HUBSPOT_BASE_URL": "HubSpotBaseUrl",
    "SLACK_API_URL": "SlackApiUrl",
    "ANTHROPIC_BASE_URL": "AnthropicBaseUrl",
}
BASE_URL_DEFAULTS = {"HUBSPOT_BASE_URL": "https://api.hubapi.com", "SLACK_API_URL": "https://slack.com/api/"}
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class StackError(RuntimeError):
    """The stack cannot be found or read (a runtime failure, exit 1): the message says how to fix it."""


@dataclass
class Stack:
    """What the commands need to know about one stack."""

    name: str  # the CloudFormation stack name, or "local"
    outputs: dict[str, str]
    base_urls: dict[str, str]  # ZENDESK_BASE_URL, HUBSPOT_BASE_URL, SLACK_API_URL, ANTHROPIC_BASE_URL ("" = unset)
    secret_id: str | None
    region: str
    endpoint_url: str | None = None  # the local stack's AWS endpoint (moto)
    local: bool = False
    credentials: dict[str, str] = field(default_factory=dict, repr=False)  # boto3 client keyword arguments
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"the local stack ({self.outputs.get('WebhookBaseUrl')})" if self.local else f"stack {self.name}"

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            credentials = self.credentials
            if not credentials and self.local and not os.environ.get("AWS_ACCESS_KEY_ID"):
                credentials = LOCAL_CREDENTIALS
            self._clients[service] = boto3.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, **credentials
            )
        return self._clients[service]

    def secret(self) -> VendorSecret:
        if not self.secret_id:
            raise StackError(f"{self.label} has no vendor secret (no VendorSecretArn output): give --secret-id ID")
        return VendorSecret(self.client("secretsmanager"), self.secret_id)


def resolve_stack(stack_name: str | None, local_url: str | None, secret_id: str | None,
                  environ: Mapping[str, str] | None = None) -> Stack:  # fmt: skip
    """The deployed stack ``stack_name``, else the local stack at ``local_url``. Raises StackError."""
    env = os.environ if environ is None else environ
    stack = _deployed(stack_name, env) if stack_name else _local(local_url or LOCAL_STACK, env)
    if secret_id:
        stack.secret_id = secret_id
    return stack


def _deployed(stack_name: str, env: Mapping[str, str]) -> Stack:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    cloudformation = boto3.client("cloudformation", region_name=region)
    try:
        found = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError as exc:
        raise StackError(f"cannot describe stack {stack_name}: no AWS credentials (set AWS_PROFILE, or run "
                         "`aws configure` / `aws sso login`)") from exc  # fmt: skip
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        hint = "deploy it (`make deploy ENV=...`) or set AWS_REGION" if "does not exist" in message else "check access"
        raise StackError(f"cannot describe stack {stack_name} in {region}: {message}: {hint}") from exc
    except BotoCoreError as exc:
        raise StackError(f"cannot describe stack {stack_name} in {region}: {exc}") from exc
    if not found:
        raise StackError(f"no stack {stack_name} in {region}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found[0].get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found[0].get("Parameters", [])}
    base_urls = {
        variable: parameters.get(parameter) or BASE_URL_DEFAULTS.get(variable, "")
        for variable, parameter in BASE_URL_PARAMETERS.items()
    }
    return Stack(stack_name, outputs, base_urls, outputs.get("VendorSecretArn"), region)


def _local(url: str, env: Mapping[str, str]) -> Stack:
    import requests

    from triage_tools.cli.stores import unreachable

    base = url.rstrip("/")
    try:
        health = requests.get(f"{base}/healthz", timeout=5).json()
    except requests.RequestException as exc:
        raise StackError(f"{unreachable(base, exc)}; or give --stack NAME for a deployed stack") from exc
    except ValueError as exc:
        raise StackError(f"{base}/healthz answered something that is not JSON: is a local stack there?") from exc
    if not isinstance(health, dict) or "resources" not in health:
        raise StackError(f"{base}/healthz is not a Triage Gate local stack's")
    outputs = {
        "WebhookBaseUrl": base,
        "ZendeskWebhookUrl": f"{base}/webhooks/zendesk",
        "HubSpotWebhookUrl": f"{base}/webhooks/hubspot",
        "SlackInteractionsUrl": f"{base}/slack/interactions",
    }
    base_urls = {variable: env.get(variable) or BASE_URL_DEFAULTS.get(variable, "") for variable in BASE_URL_PARAMETERS}
    secret_id = (health.get("resources") or {}).get("VendorSecret")
    region = str(health.get("region") or "us-east-1")
    stack = Stack("local", outputs, base_urls, secret_id, region, health.get("aws_endpoint"), local=True)
    stack.credentials = dict(health.get("aws_credentials") or {})  # the operator identity when IAM is enforced
    return stack


class VendorSecret:
    """The stack's vendor secret: one JSON object of key → value. Values are never printed."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self.client = client
        self.secret_id = secret_id

    def read(self) -> tuple[dict[str, str], str | None]:
        """(the keys and values, None) or ({}, why the current value is not usable: empty, not JSON)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException" and "AWSCURRENT" in str(exc):
                return {}, "the secret has no value yet"
            raise StackError(f"cannot read secret {self.secret_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise StackError(f"cannot read secret {self.secret_id}: {exc}") from exc
        text = value.get("SecretString") or ""
        if not text.strip():
            return {}, "the secret is empty"
        try:
            document = json.loads(text)
        except ValueError:
            return {}, "the secret's value is not JSON"
        if not isinstance(document, dict):
            return {}, "the secret's value is not a JSON object"
        return {str(k): "" if v is None else str(v) for k, v in document.items()}, None

    def write(self, values: Mapping[str, str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        text = json.dumps(dict(sorted(values.items())))
        try:
            self.client.put_secret_value(SecretId=self.secret_id, SecretString=text)
        except (BotoCoreError, ClientError) as exc:
            raise StackError(f"cannot write secret {self.secret_id}: {exc}") from exc
