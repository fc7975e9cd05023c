"""The layer's data classes: msgspec Structs, validated where data comes in (queue bodies, the policy file,
vendor payloads, DynamoDB items) and cheap everywhere else.

Why msgspec and not pydantic (which these were): every function's cold start imports them. Measured on the
project's machine (``make bench``), importing pydantic cost ~120 ms after boto3 and building the layer's
models another ~70 ms, most of TriageFunction's cold start over its boto3 reference; msgspec imports in a
few ms and builds a class in microseconds. The layer holds no pydantic at all (the Claude adapter calls the
API without the SDK that needed it).

A ``Meta(pattern=...)`` is applied with ``re.search``: patterns are anchored ``^...\\Z`` (``$`` would also match
before a final newline, and "40211\\n" is not a ticket id).

Validation happens in ``from_data`` / ``from_json`` (types, constraints, unknown fields, ``__post_init__``
checks); constructing a Struct in code runs ``__post_init__`` but does not check types, as a dataclass.

Modules whose Structs are decoded from data (the policy, the queue contracts, the decision record, the vendor
payloads, the settings) do not use ``from __future__ import annotations``: msgspec resolves a class's types
at its first decode, and a string annotation is compiled and evaluated then, ~5 ms of TriageFunction's cold
start for the policy alone. Written as objects they cost a little more at import and much less at the first
decode: -10 ms of TriageFunction's cold start in an A/B (11 runs). ``tests/unit/test_records.py`` checks it.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from typing import Any, Self, TypeVar

import msgspec
from msgspec import ValidationError

__all__ = [
    "FrozenRecord",
    "Record",
    "ValidationError",
    "decode_json",
    "describe_error",
    "error_location",
    "to_data",
    "to_json",
]

T = TypeVar("T")


class _RecordMethods:
    """What every record can do; mixed into the two bases below (a mutable and a frozen one)."""

    __slots__ = ()
    __struct_fields__: tuple[str, ...]

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """Validate built-in data (a dict from YAML, JSON or DynamoDB): ValidationError when it does not fit.
        Integer dict keys may come as strings (JSON has no others)."""
        validated: Self = msgspec.convert(data, cls, str_keys=True)
        return validated

    @classmethod
    def from_json(cls, raw: str | bytes) -> Self:
        """Parse and validate a JSON document in one pass. ValidationError also for malformed JSON."""
        decoder = _DECODERS.get(cls)
        if decoder is None:
            decoder = _DECODERS[cls] = msgspec.json.Decoder(cls)
        parsed: Self = decode_json(decoder, raw)
        return parsed

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return cls.__struct_fields__

    def to_data(self) -> dict[str, Any]:
        """JSON-ready built-ins (datetimes as RFC 3339 strings), every field included."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    def to_json(self) -> str:
        return to_json(self)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, set as given: neither validated nor re-checked by ``__post_init__`` (tools
        and tests derive variants of a validated policy; ``from_data`` is the validating door)."""
        clone = copy.copy(self)
        for name, value in changes.items():
            if name not in self.__struct_fields__:
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
            msgspec.structs.force_setattr(typing.cast(msgspec.Struct, clone), name, value)
        return clone


class Record(_RecordMethods, msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A record that changes as it goes (a decision record gains its write-back and review). Keyword-only
    fields, unknown fields refused."""


class FrozenRecord(_RecordMethods, msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A value: frozen, keyword-only fields, unknown fields refused. Subclasses say ``frozen=True`` again (the
    type checkers' dataclass rules do not inherit it)."""


_ENCODER = msgspec.json.Encoder()


_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}  # one per record type, built at its first parse


def decode_json(decoder: msgspec.json.Decoder[T], raw: str | bytes) -> T:
    """``decoder.decode(raw)``, malformed JSON raised as the ValidationError a wrong value is."""
    try:
        return decoder.decode(raw)
    except ValidationError:
        raise
    except msgspec.DecodeError as exc:
        raise ValidationError(f"not JSON: {exc}") from exc


def to_json(value: Any) -> str:
    """Any Struct, dataclass or container of them as JSON text (UnicodeEncodeError for a lone surrogate)."""
    return _ENCODER.encode(value).decode()


def to_data(value: Any) -> Any:
    """Any Struct, dataclass or container of them as JSON-ready built-ins."""
    return msgspec.to_builtins(value)


# ---- Errors a person reads ---------------------------------------------------------------------------------

_AT = re.compile(r"^(?P<message>.*) - at `(?:(?P<key>key)` in `)?(?P<path>\$[^`]*)`$", re.DOTALL)
_NAMES_A_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `([^`]+)`")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def error_location(exc: ValidationError, data: Any, target: Any) -> tuple[str, str]:
    """(dotted path, message) of a msgspec error, with the dict keys msgspec leaves out found again.

    msgspec names a dict entry ``[...]`` (``$.routes[...].max_tokens``); an operator editing the policy needs
    ``routes.sonnet.max_tokens``. The key is the first entry of that dict whose value (or, for a key
    error, whose key) does not validate on its own. Only ever run on the error path."""
    found = _AT.match(str(exc)) or _AT.match(f"{exc} - at `$`")  # at the root, msgspec gives no place
    assert found is not None
    steps = _STEP.findall(found["path"].removeprefix("$"))
    names: list[str] = []
    node, kind = data, target
    for name, item in steps:
        if name:
            names.append(name)
            node = node.get(name) if isinstance(node, dict) else None
            kind = _field_type(kind, name)
        elif item == "...":
            key, node, kind = _failing_entry(node, kind, key_error=False)
            names.append("?" if key is None else str(key))
        else:
            names.append(item)
            node = node[int(item)] if isinstance(node, list) and int(item) < len(node) else None
            kind = _item_type(kind)
    if found["key"] is not None:  # the path is the dict's; the key is one of its keys
        key, _, _ = _failing_entry(node, kind, key_error=True)
        if key is not None:
            names.append(str(key))
    named = _NAMES_A_FIELD.fullmatch(found["message"])
    if named:  # msgspec names the object; the place to fix is the field
        names.append(named[1])
    return ".".join(names), found["message"]


def describe_error(exc: ValidationError, data: Any, target: Any, *, prefix: str) -> str:
    """``{prefix} {path}: {message}`` — one line naming the field the way the user wrote it."""
    where, message = error_location(exc, data, target)
    return f"{prefix} {where or '(root)'}: {message}"


def _unwrap(kind: Any) -> Any:
    """The container or class inside Annotated[...] and ``X | None``."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(kind) if a is not type(None)]
            kind = (
                members[0]
                if len(members) == 1
                else next((m for m in members if isinstance(typing.get_origin(m) or m, type)), members[0])
            )
        else:
            return kind


def _field_type(kind: Any, name: str) -> Any:
    kind = _unwrap(kind)
    if not isinstance(kind, type):
        return Any
    hints = typing.get_type_hints(kind, include_extras=True)
    fields = getattr(kind, "__struct_fields__", ())
    encode_names = getattr(kind, "__struct_encode_fields__", fields)
    python_name = dict(zip(encode_names, fields, strict=False)).get(name, name)
    return hints.get(python_name, Any)


def _item_type(kind: Any) -> Any:
    args = typing.get_args(_unwrap(kind))
    return args[0] if args else Any


def _failing_entry(node: Any, kind: Any, *, key_error: bool) -> tuple[Any, Any, Any]:
    """(key, value, value type) of the first entry of a dict that fails on its own; (None, None, Any) if none."""
    args = typing.get_args(_unwrap(kind))
    key_type, value_type = (args[0], args[1]) if len(args) == 2 else (Any, Any)
    if not isinstance(node, dict):
        return None, None, value_type
    for key, value in node.items():
        try:
            if key_error:
                msgspec.convert({key: None}, dict[key_type, Any], str_keys=True)  # type: ignore[valid-type]
            else:
                msgspec.convert(value, value_type, str_keys=True)
        except (ValidationError, TypeError, ValueError):
            return key, value, value_type
    return None, None, value_type
