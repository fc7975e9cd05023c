"""Can a TicketEvent go on TriageQueue? Checked before its dedupe key is claimed.

An event that cannot be put on the queue must be refused up front, alone: found out after the claim,
it would turn into an error answer whose redelivery is then taken for a duplicate, and the good events
of the same HubSpot batch would be lost with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from triage_gate.messages import MAX_QUEUE_MESSAGE_BYTES, TicketEvent
from triage_gate.records import to_data, to_json

# Characters SQS refuses in a message body or attribute (it takes #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
# #x10000-#x10FFFF). JSON escapes the control characters, so what can reach a body is a lone UTF-16
# surrogate (not UTF-8 encodable at all) or the non-characters U+FFFE / U+FFFF.
_UNSENDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
# The same set written as what is refused, not "not what is accepted": identical matches (every code point
# checked), and it compiles in under a millisecond where the negated class took ~10 ms of each cold start.
_UNSENDABLE_IN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def queue_problem(event: TicketEvent, vendor_item: Any, prefix: str = "") -> tuple[str, str] | None:
    """(field, message) saying why ``event`` cannot be queued, or None when it can.

    ``vendor_item`` is the parsed JSON the event came from and ``prefix`` its place in the body ("" for
    a Zendesk body, "[3]" for a HubSpot batch entry), so the field named is one the vendor sent.
    """
    try:
        body = event.queue_body()
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8 at all
        return _unsendable(event, vendor_item, prefix)
    if _UNSENDABLE_IN_BODY.search(body):
        return _unsendable(event, vendor_item, prefix)
    size = queue_message_bytes(event, body)
    if size > MAX_QUEUE_MESSAGE_BYTES:
        where = prefix or "$"
        largest = max(("subject", "text", "fields", "changes"), key=lambda name: _json_size(event, name))
        return where, (
            f"{where}: the event is {size} bytes as a queue message and the queue takes at most "
            f"{MAX_QUEUE_MESSAGE_BYTES}; most of it is its {largest}"
        )
    return None


def queue_attributes(event: TicketEvent) -> dict[str, tuple[str, str]]:
    """name → (DataType, value): the message attributes SqsEventQueue sends with the body."""
    return {
        "correlation_id": ("String", event.correlation_id),
        "dedupe_key": ("String", event.dedupe_key),
        "schema_version": ("Number", str(event.schema_version)),
    }


def queue_message_bytes(event: TicketEvent, body: str | None = None) -> int:
    """What SQS counts against its size limit: the body and each attribute's name, type and value."""
    body = event.queue_body() if body is None else body
    attributes = sum(
        len(name.encode()) + len(kind.encode()) + len(value.encode())
        for name, (kind, value) in queue_attributes(event).items()
    )
    return len(body.encode("utf-8")) + attributes


def _unsendable(event: TicketEvent, vendor_item: Any, prefix: str) -> tuple[str, str]:
    where = _vendor_field(event, vendor_item, prefix) or prefix or "$"
    return where, (
        f"{where}: holds text that cannot be put on the queue "
        "(a lone UTF-16 surrogate such as \\ud83d, or the non-character U+FFFE/U+FFFF)"
    )


def _vendor_field(event: TicketEvent, vendor_item: Any, prefix: str) -> str | None:
    """The vendor's field holding the text that broke the event: one that reached the event first."""
    carried = {text for _, text in _strings(to_data(event), "") if _UNSENDABLE.search(text)}
    fallback = None
    for path, text in _strings(vendor_item, prefix):
        if not _UNSENDABLE.search(text):
            continue
        # Carried as is, or cut to max_text_chars (which keeps the start).
        if text in carried or any(text.startswith(c) for c in carried):
            return path
        fallback = fallback or path
    return fallback


def _strings(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every key and string in a JSON value, in document order, without recursion."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path or "$", node
        elif isinstance(node, dict):
            children = []
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    yield child_path, key
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(node, list | tuple | set | frozenset):
            stack.extend(reversed([(f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node)]))


def _json_size(event: TicketEvent, name: str) -> int:
    try:
        return len(to_json({name: getattr(event, name)}).encode("utf-8"))
    except UnicodeEncodeError:
        return 0
