"""Small building blocks shared by the vendor payload models."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from triage_gate.records import ValidationError, error_location

# Ticket, account and portal ids end up in vendor API URLs and in dedupe keys: ASCII digits only.
# ([0-9], not \d: \d also matches other scripts' digits.)
DIGITS_PATTERN = r"^[0-9]{1,20}\Z"

# Ids are sent as JSON strings or integers (never booleans): ``ids_as_text`` makes an integer the string it
# stands for before validation, so the models hold text only.
VendorId = Annotated[str, Meta(min_length=1, max_length=128)]
# A numeric vendor id, sent as a JSON integer or a digit string: 1 to 20 ASCII digits, nothing else.
DigitId = Annotated[str, Meta(pattern=DIGITS_PATTERN)]


def ids_as_text(item: Any, names: tuple[str, ...]) -> Any:
    """``item`` with each of ``names`` that is a JSON integer (not a boolean) as its decimal string."""
    if not isinstance(item, dict):
        return item
    ints = {n: str(v) for n in names if isinstance(v := item.get(n), int) and not isinstance(v, bool)}
    return {**item, **ints} if ints else item


def first_error(exc: ValidationError, data: Any, model: type, *, prefix: str = "") -> tuple[str, str]:
    """(field path, message) of the problem, the field path in JSON-pointer-ish dots."""
    path, message = error_location(exc, data, model)
    where = f"{prefix}.{path}" if prefix and path else (prefix or path or "$")
    return where, f"{where}: {message}"
