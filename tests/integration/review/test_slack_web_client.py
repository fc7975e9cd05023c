"""SlackWebClient (three JSON POSTs on urllib3) against the Slack sandbox: the same requests on the wire as
slack_sdk's WebClient, and every answer mapped to what the queue does with it (retry, wait, or give up)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.config import VendorSecrets
from triage_gate.errors import PermanentVendorError, RateLimited, TransientVendorError
from triage_gate.review import block_kit
from triage_local.sandboxes import FakeSlack

CHANNEL = "triage-review"
BLOCKS = [block_kit.section("*Review needed*"), block_kit.actions("b", [block_kit.button("approve", "Approve", "d")])]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=[CHANNEL], per_channel_per_second=None) as sandbox:
        yield sandbox


def client_for(slack: FakeSlack, token: str | None = None, url: str | None = None) -> SlackWebClient:
    values = {} if token == "" else {"SLACK_BOT_TOKEN": token or slack.token}
    return SlackWebClient(EnvironmentSecrets(VendorSecrets.from_mapping(values)), url or slack.url + "/api/")


def wire(request: Any) -> tuple[str, str, str, str | None, Any]:
    content_type = request.headers.get("content-type", "").replace(" ", "").lower()  # slack_sdk: no space
    return request.method, request.path, content_type, request.headers.get("authorization"), request.json


def test_the_three_calls_are_the_requests_slack_sdks_web_client_sends(slack: FakeSlack) -> None:
    ours = client_for(slack)
    sdk = WebClient(token=slack.token, base_url=slack.url + "/api/")

    channel, ts = ours.post(CHANNEL, "Review needed", BLOCKS)
    ours.update(channel, ts, "Approved", BLOCKS[:1])
    ours.ephemeral(channel, "UALICE", "Pick a reason")
    sent = [wire(r) for r in slack.requests]
    answer = sdk.chat_postMessage(channel=CHANNEL, text="Review needed", blocks=BLOCKS)
    sdk.chat_update(channel=channel, ts=ts, text="Approved", blocks=BLOCKS[:1])
    sdk.chat_postEphemeral(channel=channel, user="UALICE", text="Pick a reason")

    assert (channel, ts[:5]) == (answer["channel"], answer["ts"][:5])
    assert sent == [wire(r) for r in slack.requests[3:]]
    assert [s[1] for s in sent] == ["/api/chat.postMessage", "/api/chat.update", "/api/chat.postEphemeral"]
    assert sent[0][2:4] == ("application/json;charset=utf-8", f"Bearer {slack.token}")
    assert sent[0][4] == {"channel": CHANNEL, "text": "Review needed", "blocks": BLOCKS}
    assert [m["text"] for m in slack.messages(channel)] == ["Approved", "Review needed"]


def test_blocks_slack_refuses_are_permanent(slack: FakeSlack) -> None:
    bad = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]  # past our builders' check

    with pytest.raises(PermanentVendorError, match="invalid_blocks"):
        client_for(slack).post(CHANNEL, "text", bad)


@pytest.mark.parametrize("error", ["no_text", "msg_too_long"])
def test_a_message_slack_refuses_is_permanent(slack: FakeSlack, error: str) -> None:
    slack.fail_next_error(error, method="chat.postMessage")

    with pytest.raises(PermanentVendorError, match=error):
        client_for(slack).post(CHANNEL, "text", BLOCKS)


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "internal_error"])
def test_other_slack_errors_are_retried_through_the_queue(slack: FakeSlack, error: str) -> None:
    slack.fail_next_error(error, method="chat.postMessage")

    with pytest.raises(TransientVendorError, match=error):
        client_for(slack).post(CHANNEL, "text", BLOCKS)


def test_a_wrong_token_is_transient_and_named(slack: FakeSlack) -> None:
    with pytest.raises(TransientVendorError, match="invalid_auth"):
        client_for(slack, token="xoxb-wrong").post(CHANNEL, "text", BLOCKS)


def test_no_token_sends_nothing(slack: FakeSlack) -> None:
    with pytest.raises(TransientVendorError, match="SLACK_BOT_TOKEN is not set"):
        client_for(slack, token="").post(CHANNEL, "text", BLOCKS)

    assert slack.requests == []


def test_a_5xx_that_is_not_json_is_transient_with_its_status(slack: FakeSlack) -> None:
    slack.fail_next(502, body="<html>Bad Gateway</html>")

    with pytest.raises(TransientVendorError, match=r"slack chat\.postMessage: 502") as caught:
        client_for(slack).post(CHANNEL, "text", BLOCKS)

    assert caught.value.status == 502


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("", 1.0), ("soon", 1.0)])
def test_a_429_is_rate_limited_with_its_retry_after(slack: FakeSlack, header: str, expected: float) -> None:
    slack.fail_next(429, headers={"Retry-After": header})

    with pytest.raises(RateLimited) as caught:
        client_for(slack).post(CHANNEL, "text", BLOCKS)

    assert caught.value.retry_after == expected


def test_an_ok_answer_without_channel_and_ts_is_not_taken_as_posted(slack: FakeSlack) -> None:
    slack.fail_next(200, body={"ok": True})

    with pytest.raises(TransientVendorError, match="no channel and ts"):
        client_for(slack).post(CHANNEL, "text", BLOCKS)


def test_no_answer_is_transient() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed when the block ends: nothing listens there
    secrets = EnvironmentSecrets(VendorSecrets.from_mapping({"SLACK_BOT_TOKEN": "xoxb-test"}))

    with pytest.raises(TransientVendorError, match=r"slack chat\.update: "):
        SlackWebClient(secrets, f"http://127.0.0.1:{port}/api/").update("C1", "1.2", "text", BLOCKS)


# ---------------------------------------------------------------- the token, and connections that fail
def test_a_token_pasted_with_a_newline_still_authenticates(slack: FakeSlack) -> None:
    channel, _ = client_for(slack, token=slack.token + "\n").post(CHANNEL, "text", BLOCKS)

    assert slack.messages(channel)


def test_a_token_no_header_can_carry_is_refused_without_echoing_it(slack: FakeSlack) -> None:
    with pytest.raises(TransientVendorError, match="not a valid header value") as caught:
        client_for(slack, token="xoxb-SECRET\nX-Injected: 1").post(CHANNEL, "text", BLOCKS)

    assert "SECRET" not in str(caught.value)
    assert caught.value.__suppress_context__
    assert slack.requests == []


class OneShotServer:
    """A loopback server that answers each connection with the next behaviour: "drop" (read the request,
    close without a word), "hang" (read it, then stay silent), or an HTTP answer's JSON body."""

    def __init__(self, *behaviours: Any) -> None:
        self._behaviours = list(behaviours)
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/api/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self._behaviours:
            connection, _ = self._listener.accept()
            self.connections += 1
            behaviour = self._behaviours.pop(0)
            connection.recv(65536)
            if behaviour == "hang":
                time.sleep(2)
            elif behaviour != "drop":
                body = json.dumps(behaviour).encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                connection.sendall(head.encode() + body)
            connection.close()


def slack_at(url: str, timeout: float = 5) -> SlackWebClient:
    secrets = EnvironmentSecrets(VendorSecrets.from_mapping({"SLACK_BOT_TOKEN": "xoxb-test"}))
    return SlackWebClient(secrets, url, timeout=timeout)


def test_a_connection_dropped_before_the_answer_is_sent_again_once() -> None:
    server = OneShotServer("drop", {"ok": True, "channel": "C1", "ts": "1.0002"})

    assert slack_at(server.url).post("C1", "text", BLOCKS) == ("C1", "1.0002")
    assert server.connections == 2


def test_a_connection_dropped_twice_is_transient() -> None:
    server = OneShotServer("drop", "drop")

    with pytest.raises(TransientVendorError, match=r"slack chat\.postMessage: ProtocolError"):
        slack_at(server.url).post("C1", "text", BLOCKS)
    assert server.connections == 2


def test_a_read_timeout_is_not_sent_again() -> None:
    """Slack may have posted: the queue's redelivery (which looks first) decides, not a blind resend."""
    server = OneShotServer("hang", {"ok": True, "channel": "C1", "ts": "1.0003"})

    with pytest.raises(TransientVendorError, match="ReadTimeoutError"):
        slack_at(server.url, timeout=0.3).post("C1", "text", BLOCKS)
    assert server.connections == 1
