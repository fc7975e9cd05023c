"""What the fake Zendesk and HubSpot refuse for a request's shape, before routing it, as the vendors do.

A `Shape` is a JSON Schema of what the vendor *accepts* on one route (types and allowed values), not our
own stricter contract (`tests/contract/vendor_schemas/` says what our code must send, e.g. no unknown
field; a vendor ignores those). A request whose JSON body breaks its route's shape is answered with the
vendor's validation error: Zendesk `422 RecordInvalid` naming the ticket field, HubSpot `400
VALIDATION_ERROR` naming where in the input. Bodies that are not a JSON object are left to the route's own
415/400. A value is accepted in another type only where the vendor documents it (Zendesk's own examples
send `"safe_update": "true"` and a single tag as a string); any other coercion a vendor might make is
refused, so a request that would only work by luck fails in tests.

Unconfirmed: that Zendesk and HubSpot refuse (rather than coerce) a value of the wrong documented type, e.g.
`comment.public: "false"`, and the exact wording of their errors. Not refused, because no documentation says
the vendor does: `tags` together with `additional_tags` in one update, and fields the vendor does not know (our
own contract schemas in `tests/contract/vendor_schemas/` refuse both in what our code sends).

Sources: developer.zendesk.com/api-reference/ticketing/tickets/tickets/ (ticket field types; `comment`
{body | html_body, public, author_id}); developer.zendesk.com/documentation/ticketing/managing-tickets/
adding-tags-to-tickets-without-overwriting-existing-tags (`additional_tags`: an array of tags, or one tag);
developers.hubspot.com/docs/api-reference/search/guide (filters, operators, limit up to 200);
developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects (batch read body).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from triage_local.sandboxes.base import RecordedRequest, Reply
from triage_local.sandboxes.hubspot import hubspot_error
from triage_local.sandboxes.zendesk_rules import invalid

JsonPath = Sequence[str | int]
STRINGS = {"type": "array", "items": {"type": "string"}}
ID = {"type": ["string", "integer"]}
SCALAR = {"type": ["string", "number", "boolean"]}
OPERATORS = [
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
]


@dataclass(frozen=True)
class Shape:
    method: str
    path: re.Pattern[str]
    body: Mapping[str, Any]  # JSON Schema of a body the vendor accepts
    validator: Draft202012Validator = field(init=False, compare=False)

    def __post_init__(self) -> None:
        Draft202012Validator.check_schema(self.body)
        object.__setattr__(self, "validator", Draft202012Validator(self.body))


class Shapes:
    """One vendor's shapes and how it words a refusal (`refuse(path in the body, message)`)."""

    def __init__(self, shapes: Iterable[Shape], refuse: Callable[[JsonPath, str], Reply]) -> None:
        self.shapes = tuple(shapes)
        self._refuse = refuse

    def refusal(self, request: RecordedRequest) -> Reply | None:
        if not isinstance(request.json, dict):
            return None
        for shape in self.shapes:
            if shape.method == request.method and shape.path.match(request.path):
                error = best_match(shape.validator.iter_errors(request.json))
                if error is not None:
                    return self._refuse(list(error.absolute_path), error.message)
        return None


# Zendesk -------------------------------------------------------------------------------------------------
COMMENT = {
    "type": "object",
    "properties": {
        "body": {"type": "string"},
        "html_body": {"type": "string"},
        "public": {"type": "boolean"},
        "author_id": {"type": "integer"},
    },
}
TAG_LIST = {"anyOf": [{"type": "string"}, STRINGS]}
SAFE_UPDATE = {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}
UPDATE_TICKET = {
    "type": "object",
    "properties": {
        "ticket": {
            "if": {"type": "object"},  # not an object: the route's own 400 InvalidParameter
            "then": {
                "properties": {
                    "additional_tags": TAG_LIST,
                    "remove_tags": TAG_LIST,
                    "safe_update": SAFE_UPDATE,
                    "updated_stamp": {"type": "string"},
                    "comment": COMMENT,
                    "assignee_id": {"type": ["integer", "null"]},
                    "custom_fields": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "value": {
                                    "type": ["string", "number", "boolean", "null", "array"],
                                    "items": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
    },
}
SAFE_TAGS = {"type": "object", "properties": {"safe_update": SAFE_UPDATE, "updated_stamp": {"type": "string"}}}
TICKET = r"^/api/v2/tickets/\d+(?:\.json)?$"
TICKET_TAGS = r"^/api/v2/tickets/\d+/tags(?:\.json)?$"


def _zendesk_refusal(path: JsonPath, message: str) -> Reply:
    """422 RecordInvalid on the ticket field (`ticket.comment.public` → `comment`)."""
    parts = [str(p) for p in path]
    name = parts[1] if parts[:1] == ["ticket"] and len(parts) > 1 else (parts[0] if parts else "ticket")
    return invalid(name, message)


ZENDESK = Shapes(
    [Shape("PUT", re.compile(TICKET), UPDATE_TICKET)]
    + [Shape(method, re.compile(TICKET_TAGS), SAFE_TAGS) for method in ("PUT", "POST", "DELETE")],
    _zendesk_refusal,
)

# HubSpot -------------------------------------------------------------------------------------------------
FILTER = {
    "type": "object",
    "required": ["propertyName", "operator"],
    "properties": {
        "propertyName": {"type": "string"},
        "operator": {"enum": OPERATORS},
        "value": SCALAR,
        "highValue": SCALAR,
        "values": {"type": "array", "items": SCALAR},
    },
}
SEARCH = {
    "type": "object",
    "properties": {
        "filterGroups": {
            "type": "array",
            "items": {"type": "object", "properties": {"filters": {"type": "array", "items": FILTER}}},
        },
        "sorts": {"type": "array"},
        "properties": STRINGS,
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "after": {"type": ["string", "integer"]},
        "query": {"type": "string"},
    },
}
BATCH_READ = {
    "type": "object",
    "properties": {
        "inputs": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": ID}}},
        "properties": STRINGS,
        "propertiesWithHistory": STRINGS,
        "idProperty": {"type": "string"},
        "archived": {"type": "boolean"},
    },
}
ASSOCIATIONS_READ = {
    "type": "object",
    "properties": {
        "inputs": {
            "type": "array",
            "items": {"type": "object", "required": ["id"], "properties": {"id": ID, "after": {"type": "string"}}},
        }
    },
}


def _hubspot_refusal(path: JsonPath, message: str) -> Reply:
    where = ".".join(str(p) for p in path) or "(body)"
    return hubspot_error(400, "VALIDATION_ERROR", f"Invalid input JSON: {where}: {message}")


HUBSPOT = Shapes(
    [
        Shape("POST", re.compile(r"^/crm/v3/objects/(tickets|notes)/search$"), SEARCH),
        Shape("POST", re.compile(r"^/crm/v3/objects/(tickets|companies)/batch/read$"), BATCH_READ),
        Shape("POST", re.compile(r"^/crm/v4/associations/[a-z_]+/[a-z_]+/batch/read$"), ASSOCIATIONS_READ),
    ],
    _hubspot_refusal,
)
BY_SANDBOX = {"zendesk": ZENDESK, "hubspot": HUBSPOT}


def refusal(sandbox: str, request: RecordedRequest) -> Reply | None:
    """The named sandbox's refusal of `request`'s shape, or None (no shape for its route, or it conforms)."""
    shapes = BY_SANDBOX.get(sandbox)
    return shapes.refusal(request) if shapes is not None else None
