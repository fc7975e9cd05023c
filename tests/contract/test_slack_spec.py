"""The Slack Web API checker (slack_spec.py) against the vendored spec: it passes conforming calls, names every
kind of violation, its allow-lists stay honest, and the fake Slack's argument table agrees with the spec."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.contract.recorded_requests import recorded_request
from tests.contract.slack_spec import (
    JSON_VALUES,
    NEWER_ARGUMENTS,
    check_call,
    check_recorded,
    spec_methods,
)
from triage_local.sandboxes.slack_args import ARGUMENTS

SPECS = Path(__file__).parent / "vendor_specs"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Ticket 5158*"}}]


def readme_checksums() -> dict[str, str]:
    """`file -> sha256` from the README's tables."""
    rows = re.findall(
        r"^\| `([^`]+)` \| `[0-9a-f]{40}` \| `([0-9a-f]{64})` \|$", (SPECS / "README.md").read_text(), re.M
    )
    return dict(rows)


def test_every_vendored_file_is_the_byte_for_byte_copy_the_readme_names() -> None:
    listed = readme_checksums()
    on_disk = {str(p.relative_to(SPECS)) for p in SPECS.rglob("*") if p.is_file() and p.name != "README.md"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((SPECS / name).read_bytes()).hexdigest() == digest, name


def test_the_spec_describes_the_methods_the_code_calls() -> None:
    methods = spec_methods()
    assert len(methods) == 174
    for name in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        assert methods[name].verb == "POST"
        assert methods[name].takes_json
    assert methods["chat.update"].arguments["ts"].required
    assert methods["conversations.info"].verb == "GET"
    assert not methods["conversations.info"].takes_json


# conforming calls --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "params", "how"),
    [
        ("chat.postMessage", {"channel": "C1", "text": "Review", "blocks": BLOCKS}, {}),
        ("chat.postMessage", {"channel": "C1", "text": "x", "metadata": {"event_type": "t", "event_payload": {}}}, {}),
        (
            "chat.postMessage",
            {"channel": "C1", "text": "x", "blocks": json.dumps(BLOCKS), "unfurl_links": "false"},
            {"json_body": False},
        ),
        ("chat.postMessage", {"channel": "C1", "text": "x", "token": "xoxb-1"}, {"json_body": False, "bearer": False}),
        ("chat.update", {"channel": "C1", "ts": "1767880000.000100", "text": "Approved", "blocks": []}, {}),
        ("chat.postEphemeral", {"channel": "C1", "user": "U1", "text": "Pick a reason"}, {}),
        ("auth.test", {}, {"verb": "POST", "json_body": False}),
        ("conversations.info", {"channel": "C1", "include_num_members": "true"}, {"verb": "GET", "json_body": False}),
    ],
)
def test_a_call_that_follows_the_spec_has_no_problems(method: str, params: dict[str, object], how: dict) -> None:
    assert check_call(method, params, **how) == []


# violations --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "params", "how", "problem"),
    [
        ("chat.postMesage", {"channel": "C1"}, {}, "chat.postMesage: not a method of Slack's Web API spec"),
        ("chat.postMessage", {"text": "x"}, {}, "required argument `channel` is missing"),
        ("chat.update", {"channel": "C1", "text": "x"}, {}, "required argument `ts` is missing"),
        ("chat.postMessage", {"channel": "C1", "text": "x", "colour": "red"}, {}, "unknown argument `colour`"),
        ("chat.postMessage", {"channel": 42, "text": "x"}, {}, "`channel` = 42 is not a string"),
        (
            "chat.postMessage",
            {"channel": "C1", "text": "x", "reply_broadcast": "yes"},
            {"json_body": False},
            "`reply_broadcast` = 'yes' is not a boolean",
        ),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": {"type": "section"}},
            {},
            "`blocks` is dict, expected a JSON array",
        ),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": "[{"},
            {"json_body": False},
            "`blocks` is a string that is not JSON",
        ),
        (
            "chat.update",
            {"channel": "C1", "ts": "1.2", "metadata": "[]"},
            {"json_body": False},
            "`metadata` encodes a list, expected an object",
        ),
        ("chat.postEphemeral", {"channel": "C1", "user": "U1", "metadata": {}}, {}, "unknown argument `metadata`"),
        (
            "chat.postMessage",
            {"channel": "C1", "text": "x"},
            {"verb": "GET", "json_body": False},
            "HTTP GET; the spec lists POST",
        ),
        ("chat.postMessage", {"channel": "C1", "text": "x"}, {"verb": "PUT"}, "Slack's Web API takes GET or POST"),
        ("conversations.info", {"channel": "C1"}, {}, "JSON body, but the spec's consumes has only form encoding"),
        (
            "chat.postMessage",
            {"channel": "C1", "text": "x", "token": "xoxb-1"},
            {},
            "`token` in a JSON body: Slack reads it only from the Authorization header",
        ),
        ("chat.postMessage", {"channel": "C1", "text": "x"}, {"bearer": False}, "no token"),
    ],
)
def test_each_kind_of_violation_is_named(method: str, params: dict[str, object], how: dict, problem: str) -> None:
    problems = check_call(method, params, **how)
    assert any(problem in p for p in problems), problems


def test_a_recorded_request_is_read_with_its_verb_body_type_and_token() -> None:
    good = recorded_request("POST", "/api/chat.postMessage", {"channel": "C1", "text": "x", "blocks": BLOCKS})
    form = recorded_request("POST", "/api/chat.postMessage", b"channel=C1&text=x&mrkdwn=sometimes",
                            content_type="application/x-www-form-urlencoded", bearer=False)  # fmt: skip

    assert check_recorded(good) == []
    assert check_recorded(form) == ["chat.postMessage: no token (Authorization: Bearer, or `token` in a form or query)",
                                    "chat.postMessage: `mrkdwn` = 'sometimes' is not a boolean"]  # fmt: skip
    assert check_recorded(recorded_request("GET", "/slack/interactions")) == [
        "GET /slack/interactions: not under /api/"
    ]


# the allow-lists and the fake's table ------------------------------------------------------------------------
def test_newer_arguments_are_really_missing_from_the_spec_and_cite_slacks_docs() -> None:
    for (method, name), (kind, docs) in NEWER_ARGUMENTS.items():
        assert name not in spec_methods()[method].arguments, f"{method} {name} is in the spec: drop it from the list"
        assert kind in ("object", "array")
        assert docs.startswith("https://docs.slack.dev/")
    for name in JSON_VALUES:
        typed = [m.arguments[name].kind for m in spec_methods().values() if name in m.arguments]
        assert set(typed) <= {"string"}  # what the spec types as a string, and we read as JSON


def test_the_fake_slacks_argument_table_is_the_spec_plus_the_newer_arguments() -> None:
    kinds = {"string": "string", "boolean": "boolean", "integer": "string", "number": "string"}
    for method, table in ARGUMENTS.items():
        spec = spec_methods()[method].arguments
        expected = {
            name: ("json" if name in JSON_VALUES else kinds[arg.kind], arg.required)
            for name, arg in spec.items()
            if name != "token"
        } | {name: ("json", False) for (m, name) in NEWER_ARGUMENTS if m == method}
        assert table == expected, method
