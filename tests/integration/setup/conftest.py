"""`triage setup …` and `triage doctor` against the vendor sandboxes and a deployed stack in moto.

The stack is a CloudFormation stack with the template's Outputs and vendor base URL Parameters (pointing at the
sandboxes), its vendor secret, the alarm topic with an e-mail subscription, and the AppConfig rollout profile.
Its public URLs are served on loopback by `StackApi`, which answers an unsigned request as the deployed
functions do (401 `missing_signature`) unless a test makes it answer otherwise; the real functions' answers are
checked against the local stack in `test_local_stack.py`. Commands run in-process through
`triage_tools.cli.main`, as an admin types them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from triage_gate.policy import DEFAULT_POLICY_PATH
from triage_local.sandboxes import FakeAnthropic, FakeHubSpot, FakeSlack, FakeZendesk
from triage_local.sandboxes.appconfig_api import install
from triage_tools.cli import main

STACK = "triage-gate-test"
API_PATHS = ("/webhooks/zendesk", "/webhooks/hubspot", "/slack/interactions")
UNSIGNED = (401, {"error": "missing_signature", "message": "missing X-Zendesk-Webhook-Signature"})
ZD_EMAIL, ZD_TOKEN, HS_TOKEN, SLACK_TOKEN, ANTHROPIC_KEY = (
    "admin@acme.test", "zd-admin-token", "pat-na1-hubspot-token", "xoxb-setup-test", "sk-ant-setup-test",
)  # fmt: skip
SECRETS = {
    "HUBSPOT_CLIENT_SECRET": "hs-client-secret-value",
    "SLACK_SIGNING_SECRET": "slack-signing-secret-value",
    "SLACK_BOT_TOKEN": SLACK_TOKEN,
    "ZENDESK_EMAIL": ZD_EMAIL,
    "ZENDESK_API_TOKEN": ZD_TOKEN,
    "HUBSPOT_ACCESS_TOKEN": HS_TOKEN,
    "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
}
# The account's groups: named like the policy's labels, except refunds (the admin maps it with --group).
GROUPS = {501: "Billing", 502: "Refunds & Cancellations", 503: "Bug", 504: "Account Access", 505: "How To",
          506: "Feature Request", 507: "Security"}  # fmt: skip
CATEGORY_VALUES = ("billing", "refund", "bug", "account_access", "how_to", "feature_request", "security", "other")
CATEGORY_FIELD = 9001


@dataclass
class Vendors:
    zendesk: FakeZendesk
    hubspot: FakeHubSpot
    slack: FakeSlack
    anthropic: FakeAnthropic


class StackApi:
    """The deployed stack's HTTP API on loopback: its three routes answer ``answer`` (a test may change it per
    path); any other path is API Gateway's 404."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = dict.fromkeys(API_PATHS, UNSIGNED)
        self.received: list[tuple[str, bytes]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                api.received.append((self.path, self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                status, body = api.answers.get(self.path, (404, {"message": "Not Found"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Deployed:
    secret_id: str
    topic_arn: str
    subscription_arn: str
    api: StackApi = field(repr=False)

    @property
    def api_url(self) -> str:
        return self.api.url

    def secret(self) -> dict[str, str]:
        value = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=self.secret_id)
        return dict(json.loads(value["SecretString"]))

    def put_secret(self, values: dict[str, str]) -> None:
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.put_secret_value(SecretId=self.secret_id, SecretString=json.dumps(values))


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    zendesk = FakeZendesk(ZD_EMAIL, ZD_TOKEN, rate_limit_per_minute=None)
    zendesk.users[zendesk.agent_id]["role"] = "admin"
    for group_id, name in GROUPS.items():
        zendesk.add_group(group_id, name=name)
    zendesk.add_brand(360009, "Globex Labs")
    zendesk.add_brand(360010, "Acme")
    options = tuple((value.replace("_", " ").capitalize(), value) for value in CATEGORY_VALUES)
    zendesk.admin.add_ticket_field(CATEGORY_FIELD, "AI category", options=options)
    found = Vendors(zendesk, FakeHubSpot(HS_TOKEN, rate_limit_per_10s=None),
                    FakeSlack(SLACK_TOKEN, per_channel_per_second=None), FakeAnthropic(ANTHROPIC_KEY))  # fmt: skip
    for sandbox in (found.zendesk, found.hubspot, found.slack, found.anthropic):
        sandbox.start()
    yield found
    for sandbox in (found.zendesk, found.hubspot, found.slack, found.anthropic):
        sandbox.stop()


def _appconfig() -> dict[str, str]:
    install()
    appconfig = boto3.client("appconfig", region_name="us-east-1")
    app = appconfig.create_application(Name="triage-gate-test")["Id"]
    env = appconfig.create_environment(ApplicationId=app, Name="test")["Id"]
    profile = appconfig.create_configuration_profile(ApplicationId=app, Name="rollout", LocationUri="hosted")["Id"]
    return {"RolloutApplicationId": app, "RolloutEnvironmentId": env, "RolloutProfileId": profile}


@pytest.fixture
def deployed(vendors: Vendors, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    for key in (*SECRETS, "ZENDESK_WEBHOOK_SECRET", "ZENDESK_BASE_URL", "FLAGS_FILE"):
        monkeypatch.delenv(key, raising=False)
    api = StackApi()
    with mock_aws():
        secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="triage-gate/test/vendor", SecretString="{}"
        )["ARN"]
        sns = boto3.client("sns", region_name="us-east-1")
        topic = sns.create_topic(Name="triage-gate-test-alarms")["TopicArn"]
        subscription = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@acme.test")["SubscriptionArn"]
        outputs = {
            "WebhookBaseUrl": api.url,
            "ZendeskWebhookUrl": f"{api.url}/webhooks/zendesk",
            "HubSpotWebhookUrl": f"{api.url}/webhooks/hubspot",
            "SlackInteractionsUrl": f"{api.url}/slack/interactions",
            "VendorSecretArn": secret,
            "AlarmTopicArn": topic,
            **_appconfig(),
        }
        parameters = {
            "ZendeskBaseUrl": vendors.zendesk.url,
            "HubSpotBaseUrl": vendors.hubspot.url,
            "SlackApiUrl": f"{vendors.slack.url}/api/",
            "AnthropicBaseUrl": vendors.anthropic.url,
        }
        template = {
            "Parameters": {key: {"Type": "String"} for key in parameters},
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName=STACK, TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )  # fmt: skip
        yield Deployed(secret, topic, subscription, api)
    api.close()


def triage(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `triage ARGV…`; (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def secrets_file(tmp_path: Path, values: dict[str, Any], name: str = "vendor.env") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """The shipped policy (with its models beside it) in a temporary directory, free to be rewritten."""
    target = tmp_path / "policy.yaml"
    target.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "models").symlink_to(DEFAULT_POLICY_PATH.parent / "models")
    return target


def policy_with(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped policy with ``old`` replaced by ``new`` (once; it must be there), models beside it."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / "changed-policy" / "policy.yaml"
    target.parent.mkdir()
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    (target.parent / "models").symlink_to(DEFAULT_POLICY_PATH.parent / "models")
    return target


@pytest.fixture
def unused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"
