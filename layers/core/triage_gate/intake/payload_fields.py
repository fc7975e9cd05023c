"""Small pydantic building blocks shared by the vendor payload models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError

# Ticket, account and portal ids end up in vendor API URLs and in dedupe keys: ASCII digits only.
# ([0-9], not \d: \d also matches other scripts' digits.)
DIGITS_PATTERN = r"^[0-9]{1,20}$"


def _id_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an id must be a string or an integer, not a boolean")
    if isinstance(value, int):
        return str(value)
    return value


VendorId = Annotated[str, BeforeValidator(_id_to_str), Field(min_length=1, max_length=128)]
# A numeric vendor id, sent as a JSON integer or a digit string: 1 to 20 ASCII digits, nothing else.
DigitId = Annotated[str, BeforeValidator(_id_to_str), Field(pattern=DIGITS_PATTERN)]


def first_error(exc: ValidationError, *, prefix: str = "") -> tuple[str, str]:
    """(field path, message) of the first problem, the field path in JSON-pointer-ish dots."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"])
    where = f"{prefix}.{path}" if prefix and path else (prefix or path or "$")
    return where, f"{where}: {err['msg']}"
