"""Zendesk webhook bodies: the event-subscription envelope and the trigger body from the README."""

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from msgspec import Meta, field

from triage_gate.config import ZENDESK_EVENT_PREFIX
from triage_gate.errors import InvalidPayload
from triage_gate.intake.outcomes import Ignored, Parsed
from triage_gate.intake.payload_fields import DigitId, VendorId, first_error, ids_as_text
from triage_gate.messages import AwareDatetime, FieldValue, TicketEvent
from triage_gate.records import Record, ValidationError

M = TypeVar("M", bound=Record)
MAX_HEADER_ID = 128
# ticket_updated trigger bodies are told apart by a hash of their signed bytes (this many hex digits).
BODY_HASH_CHARS = 24
_DIGITS = re.compile(r"[0-9]{1,20}")
# Unsigned delivery headers are recorded only when they look like ids.
_HEADER_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_HEADER_ID}}}")
TRIGGER_SOURCE = "zendesk-trigger"
# The body the README's triggers (and `triage setup zendesk`) make Zendesk send: identifiers only (free-text
# placeholders are not JSON-escaped reliably; the worker fetches the ticket). TriggerBody below parses it.
CREATED_TRIGGER_BODY = """{
  "source": "zendesk-trigger",
  "event": "ticket_created",
  "ticket_id": "{{ticket.id}}",
  "created_at": "{{ticket.created_at_with_timestamp}}",
  "updated_at": "{{ticket.updated_at_with_timestamp}}",
  "via": "{{ticket.via}}",
  "brand": "{{ticket.brand.name}}",
  "tags": "{{ticket.tags}}"
}"""
UPDATED_TRIGGER_BODY = CREATED_TRIGGER_BODY.replace('"ticket_created"', '"ticket_updated"')
_TRIGGER_EVENTS = {"ticket_created": "ticket.created", "ticket_updated": "ticket.updated"}
_DETAIL_FIELDS = (
    "status", "priority", "type", "group_id", "brand_id", "requester_id", "organization_id",
    "assignee_id", "form_id", "external_id", "custom_status",
)  # fmt: skip


class _Payload(Record, kw_only=True, forbid_unknown_fields=False):
    """A vendor's JSON: what is read is checked; what is not read is left alone (vendors add fields)."""


class ZendeskTicketDetail(_Payload, kw_only=True):
    id: DigitId
    subject: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    via: dict[str, Any] | None = None


class ZendeskCommentAuthor(_Payload, kw_only=True):
    id: VendorId | None = None
    is_staff: bool | None = None


class ZendeskComment(_Payload, kw_only=True):
    id: VendorId | None = None
    body: str | None = None
    is_public: bool | None = None
    author: ZendeskCommentAuthor | None = None


class ZendeskEventEnvelope(_Payload, kw_only=True):
    """``zen:event-type:*`` deliveries (event-subscription webhooks)."""

    type: Annotated[str, Meta(pattern=r"^zen:event-type:[a-z_]+\.[a-z_.]+\Z")]
    account_id: DigitId
    id: VendorId
    time: AwareDatetime
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    event: dict[str, Any] = field(default_factory=dict)


class ZendeskTriggerBody(_Payload, kw_only=True):
    """The JSON body the README tells admins to paste into a trigger's "Notify webhook" action."""

    source: Literal["zendesk-trigger"]
    event: Literal["ticket_created", "ticket_updated"]
    ticket_id: DigitId
    created_at: str | None = None
    updated_at: str | None = None  # {{ticket.updated_at_with_timestamp}}: makes each update's body distinct
    via: str | None = None
    brand: str | None = None
    # {{ticket.tags}}: space-separated. Lets segment rules (e.g. an opt-out tag) work without the API.
    tags: Annotated[str, Meta(max_length=8192)] | None = None


def parse_zendesk(
    body: Any,
    *,
    headers: Mapping[str, str],
    received_at: datetime,
    handled_types: frozenset[str],
    max_text_chars: int,
    raw_body: bytes | None = None,
) -> Parsed:
    """``raw_body``: the signed request bytes (intake always passes them; they key ticket_updated triggers)."""
    if not isinstance(body, dict):
        raise InvalidPayload("$: expected a JSON object", field="$")
    if body.get("source") == TRIGGER_SOURCE:
        signed = raw_body if raw_body is not None else _canonical_bytes(body)
        trigger = _validate(ZendeskTriggerBody, ids_as_text(body, ("ticket_id",)))
        return _from_trigger(trigger, signed, headers, received_at)
    if isinstance(body.get("type"), str) and body["type"].startswith(ZENDESK_EVENT_PREFIX):
        envelope = _validate(ZendeskEventEnvelope, ids_as_text(body, ("account_id", "id")))
        return _from_envelope(envelope, headers, received_at, handled_types, max_text_chars)
    raise InvalidPayload(
        "$: neither a Zendesk event-subscription envelope (type: zen:event-type:...) "
        f'nor the trigger body (source: "{TRIGGER_SOURCE}")',
        field="type",
    )


def _validate(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.from_data(body)
    except ValidationError as exc:
        where, message = first_error(exc, body, model)
        raise InvalidPayload(message, field=where) from exc


def _from_envelope(
    envelope: ZendeskEventEnvelope,
    headers: Mapping[str, str],
    received_at: datetime,
    handled_types: frozenset[str],
    max_text_chars: int,
) -> Parsed:
    event_type = envelope.type.removeprefix(ZENDESK_EVENT_PREFIX)
    if not event_type.startswith("ticket."):
        return Ignored("not_a_ticket_event", envelope.type)
    try:
        detail = ZendeskTicketDetail.from_data(ids_as_text(envelope.detail, ("id",)))
    except ValidationError as exc:
        where, message = first_error(exc, envelope.detail, ZendeskTicketDetail, prefix="detail")
        raise InvalidPayload(message, field=where) from exc
    correlation_id = f"zendesk:{detail.id}"
    if event_type not in handled_types:
        return Ignored("event_type_not_handled", envelope.type, correlation_id)
    comment = _comment(envelope.event)
    if comment and comment.author and comment.author.is_staff is True:
        # Agents' and our own notes: classifying them would loop on our write-backs.
        return Ignored("staff_comment", envelope.type, correlation_id)
    text = comment.body if comment else detail.description
    text, truncated = _bounded(text, max_text_chars)
    return TicketEvent(
        source="zendesk",
        account_id=envelope.account_id,
        ticket_id=detail.id,
        event_type=event_type,
        vendor_event_type=envelope.type,
        event_id=envelope.id,
        occurred_at=envelope.time,
        received_at=received_at,
        dedupe_key=f"zendesk:{envelope.account_id}:{envelope.id}",
        subject=detail.subject,
        text=text,
        text_truncated=truncated,
        fields=_detail_fields(detail, envelope.detail),
        changes={k: v for k, v in envelope.event.items() if k != "comment"},
        delivery=_delivery(headers),
    )


def _comment(event: dict[str, Any]) -> ZendeskComment | None:
    if "comment" not in event or event["comment"] is None:
        return None
    try:
        comment = ids_as_text(event["comment"], ("id",))
        if isinstance(comment, dict):
            comment = (
                {**comment, "author": ids_as_text(comment.get("author"), ("id",))} if "author" in comment else comment
            )
        return ZendeskComment.from_data(comment)
    except ValidationError as exc:
        where, message = first_error(exc, event["comment"], ZendeskComment, prefix="event.comment")
        raise InvalidPayload(message, field=where) from exc


def _from_trigger(
    body: ZendeskTriggerBody, signed_body: bytes, headers: Mapping[str, str], received_at: datetime
) -> TicketEvent:
    # Zendesk signs the timestamp and the body only: the event id and the dedupe key come from the body,
    # never from a header (X-Zendesk-Account-Id, -Webhook-Id, -Webhook-Invocation-Id can be anything).
    if body.event == "ticket_created":
        event_id = f"{body.ticket_id}:created"  # a ticket is created once, however often the trigger fires
    else:
        digest = hashlib.sha256(signed_body).hexdigest()[:BODY_HASH_CHARS]
        event_id = f"{body.ticket_id}:updated:{digest}"
    fields: dict[str, FieldValue] = {"via_channel": _via_channel(body.via), "brand": body.brand}
    if body.tags is not None:
        fields["tags"] = body.tags.lower().split()
    return TicketEvent(
        source="zendesk",
        account_id=_account_header(headers),
        ticket_id=body.ticket_id,
        event_type=_TRIGGER_EVENTS[body.event],
        vendor_event_type=f"{TRIGGER_SOURCE}:{body.event}",
        event_id=event_id,
        occurred_at=_parse_time(body.created_at if body.event == "ticket_created" else None, received_at),
        received_at=received_at,
        dedupe_key=f"zendesk:trigger:{event_id}",
        fields={k: v for k, v in fields.items() if v is not None and v != ""},  # [] tags: known, none
        delivery=_delivery(headers),
    )


def _account_header(headers: Mapping[str, str]) -> str:
    """Informational only (unsigned): the X-Zendesk-Account-Id header when it is an id, else "unknown"."""
    value = headers.get("x-zendesk-account-id") or ""
    return value if _DIGITS.fullmatch(value) else "unknown"


def _canonical_bytes(body: dict[str, Any]) -> bytes:
    """Stand-in for the raw bytes when a caller has only the parsed body (tests, contract checks)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _via_channel(via: str | None) -> str | None:
    """Trigger placeholders render "Mail" / "Web form"; event subscriptions say "email" / "web_form"."""
    if not via:
        return None
    normalised = via.strip().lower().replace(" ", "_")
    return {"mail": "email"}.get(normalised, normalised)


def _detail_fields(detail: ZendeskTicketDetail, extra: dict[str, Any]) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {}
    for name in _DETAIL_FIELDS:
        value = extra.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            fields[name] = str(value).lower() if name in ("status", "priority", "type") else str(value)
    fields["tags"] = list(detail.tags)
    if detail.via and isinstance(detail.via.get("channel"), str):
        fields["via_channel"] = detail.via["channel"].lower()
    return fields


def _delivery(headers: Mapping[str, str]) -> dict[str, str]:
    """Unsigned, informational delivery headers: kept when they look like ids, dropped otherwise."""
    names = {"x-zendesk-webhook-id": "webhook_id", "x-zendesk-webhook-invocation-id": "invocation_id"}
    return {key: headers[h] for h, key in names.items() if _HEADER_ID.fullmatch(headers.get(h) or "")}


def _bounded(text: str | None, limit: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= limit:
        return text, False
    return text[:limit], True


def _parse_time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return default
    return parsed if parsed.tzinfo else default
