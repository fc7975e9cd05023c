"""Zendesk's rules for ticket writes, as the fake applies them: field values, tags, stamps, error bodies."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from triage_local.sandboxes.base import Reply

PRIORITIES = ("urgent", "high", "normal", "low")
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TYPES = ("problem", "incident", "question", "task")
MAX_COMMENTS = 5000
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
CONFLICT = {
    "error": "UpdateConflict",
    "description": "Safe Update prevented the update due to outdated ticket data. "
    "Please fetch the latest ticket data and try again.",
}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(microsecond=0)
    except ValueError:
        return None


def invalid(field: str, message: str) -> Reply:
    detail = {"description": f"{field.replace('_', ' ').capitalize()}: {message}", "error": "InvalidValue"}
    return Reply(
        422, {"error": "RecordInvalid", "description": "Record validation errors", "details": {field: [detail]}}
    )


def _is_field(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), int)


def normalise_tags(tags: list[str]) -> list[str]:
    """Zendesk lower-cases tags and splits them on whitespace; order kept, duplicates dropped."""
    return list(dict.fromkeys(part.lower() for tag in tags for part in tag.split()))


def validate_update(data: dict[str, Any], comment_count: int, groups: Mapping[int, Any]) -> Reply | None:
    """The 422s of a ticket update: unknown priority/status/type, unknown group, bad tags, fields, comment."""
    for field, allowed in (("priority", PRIORITIES), ("status", STATUSES), ("type", TYPES)):
        if field in data and data[field] is not None and data[field] not in allowed:
            return invalid(field, "is not valid")
    group = data.get("group_id")
    if group is not None and (not isinstance(group, int) or (groups and group not in groups)):
        return invalid("group_id", "is invalid")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return invalid("tags", "must be a list of strings")
    fields = data.get("custom_fields", [])
    if not isinstance(fields, list) or not all(_is_field(f) for f in fields):
        return invalid("custom_fields", "must be a list of {id, value}")
    comment = data.get("comment")
    if comment is not None:
        text = comment.get("body") or comment.get("html_body") if isinstance(comment, dict) else None
        if not isinstance(text, str) or not text.strip():
            return invalid("comment", "cannot be blank")
        if comment_count >= MAX_COMMENTS:
            return invalid("comment", f"a ticket can have at most {MAX_COMMENTS} comments")
    return None


AUDITS_PER_PAGE = 100


def apply_changes(ids: Iterator[int], ticket: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    """Set the fields `data` names (tags: replace; additional_tags / remove_tags: add / remove)."""
    wanted = dict(data)
    if "additional_tags" in data or "remove_tags" in data:
        base = normalise_tags(wanted.get("tags", ticket["tags"]))
        added = normalise_tags(_tag_list(data.get("additional_tags")))
        removed = set(normalise_tags(_tag_list(data.get("remove_tags"))))
        wanted["tags"] = [t for t in normalise_tags([*base, *added]) if t not in removed]
    events: list[dict[str, Any]] = []
    for field in ("group_id", "priority", "status", "type", "assignee_id", "subject", "tags", "custom_fields"):
        if field not in wanted:
            continue
        value = wanted[field]
        if field == "tags":
            value = normalise_tags(value)
        elif field == "custom_fields":
            events.extend(_custom_field_events(ids, ticket, value))
            continue
        if value != ticket[field]:
            events.append({"id": next(ids), "type": "Change", "field_name": field, "value": value,
                           "previous_value": ticket[field]})  # fmt: skip
            ticket[field] = value
    return events


def _tag_list(value: Any) -> list[str]:
    """`additional_tags` / `remove_tags`: a list of tags, or one tag as a string (Zendesk documents both)."""
    return [value] if isinstance(value, str) else list(value or [])


def _custom_field_events(
    ids: Iterator[int], ticket: dict[str, Any], given: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    current = {f["id"]: f["value"] for f in ticket["custom_fields"]}
    events = []
    for item in given:
        if current.get(item["id"]) != item["value"]:
            events.append({"id": next(ids), "type": "Change", "field_name": str(item["id"]),
                           "value": item["value"], "previous_value": current.get(item["id"])})  # fmt: skip
            current[item["id"]] = item["value"]
    ticket["custom_fields"] = [{"id": k, "value": v} for k, v in current.items()]
    return events


def audit_page(audits: list[dict[str, Any]], url: str, page_param: str | None, per_page_param: str | None) -> Reply:
    """Oldest first, `per_page` (≤ 100) at a time, `next_page` until the last page (offset pagination)."""
    per_page = min(int(per_page_param or AUDITS_PER_PAGE), AUDITS_PER_PAGE)
    page = max(int(page_param or 1), 1)
    chunk = copy.deepcopy(audits[(page - 1) * per_page : page * per_page])
    more = page * per_page < len(audits)
    next_page = f"{url}?page={page + 1}&per_page={per_page}"
    return Reply(200, {"audits": chunk, "next_page": next_page if more else None,
                       "previous_page": None, "count": len(audits)})  # fmt: skip
