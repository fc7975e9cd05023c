"""The Slack app manifest we ship (infra/slack/manifest.yaml, written by `triage setup slack`) against Slack's own
manifest JSON Schema, and its bot scopes against the Slack calls the code makes (slack_manifest.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.contract.slack_calls import UNKNOWN, CodeCall, code_calls
from tests.contract.slack_manifest import (
    call_scopes,
    granted_bot_scopes,
    load_manifest,
    manifest_problems,
    method_scopes,
    reviewer_app_problems,
    scope_problems,
)
from triage_tools.setup.slack import METHOD_SCOPES, PLACEHOLDER_URL, manifest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "infra" / "slack" / "manifest.yaml"


@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_manifest(SHIPPED)


def test_the_shipped_manifest_conforms_to_slacks_manifest_schema(shipped: Any) -> None:
    assert manifest_problems(shipped) == []


def test_the_manifest_setup_writes_conforms_too() -> None:
    written = manifest("https://abc123.execute-api.us-east-1.amazonaws.com/slack/interactions")
    assert manifest_problems(written) == []
    assert reviewer_app_problems(written, code_calls()) == []


def test_the_shipped_bot_scopes_are_exactly_those_the_code_calls_need(shipped: Any) -> None:
    needed, unknown = method_scopes(code_calls())

    assert unknown == []
    assert sorted(granted_bot_scopes(shipped)) == sorted(set().union(*needed.values()))
    assert reviewer_app_problems(shipped, code_calls()) == []
    assert shipped["settings"]["interactivity"]["request_url"] == PLACEHOLDER_URL


def test_setups_method_scope_table_is_the_code_calls_and_the_spec_scopes() -> None:
    """triage_tools.setup.slack.METHOD_SCOPES (what `triage setup slack` grants) against the calls found in the
    code and the scopes Slack's spec gives them."""
    needed, _ = method_scopes(code_calls())

    assert {method: set(scopes) for method, scopes in METHOD_SCOPES.items()} == needed


# what the checks find ---------------------------------------------------------------------------------------
def test_a_manifest_that_breaks_the_schema_is_reported_field_by_field(shipped: Any) -> None:
    broken = copy.deepcopy(shipped)
    broken["features"]["bot_user"]["always_online"] = "no"
    broken["settings"]["interactivity"]["request_url"] = 5
    del broken["display_information"]["name"]
    broken["colour"] = "blue"

    assert manifest_problems(broken) == [
        "(manifest): Additional properties are not allowed ('colour' was unexpected)",
        "display_information: 'name' is a required property",
        "features.bot_user.always_online: 'no' is not of type 'boolean'",
        "settings.interactivity.request_url: 5 is not of type 'string'",
    ]
    unknown_version = {**copy.deepcopy(shipped), "_metadata": {"major_version": 3}}
    assert manifest_problems(unknown_version) == [
        "_metadata.major_version: 3 is not a manifest version Slack's schema knows ([1, 2])"
    ]


def test_a_missing_scope_and_an_unused_scope_are_both_reported(shipped: Any) -> None:
    changed = copy.deepcopy(shipped)
    changed["oauth_config"]["scopes"]["bot"] = ["chat:write", "channels:read", "users:read"]
    calls = [
        CodeCall("a.py:1", "chat.postMessage", {"channel": UNKNOWN, "text": UNKNOWN}, complete=True),
        CodeCall("a.py:2", "conversations.list", {"types": "public_channel,private_channel"}, complete=True),
    ]

    assert scope_problems(changed, calls) == [
        "oauth_config.scopes.bot: lacks groups:read (needed by conversations.list)",
        "oauth_config.scopes.bot: users:read is needed by no Slack call in the code",
    ]
    changed["settings"]["interactivity"] = {"is_enabled": False}
    del changed["features"]["bot_user"]
    assert reviewer_app_problems(changed, calls[:1]) == [
        "features.bot_user.display_name: the app needs a bot user to post review messages",
        "oauth_config.scopes.bot: channels:read is needed by no Slack call in the code",
        "oauth_config.scopes.bot: users:read is needed by no Slack call in the code",
        "settings.interactivity.is_enabled: must be true (the review buttons)",
        "settings.interactivity.request_url: '' is not https://…/slack/interactions",
    ]


@pytest.mark.parametrize(
    ("call", "scopes", "problem"),
    [
        (CodeCall("m.py:1", "chat.postMessage", {"channel": "C1"}), {"chat:write"}, None),  # chat:write:bot today
        (CodeCall("m.py:1", "auth.test"), set(), None),
        (CodeCall("m.py:1", "conversations.list"), {"channels:read"}, None),  # types defaults to public_channel
        (CodeCall("m.py:1", "users.conversations", {"types": ["im", "private_channel"]}), {"im:read", "groups:read"},
         None),
        (CodeCall("m.py:1", "users.conversations", {"types": UNKNOWN}), set(),
         "m.py:1: users.conversations: `types` is not a literal, so its scopes are unknown"),
        (CodeCall("m.py:1", "conversations.list", {"types": "public_channel,shared"}), set(),
         "m.py:1: conversations.list: unknown conversation type(s) ['shared']"),
        (CodeCall("m.py:1", "conversations.info", {"channel": "C1"}), {"channels:read", "groups:read"}, None),
        (CodeCall("m.py:1", "chat.postMesage"), set(), "m.py:1: chat.postMesage is not a method of Slack's spec"),
    ],
)  # fmt: skip
def test_the_scopes_of_one_call_come_from_the_spec(call: CodeCall, scopes: set[str], problem: str | None) -> None:
    assert call_scopes(call) == (frozenset(scopes), problem)
