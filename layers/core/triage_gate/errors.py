"""One error hierarchy for the whole package; ``triage_gate.http`` maps it to HTTP responses."""

from __future__ import annotations


class TriageGateError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigurationError(TriageGateError):
    """Settings or secrets are missing or invalid: an operator must act."""


class RequestRejected(TriageGateError):
    """The caller sent something we will not accept. Never retried by us; counted by ``reason``."""

    status = 400
    reason = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnsupportedMediaType(RequestRejected):
    status = 415
    reason = "unsupported_media_type"


class PayloadTooLarge(RequestRejected):
    status = 413
    reason = "payload_too_large"


class MissingSignature(RequestRejected):
    status = 401
    reason = "missing_signature"


class InvalidSignature(RequestRejected):
    status = 401
    reason = "invalid_signature"


class StaleTimestamp(RequestRejected):
    status = 401
    reason = "stale_timestamp"


class MalformedJson(RequestRejected):
    status = 400
    reason = "malformed_json"


class InvalidPayload(RequestRejected):
    status = 400
    reason = "invalid_payload"


class TemporarilyUnavailable(TriageGateError):
    """We could not take the request now; the vendor must redeliver (503 + Retry-After)."""

    reason = "unavailable"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason


class QueueUnavailable(TemporarilyUnavailable):
    reason = "queue_unavailable"


class SecretsUnavailable(TemporarilyUnavailable):
    reason = "secrets_unavailable"


class DedupeStoreUnavailable(TriageGateError):
    """The dedupe table could not be reached; intake fails open (downstream is idempotent)."""


class ContextUnavailable(TriageGateError):
    """The helpdesk/CRM API could not give us the ticket's context."""


class ModelUnavailable(TriageGateError):
    """The model call failed (rate limit, overload, 5xx, timeout, auth). Counts against the breaker."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class VendorError(TriageGateError):
    """A Zendesk/HubSpot/Slack call failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(VendorError):
    """429 whose Retry-After does not fit in the time left: put the message back for that long."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class TransientVendorError(VendorError):
    """5xx, timeouts, connection errors after bounded retries: the queue redelivers, then the DLQ."""


class PermanentVendorError(VendorError):
    """Other 4xx: retrying cannot help. Recorded on the decision and counted, not retried."""


class UpdateConflict(VendorError):
    """The ticket changed since the stamp the update was conditional on (Zendesk safe_update: 409)."""


class ModelRequestRejected(TriageGateError):
    """The model API refused our request (400, 404, 413, 422 and other 4xx that are not auth, rate limits,
    timeouts or conflicts): a bug in what we sent, not an outage. Never retried; never counted against the
    circuit breaker; the ticket goes to review with reason ``model_request_rejected``."""

    def __init__(self, message: str, *, status: int, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type  # the body's error.type, e.g. invalid_request_error

    @property
    def kind(self) -> str:
        return f"http_{self.status}"
