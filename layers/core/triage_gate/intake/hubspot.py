"""HubSpot webhook batches: a JSON array of up to 100 subscription events."""

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from triage_gate.errors import InvalidPayload
from triage_gate.intake.outcomes import Ignored, Invalid, Parsed
from triage_gate.intake.payload_fields import DigitId, VendorId, first_error, ids_as_text
from triage_gate.messages import FieldValue, TicketEvent, utc_from_millis
from triage_gate.records import Record, ValidationError

MAX_BATCH = 100
_IDS = ("eventId", "subscriptionId", "portalId", "objectId", "appId")
_EVENT_TYPES = {"ticket.creation": "ticket.created", "ticket.propertyChange": "ticket.property_changed"}


class HubSpotEvent(Record, kw_only=True, forbid_unknown_fields=False):
    """One subscription event: what is read is checked; fields HubSpot adds are left alone."""

    eventId: VendorId
    subscriptionId: VendorId
    # Numeric ids: objectId ends up in CRM API URLs. Anything else rejects the event (alone).
    portalId: DigitId
    objectId: DigitId
    # Upper bound: the last millisecond of year 9999 (datetime's range).
    occurredAt: Annotated[int, Meta(ge=0, le=253_402_300_799_999)]
    # Real deliveries say subscriptionType; one copy of the docs calls it eventType. Accept both.
    subscriptionType: str | None = None
    eventType: str | None = None
    attemptNumber: Annotated[int, Meta(ge=0)] = 0
    appId: VendorId | None = None
    propertyName: str | None = None
    propertyValue: str | None = None
    changeSource: str | None = None

    def __post_init__(self) -> None:
        if not (self.subscriptionType or self.eventType):
            raise ValueError("subscriptionType (or eventType) is required")

    @property
    def kind(self) -> str:
        return self.subscriptionType or self.eventType or ""

    @property
    def dedupe_key(self) -> str:
        # HubSpot: eventId alone "is not guaranteed to be unique".
        return f"hubspot:{self.portalId}:{self.subscriptionId}:{self.eventId}:{self.objectId}:{self.occurredAt}"


def parse_hubspot(body: Any, *, received_at: datetime, handled_types: frozenset[str]) -> list[Parsed]:
    if not isinstance(body, list):
        raise InvalidPayload("$: expected a JSON array of HubSpot events", field="$")
    if not body:
        raise InvalidPayload("$: the batch holds no events", field="$")
    if len(body) > MAX_BATCH:
        raise InvalidPayload(f"$: {len(body)} events in one batch; HubSpot sends at most {MAX_BATCH}", field="$")
    parsed = [_parse_one(i, item, received_at, handled_types) for i, item in enumerate(body)]
    invalid = [p for p in parsed if isinstance(p, Invalid)]
    if len(invalid) == len(parsed):
        # Nothing usable: say what is wrong with the first event rather than acknowledging nothing.
        raise InvalidPayload(invalid[0].message, field=invalid[0].field)
    return parsed


def _parse_one(index: int, item: Any, received_at: datetime, handled_types: frozenset[str]) -> Parsed:
    prefix = f"[{index}]"
    if not isinstance(item, dict):
        return Invalid(index, prefix, f"{prefix}: expected a JSON object")
    try:
        event = HubSpotEvent.from_data(ids_as_text(item, _IDS))
    except ValidationError as exc:
        field, message = first_error(exc, item, HubSpotEvent, prefix=prefix)
        return Invalid(index, field, message)
    correlation_id = f"hubspot:{event.objectId}"
    if not event.kind.startswith("ticket."):
        return Ignored("not_a_ticket_event", event.kind, correlation_id)
    if event.kind not in handled_types:
        return Ignored("event_type_not_handled", event.kind, correlation_id)
    return _to_ticket_event(event, received_at)


def _to_ticket_event(event: HubSpotEvent, received_at: datetime) -> TicketEvent:
    fields: dict[str, FieldValue] = {}
    changes: dict[str, Any] = {}
    if event.propertyName:
        fields[event.propertyName] = event.propertyValue
        changes = {"property": event.propertyName, "value": event.propertyValue}
    if event.changeSource:
        fields["change_source"] = event.changeSource
    delivery = {"subscription_id": event.subscriptionId, "attempt": str(event.attemptNumber)}
    if event.appId:
        delivery["app_id"] = event.appId
    return TicketEvent(
        source="hubspot",
        account_id=event.portalId,
        ticket_id=event.objectId,
        event_type=_EVENT_TYPES.get(event.kind, event.kind),
        vendor_event_type=event.kind,
        event_id=event.eventId,
        occurred_at=utc_from_millis(event.occurredAt),
        received_at=received_at,
        dedupe_key=event.dedupe_key,
        fields=fields,
        changes=changes,
        delivery=delivery,
    )
