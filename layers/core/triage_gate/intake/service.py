"""The intake use case: from one verified webhook request to queued TicketEvents.

Order matters: size (cheap) → signature on the raw bytes → content type → JSON (depth-limited) →
vendor schema → the exact queue message is built and checked → dedupe claim → enqueue → confirm.
Everything that can refuse an event refuses it before its key is claimed. After the claim, any failure
gives the claims back before it propagates (the caller answers 503 + Retry-After), so an event is either
on TriageQueue or still the vendor's to redeliver.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from triage_gate.config import IngestSettings
from triage_gate.errors import (
    ConfigurationError,
    DedupeStoreUnavailable,
    InvalidPayload,
    MalformedJson,
    PayloadTooLarge,
    QueueUnavailable,
    UnsupportedMediaType,
)
from triage_gate.http import WebhookRequest
from triage_gate.intake import signatures
from triage_gate.intake.hubspot import parse_hubspot
from triage_gate.intake.outcomes import EventOutcome, Ignored, IntakeResult, Invalid, Parsed, Status
from triage_gate.intake.queueable import queue_problem
from triage_gate.intake.zendesk import parse_zendesk
from triage_gate.messages import TicketEvent
from triage_gate.ports import DedupeStore, EventQueue, SecretsProvider

Clock = Callable[[], datetime]
# Real webhook bodies nest a handful of levels; deeper JSON is refused before any model looks at it.
MAX_JSON_DEPTH = 64


def utc_now() -> datetime:
    return datetime.now(UTC)


class IntakeService:
    def __init__(
        self,
        settings: IngestSettings,
        secrets: SecretsProvider,
        dedupe: DedupeStore,
        queue: EventQueue,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._secrets = secrets
        self._dedupe = dedupe
        self._queue = queue
        self._clock = clock

    def handle_zendesk(self, request: WebhookRequest) -> IntakeResult:
        now = self._clock()
        self._check_size(request)
        keys = self._secrets.get().signing_keys("ZENDESK_WEBHOOK_SECRET", "ZENDESK_WEBHOOK_SECRET_PREVIOUS")
        signatures.verify_zendesk(
            request.headers, request.body, keys, now=now,
            max_age_seconds=self._settings.zendesk_signature_max_age_seconds,
        )  # fmt: skip
        body = self._json(request)
        parsed = parse_zendesk(
            body,
            headers=request.headers,
            received_at=now,
            handled_types=self._settings.zendesk_event_types,
            max_text_chars=self._settings.max_text_chars,
            raw_body=request.body,
        )
        return self._accept("zendesk", [parsed], [("", body)], now)

    def handle_hubspot(self, request: WebhookRequest) -> IntakeResult:
        now = self._clock()
        self._check_size(request)
        keys = self._secrets.get().signing_keys("HUBSPOT_CLIENT_SECRET", "HUBSPOT_CLIENT_SECRET_PREVIOUS")
        signatures.verify_hubspot_v3(
            request.headers, request.body, keys, method=request.method, uri=self.hubspot_uri(request),
            now=now, max_age_seconds=self._settings.hubspot_signature_max_age_seconds,
        )  # fmt: skip
        body = self._json(request)
        parsed = parse_hubspot(body, received_at=now, handled_types=self._settings.hubspot_event_types)
        return self._accept("hubspot", parsed, [(f"[{i}]", item) for i, item in enumerate(body)], now)

    def hubspot_uri(self, request: WebhookRequest) -> str:
        """The URI HubSpot signed: the configured one, else API Gateway's own name for the request.

        Never built from Host or X-Forwarded-* headers: the caller chooses those.
        """
        if self._settings.hubspot_webhook_url:
            return self._settings.hubspot_webhook_url
        if self._settings.public_base_url:
            query = f"?{request.query}" if request.query else ""
            return self._settings.public_base_url.rstrip("/") + request.path + query
        if not request.url:
            raise ConfigurationError(
                "the request carries no requestContext.domainName to rebuild the URL HubSpot signed; "
                "set HUBSPOT_WEBHOOK_URL"
            )
        return request.url

    def _check_size(self, request: WebhookRequest) -> None:
        limit = self._settings.max_body_bytes
        if len(request.body) > limit:
            raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {limit}")

    @staticmethod
    def _json(request: WebhookRequest) -> Any:
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(f"content-type must be application/json, got {content_type or 'none'!r}")
        try:
            body = json.loads(request.body)
        except UnicodeDecodeError as exc:
            raise MalformedJson("body is not UTF-8 text") from exc
        except RecursionError as exc:
            raise MalformedJson(f"body nests JSON deeper than {MAX_JSON_DEPTH} levels") from exc
        except json.JSONDecodeError as exc:
            raise MalformedJson(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        except ValueError as exc:
            # json.loads turns digits into int(), which refuses more than sys.get_int_max_str_digits().
            if "integer string conversion" in str(exc):
                limit = sys.get_int_max_str_digits()
                raise MalformedJson(f"body holds an integer longer than {limit} digits") from exc
            raise MalformedJson(f"body is not valid JSON: {exc}") from exc
        if _nesting_exceeds(body, MAX_JSON_DEPTH):
            raise MalformedJson(f"body nests JSON deeper than {MAX_JSON_DEPTH} levels")
        return body

    def _accept(
        self, source: str, parsed: Sequence[Parsed], vendor_items: Sequence[tuple[str, Any]], now: datetime
    ) -> IntakeResult:
        """Check, claim, queue. ``vendor_items`` are (field prefix, parsed JSON) per item of ``parsed``."""
        parsed = [_queueable(i, item, *vendor_items[i]) for i, item in enumerate(parsed)]
        invalid = [p for p in parsed if isinstance(p, Invalid)]
        if len(invalid) == len(parsed):
            # Nothing usable (a single Zendesk event, or a batch of bad ones): a 400 naming the field.
            raise InvalidPayload(invalid[0].message, field=invalid[0].field)
        result = IntakeResult(source)
        events: dict[str, TicketEvent] = {}
        by_index: dict[int, TicketEvent] = {}
        for index, item in enumerate(parsed):
            if isinstance(item, Ignored):
                result.outcomes.append(EventOutcome(index, "ignored", item.reason, None, item.correlation_id))
            elif isinstance(item, Invalid):
                result.outcomes.append(EventOutcome(index, "rejected", item.message))
            elif item.dedupe_key in events:
                result.outcomes.append(
                    EventOutcome(index, "duplicate", "repeated in batch", item.dedupe_key, item.correlation_id)
                )
            else:
                events[item.dedupe_key] = item
                by_index[index] = item
        claimed, bypassed = self._claim(list(events), now)
        result.dedupe_bypassed = bypassed
        self._enqueue([events[k] for k in events if k in claimed], claimed=set() if bypassed else claimed)
        for index, event in by_index.items():
            status: Status = "accepted" if event.dedupe_key in claimed else "duplicate"
            result.outcomes.append(EventOutcome(index, status, None, event.dedupe_key, event.correlation_id))
        result.outcomes.sort(key=lambda o: o.index)
        return result

    def _claim(self, keys: list[str], now: datetime) -> tuple[set[str], bool]:
        """(claimed keys, whether the dedupe store was bypassed)."""
        if not keys:
            return set(), False
        try:
            return self._dedupe.claim(keys, now), False
        except DedupeStoreUnavailable:
            # Fail open: the triage worker is idempotent per dedupe key, so a duplicate costs little;
            # refusing the webhook would cost the event.
            return set(keys), True

    def _enqueue(self, events: list[TicketEvent], *, claimed: set[str]) -> None:
        """Queue the claimed events and confirm their claims.

        Whatever goes wrong on the way (a queue outage, or any exception at all), the claims not yet
        confirmed are given back before the error propagates, so the vendor's redelivery is taken.
        """
        unsettled = set(claimed)
        try:
            if not events:
                return
            failed = set(self._queue.send(events))
            queued = [e.dedupe_key for e in events if e.dedupe_key not in failed]
            if queued and unsettled:
                self._dedupe.confirm([k for k in queued if k in unsettled], self._clock())
                unsettled.difference_update(queued)
            if failed:
                raise QueueUnavailable(f"{len(failed)} of {len(events)} events could not be queued; retry later")
        finally:
            if unsettled:
                self._dedupe.release(sorted(unsettled))


def _queueable(index: int, item: Parsed, prefix: str, vendor_item: Any) -> Parsed:
    """The event itself, or Invalid when its queue message cannot be built or is too large for SQS."""
    if not isinstance(item, TicketEvent):
        return item
    problem = queue_problem(item, vendor_item, prefix)
    if problem is None:
        return item
    field, message = problem
    return Invalid(index, field, message)


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than ``limit`` levels deep. Iterative: no recursion to exhaust."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
