"""A cold start loads the CA bundle once for all its HTTPS vendors, and never for the plain-HTTP sandboxes.

Each scenario runs in a fresh interpreter that counts reads of the CA bundle
(``SSLContext.set_default_verify_paths``, which ``load_default_certs`` calls: ~45 ms each on the project's
machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.builders import ROOT
from triage_local.sandboxes import FakeSlack, FakeZendesk

COUNTING = """
import json, ssl, sys
sys.path[:0] = [{layer!r}]
loads = []
original = ssl.SSLContext.set_default_verify_paths  # what load_default_certs calls: the CA bundle's read
def counted(self):
    loads.append("ca bundle")
    return original(self)
ssl.SSLContext.set_default_verify_paths = counted
from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.adapters.vendor_http import HttpClient
from triage_gate.config import VendorSecrets
from urllib3.exceptions import HTTPError
{body}
print(json.dumps({{"loads": loads, "result": result}}))
"""

SANDBOXES = """
secrets = EnvironmentSecrets(VendorSecrets.from_mapping({{"SLACK_BOT_TOKEN": {token!r}}}))
channel, ts = SlackWebClient(secrets, api_url={slack!r}).post({channel!r}, "hello", [])
answer = HttpClient().send("GET", {zendesk!r}, timeout=(1.0, 2.0), auth={auth!r})
result = [bool(ts), answer.status_code]
"""

TWO_HTTPS_HOSTS = """
import socket, threading
listener = socket.create_server(("127.0.0.1", 0))
def hang_up():
    while True:
        connection, _ = listener.accept()
        connection.close()  # the TCP connection opens (so the client sets up TLS), then the handshake fails
threading.Thread(target=hang_up, daemon=True).start()
port = listener.getsockname()[1]
client = HttpClient()
result = []
for host in ("127.0.0.1", "localhost"):  # two hosts: two connection pools, two new connections
    try:
        client.send("GET", f"https://{host}:{port}/", timeout=(1.0, 1.0))
    except HTTPError as exc:
        result.append(type(exc).__name__)
from triage_gate.errors import TransientVendorError
secrets = EnvironmentSecrets(VendorSecrets.from_mapping({"SLACK_BOT_TOKEN": "xoxb-test"}))
try:  # the Slack client's own pool: a new connection, the same context
    SlackWebClient(secrets, api_url=f"https://127.0.0.1:{port}/api/").post("C1", "hello", [])
except TransientVendorError as exc:
    result.append(str(exc))
"""


def _run(body: str) -> dict[str, list[object]]:
    code = COUNTING.format(layer=str(ROOT / "layers" / "core"), body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def sandboxes() -> Iterator[tuple[FakeSlack, FakeZendesk]]:
    with FakeSlack(per_channel_per_second=None) as slack, FakeZendesk() as zendesk:
        yield slack, zendesk


def test_plain_http_sandboxes_never_load_the_ca_bundle(sandboxes: tuple[FakeSlack, FakeZendesk]) -> None:
    slack, zendesk = sandboxes
    channel = next(iter(slack.channels))
    ticket_url = zendesk.url + "/api/v2/tickets/1.json"
    auth = (f"{zendesk.email}/token", zendesk.api_token)
    body = SANDBOXES.format(
        token=slack.token, slack=slack.url + "/api/", channel=channel, zendesk=ticket_url, auth=auth
    )

    seen = _run(body)

    assert seen["result"] == [True, 404]  # Slack took the post; Zendesk answered (no such ticket)
    assert seen["loads"] == []


def test_https_connections_from_two_clients_to_two_hosts_load_the_ca_bundle_once() -> None:
    seen = _run(TWO_HTTPS_HOSTS)

    assert seen["result"][:2] == ["SSLError", "SSLError"]  # both connected, and both handshakes failed
    assert seen["result"][2].startswith("slack chat.postMessage: ")  # no answer: retried through the queue
    assert seen["loads"] == ["ca bundle"]  # urllib3 alone reads it for each new connection
