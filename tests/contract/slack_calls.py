"""The Slack Web API calls our code makes, found by reading the code, so a new call is checked without anyone
listing it.

`web_client_methods()` reads slack_sdk's own `WebClient` source: each of its methods and the Web API method it
calls (`chat_postMessage` → `chat.postMessage`; a composite such as `files_upload_v2` → every method it calls).
`code_calls()` walks every module of the runtime package and of the tools (`CODE_ROOTS`) and finds each use of
such a method, in any of the forms our code has:

- `client.auth_test()`, `client.chat_update(channel=..., ts=...)`: a direct call;
- `_pages(client.users_conversations, "channels", types=...)`: the bound method handed to a helper;
- `self._call("chat_postMessage", channel=..., text=...)`: the method's name handed to a helper (`getattr`);
- `client.api_call("chat.postMessage", ...)`: slack_sdk's generic call;
- `self._call("chat.postMessage", channel=..., text=...)`: a Web API method's own name handed to a helper that
  posts it (the runtime's SlackWebClient, which calls the Web API without slack_sdk).

The keyword arguments of the call that names the method are taken as the call's arguments (a literal value is
kept, anything else is `UNKNOWN`); they are all of them (`complete`) unless the call also passes `**kwargs`,
or names the method without calling anything. A helper that adds an argument of its own (`_pages`: `cursor`,
`limit`) is not seen here: its requests are, in the integration tests (`recorded_requests.py`), and a
required argument belongs at the call site. `static_problems(call)` checks one call against Slack's spec:
the method exists, no unknown argument, every required one given (when complete), literal values typed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.contract.slack_spec import argument_problems, missing_arguments, not_in_spec, spec_methods

ROOT = Path(__file__).resolve().parents[2]
CODE_ROOTS = (ROOT / "layers" / "core" / "triage_gate", ROOT / "infra" / "tools" / "triage_tools")
GENERIC_CALL = "api_call"
WEB_API_HELPER = "_call"  # our runtime client's `_call("chat.postMessage", **arguments)`


class _Unknown:
    """An argument whose value is not a literal (a name, an expression): its type is not known here."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class CodeCall:
    where: str  # path (from the repository root):line
    method: str  # the Web API method, e.g. chat.postMessage
    arguments: dict[str, Any] = field(default_factory=dict)  # keyword -> literal value, or UNKNOWN
    complete: bool = False  # the arguments are all the call's arguments


@cache
def web_client_methods() -> dict[str, tuple[str, ...]]:
    """slack_sdk `WebClient` method name -> the Web API methods it calls, read from slack_sdk's source."""
    import slack_sdk.web.client

    tree = ast.parse(Path(slack_sdk.web.client.__file__).read_text(encoding="utf-8"))
    client = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "WebClient")
    functions = [f for f in client.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")]
    direct: dict[str, tuple[str, ...]] = {}
    for function in functions:
        names = [name for name in map(_generic_method, ast.walk(function)) if name is not None]
        if names:
            direct[function.name] = tuple(dict.fromkeys(names))
    composite = {
        function.name: tuple(sorted({m for node in ast.walk(function) for m in _self_calls(node, direct)}))
        for function in functions
        if function.name not in direct
    }
    return direct | {name: methods for name, methods in composite.items() if methods}


def _generic_method(node: ast.AST) -> str | None:
    """`X.api_call("chat.postMessage", ...)` -> "chat.postMessage"."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == GENERIC_CALL:
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _self_calls(node: ast.AST, direct: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return direct.get(node.attr, ())
    return ()


@cache
def code_calls(roots: tuple[Path, ...] = CODE_ROOTS) -> tuple[CodeCall, ...]:
    """Every Slack Web API call in the Python modules under `roots`, in file and line order."""
    found: list[CodeCall] = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.extend(calls_in_source(path.read_text(encoding="utf-8"), str(where)))
    return tuple(found)


def calls_in_source(source: str, where: str = "<source>") -> list[CodeCall]:
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    calls = []
    for node in ast.walk(tree):
        for method in _named_methods(node):
            call = _enclosing_call(node, parents)
            arguments, complete = _arguments(call)
            calls.append(CodeCall(f"{where}:{getattr(node, 'lineno', 0)}", method, arguments, complete))
    return sorted(calls, key=lambda c: (c.where.rsplit(":", 1)[0], int(c.where.rsplit(":", 1)[1]), c.method))


def _named_methods(node: ast.AST) -> Iterator[str]:
    """The Web API methods `node` names: a WebClient method (attribute or string), or `api_call`'s first argument."""
    methods = web_client_methods()
    if isinstance(node, ast.Attribute):
        yield from methods.get(node.attr, ())
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield from methods.get(node.value, ())
    generic = _generic_method(node)
    if generic is not None:
        yield generic
    helper = _helper_method(node)
    if helper is not None:
        yield helper


def _helper_method(node: ast.AST) -> str | None:
    """`self._call("chat.postMessage", ...)` -> "chat.postMessage" (a dotted name: a Web API method's own)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == WEB_API_HELPER:
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value:
            return first.value
    return None


def _enclosing_call(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.Call | None:
    """The call `node` is the callee of (`client.auth_test()`), or a positional argument of (`_call("x", ...)`);
    for `api_call("x", ...)`, the node itself."""
    if isinstance(node, ast.Call):
        return node
    parent = parents.get(node)
    if isinstance(parent, ast.Call) and (parent.func is node or node in parent.args):
        return parent
    return None


def _arguments(call: ast.Call | None) -> tuple[dict[str, Any], bool]:
    """(keyword -> literal or UNKNOWN, complete); for `api_call`, the keys of its `json`/`params`/`data` dicts."""
    if call is None:
        return {}, False
    if _generic_method(call) is not None:
        return _generic_arguments(call)
    pairs: list[tuple[str | None, ast.expr]] = [(keyword.arg, keyword.value) for keyword in call.keywords]
    return _literals(pairs)


def _generic_arguments(call: ast.Call) -> tuple[dict[str, Any], bool]:
    pairs: list[tuple[str | None, ast.expr]] = []
    complete = True
    for keyword in call.keywords:
        if keyword.arg not in ("json", "params", "data"):
            continue
        if not isinstance(keyword.value, ast.Dict):
            complete = False
            continue
        for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
            name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
            pairs.append((name, value))
    arguments, literal_complete = _literals(pairs)
    return arguments, complete and literal_complete


def _literals(pairs: Iterable[tuple[str | None, ast.expr]]) -> tuple[dict[str, Any], bool]:
    """Named values as literals (or UNKNOWN); an unnamed one (`**kwargs`, a computed key) makes them incomplete."""
    arguments: dict[str, Any] = {}
    complete = True
    for name, value in pairs:
        if name is None:
            complete = False
            continue
        try:
            arguments[name] = ast.literal_eval(value)
        except (ValueError, TypeError):  # not a literal (TypeError: e.g. a set of lists)
            arguments[name] = UNKNOWN
    return arguments, complete


def static_problems(call: CodeCall) -> list[str]:
    """What is wrong with `call` as the code writes it, against Slack's spec (see the module docstring)."""
    method = spec_methods().get(call.method)
    if method is None:
        return [f"{call.where}: {not_in_spec(call.method)}"]
    literal = {name: value for name, value in call.arguments.items() if value is not UNKNOWN}
    named = {name: value for name, value in call.arguments.items() if value is UNKNOWN}
    problems = missing_arguments(method, call.arguments) if call.complete else []
    problems += argument_problems(method, literal, json_body=True)
    problems += argument_problems(method, named, json_body=True, typed=False)
    return [f"{call.where}: {problem}" for problem in problems]


def called_methods(calls: Iterable[CodeCall]) -> set[str]:
    return {call.method for call in calls}
