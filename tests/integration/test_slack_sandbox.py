"""The fake Slack Web API answers the real `slack_sdk.WebClient` the way Slack does.

Every test drives the fake through the real SDK (pinned in requirements), pointed at `<fake>/api/`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from triage_local.sandboxes import FakeSlack, Sandboxes

TOKEN = "xoxb-test-token"
REVIEW = "#support-triage-review"
REVOPS = "#revops-triage-review"


def review_blocks(ticket: str, *, buttons: bool = True) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": f"review:zendesk:{ticket}",
         "text": {"type": "mrkdwn", "text": f"*Ticket {ticket}*: refund (0.53)"}},
    ]  # fmt: skip
    if buttons:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"},
             "style": "primary", "value": ticket},
        ]})  # fmt: skip
    return blocks


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN) as sandbox:
        yield sandbox


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=f"{fake.url}/api/", timeout=5)


def slack_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> Any:
    return excinfo.value.response["error"]


# messages ------------------------------------------------------------------------------------------------------
def test_post_message_with_blocks_is_stored_and_read_back(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "triage_review", "event_payload": {"ticket": "5158"}}

    sent = client.chat_postMessage(channel=REVIEW, text="Review ticket 5158", blocks=review_blocks("5158"),
                                   metadata=metadata)  # fmt: skip

    channel_id = fake.channel_id(REVIEW)
    assert sent["ok"] is True
    assert sent["channel"] == channel_id
    assert channel_id.startswith("C0")
    seconds, micros = sent["ts"].split(".")
    assert seconds.isdigit()
    assert len(micros) == 6
    assert sent["message"]["blocks"] == review_blocks("5158")
    [stored] = fake.messages(REVIEW)
    assert stored["ts"] == sent["ts"]
    assert stored["text"] == "Review ticket 5158"
    assert stored["blocks"] == review_blocks("5158")
    assert stored["metadata"] == metadata
    assert stored["thread_ts"] is None
    assert stored["updated"] is False
    assert stored["history"] == []
    assert fake.message(channel_id, sent["ts"]) == stored
    assert fake.posts == 1
    assert fake.requests[-1].headers["content-type"].startswith("application/json")  # what WebClient sends


def test_post_message_ts_is_unique_and_increasing_across_channels(fake: FakeSlack, client: WebClient) -> None:
    channels = [REVIEW, REVOPS, "triage-escalations", REVIEW]
    stamps = []
    for channel in channels:
        fake.reset_rate_limits()
        stamps.append(client.chat_postMessage(channel=channel, text="hi")["ts"])

    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == len(stamps)
    assert [m["ts"] for m in fake.messages(REVIEW)] == [stamps[0], stamps[3]]


def test_post_message_in_thread_keeps_thread_ts(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=REVIEW, text="Review ticket 1")
    fake.reset_rate_limits()

    reply = client.chat_postMessage(channel=parent["channel"], text="Approved by Ada", thread_ts=parent["ts"])

    assert fake.message(REVIEW, reply["ts"])["thread_ts"] == parent["ts"]
    link = client.chat_getPermalink(channel=parent["channel"], message_ts=reply["ts"])["permalink"]
    assert link.endswith(f"p{reply['ts'].replace('.', '')}?thread_ts={parent['ts']}&cid={parent['channel']}")


def test_update_replaces_blocks_and_keeps_history(fake: FakeSlack, client: WebClient) -> None:
    sent = client.chat_postMessage(channel=REVIEW, text="Review ticket 7", blocks=review_blocks("7"))

    updated = client.chat_update(channel=sent["channel"], ts=sent["ts"], text="Ticket 7: approved",
                                 blocks=review_blocks("7", buttons=False))  # fmt: skip

    assert (updated["channel"], updated["ts"]) == (sent["channel"], sent["ts"])
    stored = fake.message(REVIEW, sent["ts"])
    assert stored["blocks"] == review_blocks("7", buttons=False)
    assert stored["text"] == "Ticket 7: approved"
    assert stored["updated"] is True
    assert [(old["text"], old["blocks"]) for old in stored["history"]] == [("Review ticket 7", review_blocks("7"))]
    assert len(fake.messages(REVIEW)) == 1
    assert (fake.posts, fake.updates) == (1, 1)


def test_update_with_text_only_drops_the_old_blocks(fake: FakeSlack, client: WebClient) -> None:
    sent = client.chat_postMessage(channel=REVIEW, text="Review ticket 8", blocks=review_blocks("8"))

    client.chat_update(channel=REVIEW, ts=sent["ts"], text="Ticket 8: handled")

    assert fake.message(REVIEW, sent["ts"])["blocks"] == []


def test_update_raises_message_not_found_when_ts_is_unknown(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=REVIEW, ts="1767880000.000100", text="x")

    assert slack_error(excinfo) == "message_not_found"


def test_update_raises_cant_update_message_when_a_human_wrote_it(fake: FakeSlack, client: WebClient) -> None:
    ts = fake.add_message(REVIEW, "written by a person")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=REVIEW, ts=ts, text="x")

    assert slack_error(excinfo) == "cant_update_message"
    assert fake.message(REVIEW, ts)["text"] == "written by a person"


def test_post_ephemeral_is_kept_apart_from_channel_messages(fake: FakeSlack, client: WebClient) -> None:
    sent = client.chat_postEphemeral(channel=REVIEW, user="U123", text="Only you can see this")

    [ephemeral] = fake.ephemerals(REVIEW)
    assert ephemeral["ts"] == sent["message_ts"]
    assert (ephemeral["to_user"], ephemeral["text"]) == ("U123", "Only you can see this")
    assert fake.messages(REVIEW) == []


# refusals ------------------------------------------------------------------------------------------------------
def test_auth_test_returns_the_bot_identity_when_token_matches(client: WebClient) -> None:
    identity = client.auth_test()

    assert (identity["user_id"], identity["team_id"], identity["bot_id"]) == ("UBOT", "T0SANDBOX", "BSANDBOX")


def test_calls_raise_invalid_auth_when_token_is_wrong(fake: FakeSlack) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=f"{fake.url}/api/", timeout=5)

    with pytest.raises(SlackApiError) as excinfo:
        wrong.chat_postMessage(channel=REVIEW, text="hi")

    assert excinfo.value.response.status_code == 200
    assert slack_error(excinfo) == "invalid_auth"
    assert fake.messages(REVIEW) == []
    assert len(fake.requests) == 1  # recorded even though refused


def test_calls_raise_not_authed_when_token_is_missing(fake: FakeSlack) -> None:
    anonymous = WebClient(base_url=f"{fake.url}/api/", timeout=5)

    with pytest.raises(SlackApiError) as excinfo:
        anonymous.auth_test()

    assert slack_error(excinfo) == "not_authed"


def test_post_message_raises_channel_not_found_when_channel_is_unknown(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="#no-such-channel", text="hi")

    assert slack_error(excinfo) == "channel_not_found"
    assert fake.posts == 0


def test_post_message_raises_no_text_when_text_and_blocks_are_missing(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.postMessage", json={"channel": REVIEW})

    assert slack_error(excinfo) == "no_text"


def test_post_message_raises_invalid_blocks_when_over_50_blocks(client: WebClient) -> None:
    blocks = [{"type": "divider"}] * 51

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=REVIEW, text="too long", blocks=blocks)

    assert slack_error(excinfo) == "invalid_blocks"


LONG_BUTTON = {"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001,
               "text": {"type": "plain_text", "text": "Go"}}]}  # fmt: skip
LONG_OPTION = {"type": "actions", "elements": [{"type": "static_select", "action_id": "a",
               "placeholder": {"type": "plain_text", "text": "Pick"},
               "options": [{"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}]}]}  # fmt: skip


@pytest.mark.parametrize(
    "block",
    [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        LONG_BUTTON,
        LONG_OPTION,
        {"type": "no_such_block"},
    ],
    ids=["section-text", "button-value", "option-value", "unknown-type"],
)
def test_post_message_raises_invalid_blocks_past_a_block_kit_limit(client: WebClient, block: dict[str, Any]) -> None:
    """The limits slack_sdk's Block Kit models check, and an unknown block type: Slack refuses them all."""
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=REVIEW, text="over", blocks=[block])

    assert slack_error(excinfo) == "invalid_blocks"


# encodings -----------------------------------------------------------------------------------------------------
def test_post_message_accepts_a_form_body_with_json_encoded_blocks(fake: FakeSlack, client: WebClient) -> None:
    sent = client.api_call("chat.postMessage", params={"channel": "revops-triage-review", "text": "form",
                                                       "blocks": json.dumps(review_blocks("9"))})  # fmt: skip

    assert fake.requests[-1].headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent["channel"] == fake.channel_id(REVOPS)
    assert fake.message(REVOPS, sent["ts"])["blocks"] == review_blocks("9")


def test_post_message_accepts_a_multipart_body_by_channel_id(fake: FakeSlack) -> None:
    channel_id = fake.channel_id("#triage-escalations")
    fields = {
        "channel": (None, channel_id),
        "text": (None, "multipart"),
        "blocks": (None, json.dumps(review_blocks("4"))),
    }

    sent = requests.post(f"{fake.url}/api/chat.postMessage", files=fields,
                         headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).json()  # fmt: skip

    assert fake.requests[-1].headers["content-type"].startswith("multipart/form-data")
    assert sent["channel"] == channel_id
    assert fake.messages(channel_id)[0]["text"] == "multipart"
    assert fake.messages(channel_id)[0]["blocks"] == review_blocks("4")


def test_post_message_accepts_the_token_as_a_form_field(fake: FakeSlack) -> None:
    form = {"token": TOKEN, "channel": "#triage-escalations", "text": "legacy"}

    sent = requests.post(f"{fake.url}/api/chat.postMessage", data=form, timeout=5).json()

    assert sent["ok"] is True
    assert fake.posts == 1


# rate limits and faults ----------------------------------------------------------------------------------------
def test_second_quick_post_to_one_channel_is_rate_limited(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=REVIEW, text="first")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=REVIEW, text="second")
    other = client.chat_postMessage(channel=REVOPS, text="another channel has its own limit")

    response = excinfo.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response["error"] == "ratelimited"
    assert other["ok"] is True
    assert [m["text"] for m in fake.messages(REVIEW)] == ["first"]
    assert fake.posts == 2


def test_second_quick_post_succeeds_after_waiting_with_rate_limit_retry_handler(fake: FakeSlack) -> None:
    patient = WebClient(token=TOKEN, base_url=f"{fake.url}/api/", timeout=5)
    patient.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    patient.chat_postMessage(channel=REVIEW, text="first")
    started = time.monotonic()

    patient.chat_postMessage(channel=REVIEW, text="second")

    assert time.monotonic() - started >= 1.0  # slept Retry-After (+ jitter) before retrying
    assert [m["text"] for m in fake.messages(REVIEW)] == ["first", "second"]
    assert [r.status for r in fake.requests] == [200, 429, 200]


def test_fail_next_503_makes_the_sdk_raise_and_then_recovers(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next(503)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=REVIEW, text="hi")
    retried = client.chat_postMessage(channel=REVIEW, text="hi")

    assert excinfo.value.response.status_code == 503
    assert slack_error(excinfo) == "service_unavailable"
    assert retried["ok"] is True
    assert fake.posts == 1


def test_fail_next_error_answers_ok_false_with_http_200(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next_error("channel_not_found")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=REVIEW, text="hi")

    assert excinfo.value.response.status_code == 200
    assert slack_error(excinfo) == "channel_not_found"
    assert fake.posts == 0


def test_fail_next_error_for_one_method_skips_other_methods(fake: FakeSlack, client: WebClient) -> None:
    sent = client.chat_postMessage(channel=REVIEW, text="Review ticket 3")
    fake.fail_next_error("message_not_found", method="chat.update")

    client.auth_test()
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=REVIEW, ts=sent["ts"], text="approved")
    client.chat_update(channel=REVIEW, ts=sent["ts"], text="approved")

    assert slack_error(excinfo) == "message_not_found"
    assert fake.updates == 1
    assert [method for method, _ in fake.calls()] == ["chat.postMessage", "auth.test", "chat.update", "chat.update"]


# launcher ------------------------------------------------------------------------------------------------------
def test_sandboxes_env_slack_api_url_works_with_webclient() -> None:
    with Sandboxes(slack_token=TOKEN) as sandboxes:
        env = sandboxes.env()
        sdk = WebClient(token=TOKEN, base_url=env["SLACK_API_URL"], timeout=5)

        sent = sdk.chat_postMessage(channel=REVIEW, text="through the launcher")

        assert env["SLACK_API_URL"] == f"{sandboxes.slack.url}/api/"
        assert sandboxes.slack in sandboxes.all
        assert sandboxes.slack.message(REVIEW, sent["ts"])["text"] == "through the launcher"
        assert [name for name, _ in sandboxes.journal()] == ["slack"]
