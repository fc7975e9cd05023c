"""Context: the fields the policy names, read deterministically from what the vendor API returned."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def dotted(documents: Mapping[str, Any], path: str) -> Any:
    """documents["organization"]["organization_fields"]["tier"] for "organization.organization_fields.tier"."""
    node: Any = documents
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def select_fields(documents: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {field: value for field in fields if (value := dotted(documents, field)) is not None}
