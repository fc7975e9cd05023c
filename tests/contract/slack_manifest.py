"""The Slack app manifest checked against Slack's own JSON Schema (`slackapi/manifest-schema`, vendored), and its
bot scopes against the calls the code makes.

`manifest_problems(manifest)` lists what is wrong with a manifest (empty: it conforms). The root schema
dispatches on `_metadata.major_version` through remote `$ref`s; the vendored copies are registered under
those URIs, so validation never touches the network. When the root schema refuses a manifest, the errors
are read from the versioned schema it dispatches to (the root's own `oneOf` message names no field).

`call_scopes(call)` is the bot scopes one Web API call needs, from Slack's spec (each method's `security`):
the spec lists the scopes a method accepts, as alternatives and under 2020's names, so two of Slack's
documented rules pick the ones a bot token needs. A `:user` scope is not a bot scope, and `chat:write:bot`
is today's `chat:write` (`CHAT_WRITE_DOCS`); a Conversations API method needs the scope of each conversation
type it asks for in `types` (default `public_channel`: `CONVERSATIONS_DOCS`), and one that reads a conversation
by id those of the types our code reads (`CHANNEL_TYPES`: review channels). `scope_problems` compares the
manifest's bot scopes with the scopes of every call in the code (`slack_calls.code_calls()`): a scope a call
needs and the manifest lacks, and a scope no call needs, are both problems. `reviewer_app_problems` adds
what our reviewer app needs beyond the schema: a bot user, and interactivity sent to `POST /slack/interactions`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from tests.contract.slack_calls import CodeCall
from tests.contract.slack_spec import spec_methods

SCHEMA_DIR = Path(__file__).parent / "vendor_specs" / "slack" / "manifest-schema"
REMOTE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{}.0.0.json"
INTERACTIONS_PATH = "/slack/interactions"
CHAT_WRITE_DOCS = "https://docs.slack.dev/reference/scopes/chat.write"  # "Compatible API methods: chat.postMessage, …"
CONVERSATIONS_DOCS = "https://docs.slack.dev/apis/web-api/using-the-conversations-api"
NO_SCOPE = "none"  # the spec's entry for a method any token may call (auth.test)
BOT_SCOPE_NAMES = {"chat:write:bot": "chat:write"}  # the spec's legacy name -> the bot scope (CHAT_WRITE_DOCS)
# "required scopes depend on the type of channel-like object you're working with" (users.conversations,
# conversations.list): public channels need channels:read, private ones groups:read (CONVERSATIONS_DOCS).
CONVERSATION_TYPE_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "mpim": "mpim:read",
    "im": "im:read",
}
DEFAULT_TYPES = "public_channel"  # what a Conversations API method lists without `types`
# A method that reads one conversation by id (conversations.info) needs the scope of that conversation's type; the
# conversations our code reads are the policy's review and escalation channels: public or private, never a DM.
CHANNEL_TYPES = "public_channel,private_channel"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validators() -> tuple[Draft7Validator, dict[int, Draft7Validator]]:
    """The root validator and one per major version, with the remote `$ref`s resolved to the local copies."""
    versions = {major: _load(SCHEMA_DIR / "schemas" / f"manifest.schema.{major}.0.0.json") for major in (1, 2)}
    registry: Registry[Any] = Registry().with_resources(
        (REMOTE.format(major), Resource.from_contents(schema)) for major, schema in versions.items()
    )
    root = Draft7Validator(_load(SCHEMA_DIR / "manifest.schema.json"), registry=registry)
    return root, {major: Draft7Validator(schema) for major, schema in versions.items()}


def load_manifest(path: Path) -> Any:
    """A manifest file: YAML (JSON is YAML too)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def manifest_problems(manifest: Any) -> list[str]:
    root, versions = _validators()
    if root.is_valid(manifest):
        return []
    metadata = manifest.get("_metadata") if isinstance(manifest, dict) else None
    major = metadata.get("major_version", 1) if isinstance(metadata, dict) else 1
    versioned = versions.get(major) if isinstance(major, int) and not isinstance(major, bool) else None
    if versioned is None:
        known = sorted(versions)
        return [f"_metadata.major_version: {major!r} is not a manifest version Slack's schema knows ({known})"]
    errors: Iterable[ValidationError] = versioned.iter_errors(manifest)
    return sorted(f"{_where(e)}: {e.message}" for e in errors) or [
        f"(manifest): refused by the root schema: {next(root.iter_errors(manifest)).message}"
    ]


def call_scopes(call: CodeCall) -> tuple[frozenset[str], str | None]:
    """(the bot scopes `call` needs, None), or (nothing, why they cannot be told)."""
    method = spec_methods().get(call.method)
    if method is None:
        return frozenset(), f"{call.where}: {call.method} is not a method of Slack's spec"
    listed = set(method.scopes)
    if not listed:
        return frozenset(), f"{call.where}: Slack's spec lists no scope for {call.method}"
    if listed == {NO_SCOPE}:
        return frozenset(), None
    if listed <= set(CONVERSATION_TYPE_SCOPES.values()):
        return _conversation_scopes(call, "types" in method.arguments)
    bot = {BOT_SCOPE_NAMES.get(scope, scope) for scope in listed if not scope.endswith(":user")}
    if len(bot) != 1:
        return frozenset(), f"{call.where}: {call.method} takes any of {sorted(bot)}: say which one the bot needs"
    return frozenset(bot), None


def _conversation_scopes(call: CodeCall, takes_types: bool) -> tuple[frozenset[str], str | None]:
    types = call.arguments.get("types", DEFAULT_TYPES) if takes_types else CHANNEL_TYPES
    if isinstance(types, list | tuple) and all(isinstance(t, str) for t in types):
        types = ",".join(types)  # slack_sdk joins a list
    if not isinstance(types, str):
        return frozenset(), f"{call.where}: {call.method}: `types` is not a literal, so its scopes are unknown"
    asked = [t.strip() for t in types.split(",") if t.strip()]
    unknown = [t for t in asked if t not in CONVERSATION_TYPE_SCOPES]
    if unknown:
        return frozenset(), f"{call.where}: {call.method}: unknown conversation type(s) {unknown}"
    return frozenset(CONVERSATION_TYPE_SCOPES[t] for t in asked), None


def method_scopes(calls: Iterable[CodeCall]) -> tuple[dict[str, frozenset[str]], list[str]]:
    """(method -> the bot scopes its calls need, the calls whose scopes cannot be told)."""
    scopes: dict[str, frozenset[str]] = {}
    unknown = []
    for call in calls:
        needed, problem = call_scopes(call)
        scopes[call.method] = scopes.get(call.method, frozenset()) | needed
        if problem is not None:
            unknown.append(problem)
    return scopes, unknown


def granted_bot_scopes(manifest: Any) -> list[str]:
    oauth = manifest.get("oauth_config") if isinstance(manifest, dict) else None
    scopes = (oauth or {}).get("scopes") if isinstance(oauth, dict) else None
    bot = (scopes or {}).get("bot") if isinstance(scopes, dict) else None
    return [str(scope) for scope in bot] if isinstance(bot, list) else []


def scope_problems(manifest: Any, calls: Iterable[CodeCall]) -> list[str]:
    """The manifest's bot scopes against the calls' (see the module docstring)."""
    needed, problems = method_scopes(calls)
    granted = set(granted_bot_scopes(manifest))
    for method, scopes in sorted(needed.items()):
        missing = sorted(scopes - granted)
        if missing:
            problems.append(f"oauth_config.scopes.bot: lacks {', '.join(missing)} (needed by {method})")
    used = set().union(*needed.values()) if needed else set()
    problems.extend(
        f"oauth_config.scopes.bot: {scope} is needed by no Slack call in the code" for scope in sorted(granted - used)
    )
    return problems


def reviewer_app_problems(manifest: Any, calls: Iterable[CodeCall]) -> list[str]:
    """What the reviewer app needs from its manifest beyond the schema (see the module docstring)."""
    if not isinstance(manifest, dict):
        return ["the manifest is not a mapping"]
    problems = []
    features, settings = manifest.get("features") or {}, manifest.get("settings") or {}
    if not (features.get("bot_user") or {}).get("display_name"):
        problems.append("features.bot_user.display_name: the app needs a bot user to post review messages")
    problems.extend(scope_problems(manifest, calls))
    interactivity = settings.get("interactivity") or {}
    if interactivity.get("is_enabled") is not True:
        problems.append("settings.interactivity.is_enabled: must be true (the review buttons)")
    url = str(interactivity.get("request_url") or "")
    if urlsplit(url).scheme != "https" or not urlsplit(url).path.endswith(INTERACTIONS_PATH):
        problems.append(f"settings.interactivity.request_url: {url!r} is not https://…{INTERACTIONS_PATH}")
    return problems


def _where(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(manifest)"
