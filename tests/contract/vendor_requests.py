"""Zendesk and HubSpot requests checked against the request shapes in `vendor_schemas/` (from the vendors' docs).

Each schema file describes one request our code sends: `x-request` gives its HTTP method and a path regex,
the schema validates `{"query": {name: value}, "body": <JSON or null>, "content_type": <media type or
null>}`. A file without `x-request` only holds shared definitions (`$ref`ed by the others, resolved
through their `$id`s, never fetched). `check_vendor_request(vendor, request)` answers what is wrong with a
request a sandbox recorded: no schema for its route (every request must be described), or each violation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from triage_local.sandboxes.base import RecordedRequest

SCHEMA_DIR = Path(__file__).parent / "vendor_schemas"
VENDORS = ("zendesk", "hubspot")
MAX_MESSAGE = 240  # jsonschema quotes the whole instance: long lists are cut


@dataclass(frozen=True)
class RequestContract:
    vendor: str
    name: str  # the schema file's stem, e.g. update_ticket
    method: str
    path: re.Pattern[str]
    validator: Draft202012Validator
    unconfirmed: tuple[str, ...]

    def matches(self, request: RecordedRequest) -> bool:
        return request.method == self.method and self.path.match(request.path) is not None


def _schema_files() -> list[Path]:
    return sorted(p for vendor in VENDORS for p in (SCHEMA_DIR / vendor).glob("*.json"))


@cache
def contracts() -> tuple[RequestContract, ...]:
    """Every request contract, in file order."""
    schemas = {path: json.loads(path.read_text(encoding="utf-8")) for path in _schema_files()}
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    found = []
    for path, schema in schemas.items():
        route = schema.get("x-request")
        if route is None:
            continue
        Draft202012Validator.check_schema(schema)
        found.append(RequestContract(
            vendor=path.parent.name, name=path.stem, method=route["method"], path=re.compile(route["path"]),
            validator=Draft202012Validator(schema, registry=registry),
            unconfirmed=tuple(schema.get("x-unconfirmed", ())),
        ))  # fmt: skip
    return tuple(found)


def request_instance(request: RecordedRequest) -> dict[str, Any]:
    """What the schemas validate: the query (a repeated name keeps all its values, as a list), the body (parsed
    JSON; a body that is not JSON stays a string; none is null) and the body's media type."""
    query = {name: values[0] if len(values) == 1 else values for name, values in request.query.items()}
    body: Any = None
    if request.body:
        body = request.json if request.json is not None else request.body.decode("utf-8", "replace")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower() or None
    return {"query": query, "body": body, "content_type": content_type if request.body else None}


def check_vendor_request(vendor: str, request: RecordedRequest) -> list[str]:
    matching = [c for c in contracts() if c.vendor == vendor and c.matches(request)]
    if not matching:
        return [f"no request contract for {request.method} {request.path} "
                f"(describe it in tests/contract/vendor_schemas/{vendor}/)"]  # fmt: skip
    instance = request_instance(request)
    problems = []
    for contract in matching:
        errors = sorted(contract.validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        problems.extend(f"{contract.name}: {describe_error(e)}" for e in errors)
    return problems


def describe_error(error: ValidationError) -> str:
    """`where: what`; for a failed oneOf/anyOf, what is wrong with the closest alternative."""
    message = error.message
    if error.context:
        closest = best_match(error.context)
        message = f"{_where(closest)}: {closest.message} (no alternative of `{error.validator}` fits)"
    text = f"{_where(error)}: {message}"
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _where(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(request)"
