"""IntakeService with in-memory fakes: what gets queued, deduplicated, rejected, given back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import (
    HUBSPOT_URL,
    event_with_body,
    load_event,
    make_secrets,
    make_service,
    make_settings,
    sign_hubspot,
    sign_zendesk,
)
from triage_gate.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedJson,
    PayloadTooLarge,
    QueueUnavailable,
    StaleTimestamp,
    UnsupportedMediaType,
)
from triage_gate.http import WebhookRequest

CREATED = "ingest__zendesk_ticket_created.json"
BATCH = "ingest__hubspot_batch.json"
CREATED_KEY = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
HS_CREATION_KEY = "hubspot:48213377:2210481:4120087731:19800231:1795770840000"
HS_CHANGE_KEY = "hubspot:48213377:2210482:4120087995:19800231:1795770846000"
APIGW_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/hubspot"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _zendesk(clock: Clock, name: str = CREATED, body: Any = None, **headers: str) -> WebhookRequest:
    event = load_event(name) if body is None else event_with_body(name, body)
    sign_zendesk(event, now=clock.now)
    event["headers"].update(headers)
    return WebhookRequest.from_apigw_v2(event)


def _hubspot(clock: Clock, body: Any = None, url: str = HUBSPOT_URL) -> WebhookRequest:
    event = load_event(BATCH) if body is None else event_with_body(BATCH, body)
    return WebhookRequest.from_apigw_v2(sign_hubspot(event, url=url, now=clock.now))


def _hubspot_items() -> list[dict[str, Any]]:
    return json.loads(load_event(BATCH)["body"])


def _statuses(result: Any) -> list[str]:
    return [o.status for o in result.outcomes]


# --- accepting and deduplicating -----------------------------------------------------------------


def test_accepted_zendesk_event_lands_on_queue(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["accepted"]
    assert [m.dedupe_key for m in queue.messages] == [CREATED_KEY]


def test_redelivery_is_duplicate_and_not_requeued(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    service.handle_zendesk(_zendesk(clock))
    clock.advance(60)

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["duplicate"]
    assert len(queue.messages) == 1


def test_ignored_event_is_not_queued(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)

    result = service.handle_zendesk(_zendesk(clock, "ingest__zendesk_user_created.json"))

    assert _statuses(result) == ["ignored"]
    assert queue.messages == []


def test_hubspot_batch_queues_only_handled_ticket_events(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)

    result = service.handle_hubspot(_hubspot(clock))

    assert _statuses(result) == ["accepted", "accepted", "ignored", "ignored"]
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY, HS_CHANGE_KEY]


def test_duplicate_within_same_hubspot_batch_is_queued_once(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    creation = _hubspot_items()[0]

    result = service.handle_hubspot(_hubspot(clock, [creation, creation]))

    assert _statuses(result) == ["accepted", "duplicate"]
    assert len(queue.messages) == 1


def test_invalid_event_in_batch_is_rejected_while_others_are_queued(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    creation, change = _hubspot_items()[:2]
    del change["objectId"]

    result = service.handle_hubspot(_hubspot(clock, [creation, change]))

    assert _statuses(result) == ["accepted", "rejected"]
    assert len(queue.messages) == 1


# --- rejection order -----------------------------------------------------------------------------


def test_oversized_body_is_rejected_before_signature_check(clock: Clock) -> None:
    service, _, _ = make_service(make_settings(max_body_bytes=1024), clock=clock)
    event = event_with_body(CREATED, " " * 1025)  # placeholder signature: would be invalid

    with pytest.raises(PayloadTooLarge):
        service.handle_zendesk(WebhookRequest.from_apigw_v2(event))


def test_body_at_size_limit_is_not_too_large(clock: Clock) -> None:
    service, _, _ = make_service(make_settings(max_body_bytes=1024), clock=clock)
    name = "ingest__zendesk_user_created.json"
    body = json.dumps(json.loads(load_event(name)["body"])).ljust(1024)

    result = service.handle_zendesk(_zendesk(clock, name, body=body))

    assert _statuses(result) == ["ignored"]


def test_unsigned_request_is_rejected_before_content_type_check(clock: Clock) -> None:
    service, _, _ = make_service(clock=clock)
    event = load_event(CREATED)
    event["headers"]["content-type"] = "text/plain"

    with pytest.raises(InvalidSignature):
        service.handle_zendesk(WebhookRequest.from_apigw_v2(event))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_unsupported_media_type(clock: Clock, content_type: str) -> None:
    service, _, _ = make_service(clock=clock)

    with pytest.raises(UnsupportedMediaType):
        service.handle_zendesk(_zendesk(clock, **{"content-type": content_type}))


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_variants_are_accepted(clock: Clock, content_type: str) -> None:
    service, _, _ = make_service(clock=clock)

    result = service.handle_zendesk(_zendesk(clock, **{"content-type": content_type}))

    assert _statuses(result) == ["accepted"]


@pytest.mark.parametrize("body", ['{"type": ', "not json", "{'single': 'quotes'}"])
def test_malformed_json_is_rejected(clock: Clock, body: str) -> None:
    service, _, _ = make_service(clock=clock)

    with pytest.raises(MalformedJson):
        service.handle_zendesk(_zendesk(clock, body=body))


def test_stale_signature_beyond_configured_max_age_is_rejected(clock: Clock) -> None:
    service, _, _ = make_service(make_settings(zendesk_signature_max_age_seconds=60), clock=clock)
    request = _zendesk(clock)
    clock.advance(61)

    with pytest.raises(StaleTimestamp):
        service.handle_zendesk(request)


def test_hubspot_request_signed_with_wrong_secret_is_rejected(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    event = sign_hubspot(load_event(BATCH), secret="wrong", now=clock.now)

    with pytest.raises(InvalidSignature):
        service.handle_hubspot(WebhookRequest.from_apigw_v2(event))
    assert queue.messages == []


# --- queue and dedupe failures -------------------------------------------------------------------


def test_queue_failure_raises_queue_unavailable(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    queue.failing = {CREATED_KEY}

    with pytest.raises(QueueUnavailable):
        service.handle_zendesk(_zendesk(clock))
    assert queue.messages == []


def test_queue_failure_releases_claim_so_redelivery_is_accepted(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    queue.failing = {CREATED_KEY}
    with pytest.raises(QueueUnavailable):
        service.handle_zendesk(_zendesk(clock))
    queue.failing = set()

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["accepted"]
    assert [m.dedupe_key for m in queue.messages] == [CREATED_KEY]


def test_partial_batch_failure_redelivery_queues_only_the_failed_events(clock: Clock) -> None:
    service, _, queue = make_service(clock=clock)
    queue.failing = {HS_CHANGE_KEY}
    with pytest.raises(QueueUnavailable):
        service.handle_hubspot(_hubspot(clock))
    queue.failing = set()

    result = service.handle_hubspot(_hubspot(clock))

    assert _statuses(result) == ["duplicate", "accepted", "ignored", "ignored"]
    assert [m.dedupe_key for m in queue.messages] == [HS_CREATION_KEY, HS_CHANGE_KEY]


def test_dedupe_store_unavailable_still_queues_and_flags_bypass(clock: Clock) -> None:
    service, dedupe, queue = make_service(clock=clock)
    dedupe.unavailable = True

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["accepted"]
    assert result.dedupe_bypassed is True
    assert len(queue.messages) == 1


def test_dedupe_store_available_does_not_flag_bypass(clock: Clock) -> None:
    service, _, _ = make_service(clock=clock)

    assert service.handle_zendesk(_zendesk(clock)).dedupe_bypassed is False


def test_claim_held_within_lease_makes_delivery_a_duplicate(clock: Clock) -> None:
    service, dedupe, queue = make_service(clock=clock)
    dedupe.claim([CREATED_KEY], clock.now)  # another invocation claimed it and is still working

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["duplicate"]
    assert queue.messages == []


def test_lapsed_claim_is_reclaimed_by_redelivery(clock: Clock) -> None:
    service, dedupe, queue = make_service(clock=clock)
    dedupe.claim([CREATED_KEY], clock.now)  # claimed, never confirmed: that invocation died
    clock.advance(dedupe.lease + 1)

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["accepted"]
    assert len(queue.messages) == 1


def test_confirmed_event_stays_duplicate_after_lease(clock: Clock) -> None:
    service, dedupe, queue = make_service(clock=clock)
    service.handle_zendesk(_zendesk(clock))
    clock.advance(dedupe.lease + 1)

    result = service.handle_zendesk(_zendesk(clock))

    assert _statuses(result) == ["duplicate"]
    assert len(queue.messages) == 1


# --- secrets -------------------------------------------------------------------------------------


def test_missing_zendesk_secret_is_configuration_error(clock: Clock) -> None:
    service, _, _ = make_service(secrets=make_secrets(ZENDESK_WEBHOOK_SECRET=""), clock=clock)

    with pytest.raises(ConfigurationError, match="ZENDESK_WEBHOOK_SECRET"):
        service.handle_zendesk(_zendesk(clock))


def test_previous_zendesk_secret_is_accepted_during_rotation(clock: Clock) -> None:
    secrets = make_secrets(ZENDESK_WEBHOOK_SECRET="new-secret", ZENDESK_WEBHOOK_SECRET_PREVIOUS="old-secret")
    service, _, _ = make_service(secrets=secrets, clock=clock)
    event = sign_zendesk(load_event(CREATED), secret="old-secret", now=clock.now)

    result = service.handle_zendesk(WebhookRequest.from_apigw_v2(event))

    assert _statuses(result) == ["accepted"]


# --- HubSpot request URI -------------------------------------------------------------------------


def _with_query(query: str) -> WebhookRequest:
    event = load_event(BATCH)
    event["rawQueryString"] = query
    return WebhookRequest.from_apigw_v2(event)


def test_hubspot_uri_configured_webhook_url_wins() -> None:
    service, _, _ = make_service(make_settings(public_base_url="http://127.0.0.1:3000"))

    assert service.hubspot_uri(_with_query("a=1")) == HUBSPOT_URL


def test_hubspot_uri_falls_back_to_public_base_url_plus_path_and_query() -> None:
    settings = make_settings(hubspot_webhook_url=None, public_base_url="http://127.0.0.1:3000/")
    service, _, _ = make_service(settings)

    assert service.hubspot_uri(_with_query("a=1")) == "http://127.0.0.1:3000/webhooks/hubspot?a=1"


def test_hubspot_uri_falls_back_to_request_url() -> None:
    service, _, _ = make_service(make_settings(hubspot_webhook_url=None))

    assert service.hubspot_uri(_with_query("")) == APIGW_URL


def test_hubspot_signed_for_request_url_is_accepted_without_configured_url(clock: Clock) -> None:
    service, _, _ = make_service(make_settings(hubspot_webhook_url=None), clock=clock)

    result = service.handle_hubspot(_hubspot(clock, url=APIGW_URL))

    assert result.count("accepted") == 2


def test_hubspot_signed_for_gateway_url_is_rejected_when_another_url_is_configured(clock: Clock) -> None:
    service, _, _ = make_service(clock=clock)

    with pytest.raises(InvalidSignature):
        service.handle_hubspot(_hubspot(clock, url=APIGW_URL))
