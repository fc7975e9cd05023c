"""Zendesk's two ways of paging a list, as FakeZendesk serves them.

Cursor pagination when ``page[size]`` is given (``meta.has_more``, ``meta.after_cursor``, ``links.next``; at
most 100 a page), else offset pagination (``per_page``, ``page``, ``next_page``, ``count``).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from triage_local.sandboxes.base import RecordedRequest, Reply

MAX_PAGE = 100


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(value) if kind == "offset" else None
    except (ValueError, UnicodeDecodeError):
        return None


def page_of(name: str, items: list[dict[str, Any]], request: RecordedRequest, base_url: str) -> Reply:
    """One page of ``items`` under the key ``name``, cursor or offset paginated as the request asks."""
    size_text = request.param("page[size]")
    if size_text is not None:
        return _cursor_page(name, items, request, base_url, size_text)
    per_page = request.param("per_page") or str(MAX_PAGE)
    page = request.param("page") or "1"
    if not (per_page.isdigit() and page.isdigit() and 0 < int(per_page) <= MAX_PAGE and int(page) > 0):
        return Reply(400, {"error": "InvalidPaginationParameter", "description": "per_page and page must be numbers"})
    start = (int(page) - 1) * int(per_page)
    chunk = items[start : start + int(per_page)]
    more = start + int(per_page) < len(items)
    following = f"{base_url}{request.path}?{urlencode({'page': int(page) + 1, 'per_page': per_page})}"
    body = {name: chunk, "next_page": following if more else None, "previous_page": None, "count": len(items)}
    return Reply(200, body)


def _cursor_page(name: str, items: list[dict[str, Any]], request: RecordedRequest, base_url: str,
                 size_text: str) -> Reply:  # fmt: skip
    after = request.param("page[after]")
    start = _offset(after) if after else 0
    if not size_text.isdigit() or not 0 < int(size_text) <= MAX_PAGE or start is None:
        return Reply(400, {"error": "InvalidPaginationParameter", "description": "Invalid page[size] or cursor"})
    size = int(size_text)
    chunk = items[start : start + size]
    more = start + size < len(items)
    after_cursor = _cursor(start + size) if more else None
    following = f"{base_url}{request.path}?{urlencode({'page[size]': size, 'page[after]': after_cursor})}"
    return Reply(200, {
        name: chunk,
        "meta": {"has_more": more, "after_cursor": after_cursor, "before_cursor": _cursor(start) if start else None},
        "links": {"next": following if more else None, "prev": None},
    })  # fmt: skip
