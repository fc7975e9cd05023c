"""Every Slack Web API call in the runtime package and the tools, found by reading the code (slack_calls.py), is a
method of Slack's spec with known, well-typed arguments and its required ones; the scan finds each form of call."""

from __future__ import annotations

import inspect

from slack_sdk import WebClient

from tests.contract.slack_calls import (
    UNKNOWN,
    CodeCall,
    called_methods,
    calls_in_source,
    code_calls,
    static_problems,
    web_client_methods,
)
from tests.contract.slack_spec import spec_methods

RUNTIME_CLIENT = "layers/core/triage_gate/adapters/slack_client.py"
# WebClient methods that call no Web API method by a name in their own body (chat_stream returns a ChatStream
# helper object, which makes the calls later): a call of one of these would not be seen by the scan.
NOT_MAPPED = {"chat_stream"}


def test_slack_sdks_client_methods_are_read_from_its_source() -> None:
    methods = web_client_methods()

    assert methods["chat_postMessage"] == ("chat.postMessage",)
    assert methods["users_conversations"] == ("users.conversations",)
    assert methods["files_upload_v2"] == ("files.completeUploadExternal", "files.getUploadURLExternal")
    public = {name for name, _ in inspect.getmembers(WebClient, inspect.isfunction) if not name.startswith("_")}
    inherited = {name for name in public if name not in vars(WebClient)}  # BaseClient: api_call and the like
    assert public - inherited - set(methods) == NOT_MAPPED


def test_the_scan_finds_every_form_of_call_with_its_arguments() -> None:
    source = """
client.auth_test()
client.chat_update(channel=channel, ts="1767880000.000100", text="Approved", **extra)
pages(client.users_conversations, "channels", types="public_channel", exclude_archived=True)
self._call("chat_postEphemeral", channel=channel, user=user, text=text)
client.api_call("chat.postMessage", json={"channel": "C1", "text": "x"})
handler = client.conversations_info
self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
self._call("not a method name")
"""
    calls = calls_in_source(source, "module.py")

    assert calls == [
        CodeCall("module.py:2", "auth.test", {}, complete=True),
        CodeCall("module.py:3", "chat.update", {"channel": UNKNOWN, "ts": "1767880000.000100", "text": "Approved"}),
        CodeCall("module.py:4", "users.conversations", {"types": "public_channel", "exclude_archived": True}, True),
        CodeCall("module.py:5", "chat.postEphemeral", {"channel": UNKNOWN, "user": UNKNOWN, "text": UNKNOWN}, True),
        CodeCall("module.py:6", "chat.postMessage", {"channel": "C1", "text": "x"}, complete=True),
        CodeCall("module.py:7", "conversations.info", {}, complete=False),
        CodeCall("module.py:8", "chat.update", dict.fromkeys(("channel", "ts", "text", "blocks"), UNKNOWN), True),
    ]
    assert all(static_problems(call) == [] for call in calls)


def test_every_slack_call_in_the_code_is_a_spec_method_with_known_typed_and_required_arguments() -> None:
    calls = code_calls()

    runtime = {call.method for call in calls if call.where.startswith(RUNTIME_CLIENT)}
    assert runtime == {"chat.postMessage", "chat.update", "chat.postEphemeral"}  # the scan is not blind
    assert called_methods(calls) <= set(spec_methods())
    assert [problem for call in calls for problem in static_problems(call)] == []
    assert all(call.complete for call in calls if call.where.startswith(RUNTIME_CLIENT))


def test_a_call_that_breaks_the_spec_is_named_with_where_and_what() -> None:
    source = """
client.chat_postMesage(channel="C1", text="x")
client.chat_postMessage(text="x", colour="red", unfurl_links="no")
client.chat_update(channel=channel, text="x")
client.conversations_list(limit="many", types=types)
client.chat_postMessage(**kwargs)
"""
    problems = [p for call in calls_in_source(source, "bad.py") for p in static_problems(call)]

    assert problems == [
        "bad.py:3: chat.postMessage: required argument `channel` is missing",
        "bad.py:3: chat.postMessage: unknown argument `colour` (not in the spec, not in NEWER_ARGUMENTS)",
        "bad.py:3: chat.postMessage: `unfurl_links` = 'no' is not a boolean",
        "bad.py:4: chat.update: required argument `ts` is missing",
        "bad.py:5: conversations.list: `limit` = 'many' is not an integer",
    ]  # chat_postMesage is no WebClient method: slack_sdk would fail (AttributeError); **kwargs: not complete
    assert calls_in_source("client.api_call('chat.postMesage')", "x.py")[0].method == "chat.postMesage"
    assert static_problems(calls_in_source("client.api_call('chat.postMesage')", "x.py")[0]) == [
        "x.py:1: chat.postMesage: not a method of Slack's Web API spec"
    ]
