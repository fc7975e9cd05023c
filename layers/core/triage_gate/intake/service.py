"""The intake use case: from one verified webhook request to queued TicketEvents.

Order matters: size (cheap) → signature on the raw bytes → content type → JSON → vendor schema →
dedupe claim → enqueue → confirm. Claims are given back when enqueueing fails, and the caller answers
503 + Retry-After, so an event is either on TriageQueue or still the vendor's to redeliver.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from triage_gate.config import IngestSettings
from triage_gate.errors import (
    DedupeStoreUnavailable,
    MalformedJson,
    PayloadTooLarge,
    QueueUnavailable,
    UnsupportedMediaType,
)
from triage_gate.intake import signatures
from triage_gate.intake.http import WebhookRequest
from triage_gate.intake.hubspot import parse_hubspot
from triage_gate.intake.outcomes import EventOutcome, Ignored, IntakeResult, Invalid, Parsed, Status
from triage_gate.intake.zendesk import parse_zendesk
from triage_gate.messages import TicketEvent
from triage_gate.ports import DedupeStore, EventQueue, SecretsProvider

Clock = Callable[[], datetime]


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
        parsed = parse_zendesk(
            self._json(request),
            headers=request.headers,
            received_at=now,
            handled_types=self._settings.zendesk_event_types,
            max_text_chars=self._settings.max_text_chars,
        )
        return self._accept("zendesk", [parsed], now)

    def handle_hubspot(self, request: WebhookRequest) -> IntakeResult:
        now = self._clock()
        self._check_size(request)
        keys = self._secrets.get().signing_keys("HUBSPOT_CLIENT_SECRET", "HUBSPOT_CLIENT_SECRET_PREVIOUS")
        signatures.verify_hubspot_v3(
            request.headers, request.body, keys, method=request.method, uri=self.hubspot_uri(request),
            now=now, max_age_seconds=self._settings.hubspot_signature_max_age_seconds,
        )  # fmt: skip
        parsed = parse_hubspot(self._json(request), received_at=now, handled_types=self._settings.hubspot_event_types)
        return self._accept("hubspot", parsed, now)

    def hubspot_uri(self, request: WebhookRequest) -> str:
        """The URI HubSpot signed: the configured one, never just whatever path the gateway saw."""
        if self._settings.hubspot_webhook_url:
            return self._settings.hubspot_webhook_url
        if self._settings.public_base_url:
            query = f"?{request.query}" if request.query else ""
            return self._settings.public_base_url.rstrip("/") + request.path + query
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
            return json.loads(request.body)
        except UnicodeDecodeError as exc:
            raise MalformedJson("body is not UTF-8 text") from exc
        except RecursionError as exc:
            raise MalformedJson("body nests JSON too deeply") from exc
        except json.JSONDecodeError as exc:
            raise MalformedJson(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc

    def _accept(self, source: str, parsed: Sequence[Parsed], now: datetime) -> IntakeResult:
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
        self._enqueue([events[k] for k in events if k in claimed], track_claims=not bypassed)
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

    def _enqueue(self, events: list[TicketEvent], *, track_claims: bool) -> None:
        if not events:
            return
        failed = set(self._queue.send(events))
        queued = [e.dedupe_key for e in events if e.dedupe_key not in failed]
        if track_claims:
            if failed:
                self._dedupe.release(sorted(failed))
            if queued:
                self._dedupe.confirm(queued, self._clock())
        if failed:
            raise QueueUnavailable(f"{len(failed)} of {len(events)} events could not be queued; retry later")
