"""What the fake Slack refuses in a Web API call's arguments, before the method runs, as Slack does.

`ARGUMENTS` holds, for each method the fake serves, the arguments of Slack's Web API spec
(`slackapi/slack-api-specs`, vendored in `tests/contract/vendor_specs/`; a test keeps this table equal to it)
with their types and which are required, plus `metadata` (newer than the spec). A required argument that is
missing is answered `invalid_arguments` with `response_metadata.messages` `["[ERROR] missing required field:
<name>"]`, as Slack answered chat.update and conversations.join without `channel` in public bug reports
(slackapi/deno-slack-sdk#212, vluzrmos/laravel-slack-api#38; Slack's method pages list `invalid_arguments`: "The
method was called with invalid arguments"). An argument of the wrong type is `invalid_arguments` too. Slack
ignores arguments it does not know, and so does the fake (our contract tests refuse them instead).

Types: in a JSON body a string is a JSON string, a boolean a JSON boolean (or "true"/"false"/"1"/"0"), `json`
arguments (blocks, attachments, metadata) the JSON value or a string encoding it; in a form or the query
every value is a string (the content checks of blocks and metadata are in `slack_params.py`).

Unconfirmed: that Slack refuses, rather than reads loosely, a value of the wrong type (e.g. `unfurl_links:
"maybe"`); the missing-field answer for methods other than the two reported.
"""

from __future__ import annotations

from typing import Any

Table = dict[str, dict[str, tuple[str, bool]]]  # method -> argument -> (type, required)
BOOLEAN_FORMS = frozenset({"true", "false", "1", "0"})
MESSAGE_ARGUMENTS = {
    "text": ("string", False),
    "blocks": ("json", False),
    "attachments": ("json", False),
    "as_user": ("string", False),
    "link_names": ("boolean", False),
    "parse": ("string", False),
}
ARGUMENTS: Table = {
    "auth.test": {},
    "chat.postMessage": {
        "channel": ("string", True),
        **MESSAGE_ARGUMENTS,
        "icon_emoji": ("string", False),
        "icon_url": ("string", False),
        "mrkdwn": ("boolean", False),
        "reply_broadcast": ("boolean", False),
        "thread_ts": ("string", False),
        "unfurl_links": ("boolean", False),
        "unfurl_media": ("boolean", False),
        "username": ("string", False),
        "metadata": ("json", False),
    },
    "chat.update": {
        "channel": ("string", True),
        "ts": ("string", True),
        **MESSAGE_ARGUMENTS,
        "link_names": ("string", False),
        "metadata": ("json", False),
    },
    "chat.postEphemeral": {
        "channel": ("string", True),
        "user": ("string", True),
        **MESSAGE_ARGUMENTS,
        "as_user": ("boolean", False),
        "icon_emoji": ("string", False),
        "icon_url": ("string", False),
        "thread_ts": ("string", False),
        "username": ("string", False),
    },
    "chat.getPermalink": {"channel": ("string", True), "message_ts": ("string", True)},
}
MISSING_FIELD = "[ERROR] missing required field: {}"


def argument_error(method: str, params: dict[str, Any], json_body: bool) -> dict[str, Any] | None:
    """Slack's error answer (without `ok`) to the call's arguments, or None (they are acceptable, or the method is
    not listed)."""
    arguments = ARGUMENTS.get(method)
    if arguments is None:
        return None
    for name, (_, required) in arguments.items():
        if required and params.get(name) in (None, ""):
            return {"error": "invalid_arguments", "response_metadata": {"messages": [MISSING_FIELD.format(name)]}}
    for name, value in params.items():
        kind = arguments.get(name, ("", False))[0]
        if kind and not _has_type(value, kind, json_body):
            return {"error": "invalid_arguments"}
    return None


def _has_type(value: Any, kind: str, json_body: bool) -> bool:
    if isinstance(value, str):
        return kind != "boolean" or value.lower() in BOOLEAN_FORMS
    if not json_body:
        return False  # form and query values are strings
    if kind == "boolean":
        return isinstance(value, bool)
    return kind == "json" and isinstance(value, list | dict)
