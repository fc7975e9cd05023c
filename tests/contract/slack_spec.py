"""Slack Web API calls checked against Slack's own OpenAPI 2.0 description of the Web API.

`check_call(method, params)` answers what is wrong with one call, as a list of problems (empty: it
conforms): the method exists in the spec; the HTTP verb; every argument the spec marks required is there;
each argument has the spec's type; no argument the spec does not know, unless it is one of the documented
`NEWER_ARGUMENTS`. `check_recorded(request)` does the same for a request a `FakeSlack` recorded (the verb,
the body's content type and the bearer token come from the request itself).

The spec is frozen at 2020 (see `vendor_specs/README.md`), so it is a floor: what it is known to lack is
listed below with Slack's current documentation, and nothing else is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from triage_local.sandboxes.base import RecordedRequest, is_json_content
from triage_local.sandboxes.slack_params import read_params

SPEC_PATH = Path(__file__).parent / "vendor_specs" / "slack" / "web-api" / "slack_web_openapi_v2.json"
WEB_API_DOCS = "https://docs.slack.dev/apis/web-api"  # GET or POST for every method; JSON bodies on write methods
METADATA_DOCS = "https://docs.slack.dev/messaging/message-metadata"

# Arguments Slack added after the spec was frozen: (method, argument) -> (JSON type, Slack's current docs).
NEWER_ARGUMENTS: dict[tuple[str, str], tuple[str, str]] = {
    ("chat.postMessage", "metadata"): ("object", METADATA_DOCS),
    ("chat.update", "metadata"): ("object", METADATA_DOCS),
}
# Arguments the spec types as a string that hold JSON: a JSON body may carry the value itself (Slack: "we
# strongly recommend using JSON-encoded bodies" for these), a form must carry it JSON-encoded.
JSON_VALUES: dict[str, str] = {"blocks": "array", "attachments": "array", "metadata": "object"}
BOOLEAN_FORMS = frozenset({"true", "false", "1", "0"})
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {"array": list, "object": dict}


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str  # the spec's type: string, boolean, integer, number
    required: bool


@dataclass(frozen=True)
class Method:
    name: str
    verb: str  # the HTTP verb the spec lists ("GET" or "POST")
    takes_json: bool  # the spec's `consumes` includes application/json
    arguments: Mapping[str, Argument]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """One Web API call as it was made: the verb, whether the body was JSON, whether a bearer token was sent."""

    method: str
    params: Mapping[str, Any]
    verb: str = "POST"
    json_body: bool = True
    bearer: bool = True


@cache
def spec_methods() -> dict[str, Method]:
    """Every method of the vendored spec, by name (`chat.postMessage`)."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    methods: dict[str, Method] = {}
    for path, operations in spec["paths"].items():
        for verb, operation in operations.items():
            arguments = {
                p["name"]: Argument(p["name"], p.get("type", "string"), bool(p.get("required")))
                for p in operation.get("parameters", [])
            }
            scopes = tuple(s for item in operation.get("security", []) for s in item.get("slackAuth", []))
            name = path.removeprefix("/")
            methods[name] = Method(
                name, verb.upper(), "application/json" in operation.get("consumes", []), arguments, scopes
            )
    return methods


def check_call(method: str, params: Mapping[str, Any], **how: Any) -> list[str]:
    """What is wrong with calling `method` with `params` (`how`: the `Call` fields verb, json_body, bearer)."""
    return check(Call(method, params, **how))


def check(call: Call) -> list[str]:
    found = spec_methods().get(call.method)
    if found is None:
        return [not_in_spec(call.method)]
    problems = _transport_problems(found, call) + missing_arguments(found, call.params)
    return problems + argument_problems(found, call.params, call.json_body)


def not_in_spec(method: str) -> str:
    return f"{method}: not a method of Slack's Web API spec"


def missing_arguments(method: Method, params: Mapping[str, Any]) -> list[str]:
    """The arguments the spec marks required that `params` lacks (`token` travels in the Authorization header)."""
    return [
        f"{method.name}: required argument `{argument.name}` is missing"
        for argument in method.arguments.values()
        if argument.required and argument.name != "token" and params.get(argument.name) in (None, "")
    ]


def argument_problems(method: Method, params: Mapping[str, Any], json_body: bool, *, typed: bool = True) -> list[str]:
    """The arguments of `params` the spec does not know and, when `typed` (the values are the values sent), the
    ones of the wrong type."""
    problems = []
    for name, value in params.items():
        problem = _argument_problem(method, name, value, json_body) if typed else _unknown_argument(method, name)
        if problem:
            problems.append(f"{method.name}: {problem}")
    return problems


def _transport_problems(method: Method, call: Call) -> list[str]:
    """The verb, the body type and the token: POST-only methods need POST; JSON only where the spec takes it."""
    problems = []
    if call.verb not in ("GET", "POST"):
        problems.append(f"{method.name}: HTTP {call.verb}; Slack's Web API takes GET or POST ({WEB_API_DOCS})")
    elif method.verb == "POST" and call.verb != "POST":
        problems.append(f"{method.name}: HTTP {call.verb}; the spec lists POST")
    if call.json_body and not method.takes_json:
        problems.append(f"{method.name}: JSON body, but the spec's consumes has only form encoding")
    if call.json_body and call.verb != "POST":
        problems.append(f"{method.name}: a JSON body needs POST")
    token = method.arguments.get("token")
    has_token = call.bearer or (not call.json_body and bool(call.params.get("token")))
    if token is not None and token.required and not has_token:
        problems.append(f"{method.name}: no token (Authorization: Bearer, or `token` in a form or query)")
    return problems


def _unknown_argument(method: Method, name: str) -> str | None:
    if name in method.arguments or (method.name, name) in NEWER_ARGUMENTS:
        return None
    return f"unknown argument `{name}` (not in the spec, not in NEWER_ARGUMENTS)"


def _argument_problem(method: Method, name: str, value: Any, json_body: bool) -> str | None:
    if name == "token":
        return "`token` in a JSON body: Slack reads it only from the Authorization header" if json_body else None
    unknown = _unknown_argument(method, name)
    if unknown is not None:
        return unknown
    argument = method.arguments.get(name)
    newer = NEWER_ARGUMENTS.get((method.name, name))
    kind = argument.kind if argument is not None else "string"
    json_kind = JSON_VALUES.get(name) or (newer[0] if newer else None)
    if json_kind is not None and kind == "string":
        return _json_value_problem(name, value, json_kind, json_body)
    return _typed_problem(name, value, kind, json_body)


def _json_value_problem(name: str, value: Any, json_kind: str, json_body: bool) -> str | None:
    """`blocks`, `attachments`, `metadata`: the JSON value in a JSON body, or a string that decodes to it."""
    if json_body and isinstance(value, _JSON_TYPES[json_kind]):
        return None
    if not isinstance(value, str):
        return f"`{name}` is {type(value).__name__}, expected a JSON {json_kind} or a string encoding one"
    try:
        decoded = json.loads(value)
    except ValueError:
        return f"`{name}` is a string that is not JSON (expected an encoded {json_kind})"
    if not isinstance(decoded, _JSON_TYPES[json_kind]):
        return f"`{name}` encodes a {type(decoded).__name__}, expected {_a(json_kind)}"
    return None


def _typed_problem(name: str, value: Any, kind: str, json_body: bool) -> str | None:
    if not json_body and not isinstance(value, str):
        return f"`{name}` is {type(value).__name__} in a form or query (values are strings)"
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in BOOLEAN_FORMS)
    elif kind == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())
    else:  # number
        ok = _is_number(value)
    return None if ok else f"`{name}` = {value!r} is not {_a(kind)}"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def recorded_call(request: RecordedRequest) -> Call | str:
    """The call a FakeSlack recorded, or why it is not a Web API call."""
    if not request.path.startswith("/api/"):
        return f"{request.method} {request.path}: not under /api/"
    json_body = bool(request.body) and is_json_content(request)
    params = read_params(request)
    if isinstance(params, str):
        return f"{request.method} {request.path}: unreadable arguments ({params})"
    if json_body and isinstance(request.json, dict):
        params = {**{k: v[-1] for k, v in request.query.items()}, **request.json}  # JSON values keep their types
    bearer = request.headers.get("authorization", "").startswith("Bearer ")
    return Call(request.path.removeprefix("/api/"), params, request.method, json_body, bearer)


def check_recorded(request: RecordedRequest) -> list[str]:
    call = recorded_call(request)
    return [call] if isinstance(call, str) else check(call)
