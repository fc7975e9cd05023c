"""Partial batch failures for the SQS functions (triage_gate.compose.sqs.sqs_batch): what Powertools'
BatchProcessor did for us, kept exactly — failed records reported by id and logged with their reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from triage_gate.compose.sqs import SqsRecord, sqs_batch


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def _handler(seen: list[SqsRecord]) -> Any:
    def handle(record: SqsRecord) -> None:
        seen.append(record)
        if record.body.startswith("bad"):
            raise RuntimeError(f"cannot take {record.body}")

    return handle


def test_failed_records_are_reported_by_id_and_the_others_are_done(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[SqsRecord] = []
    caplog.set_level(logging.ERROR)

    response = sqs_batch(_event("ok-1", "bad-2", "ok-3"), Context(), _handler(seen))  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert seen == [SqsRecord("m-0", "ok-1", "r-0"), SqsRecord("m-1", "bad-2", "r-1"), SqsRecord("m-2", "ok-3", "r-2")]
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.__dict__["message_id"] == "m-1"
    assert logged.__dict__["error"] == "RuntimeError: cannot take bad-2"
    assert logged.exc_info is not None
    assert isinstance(logged.exc_info[1], RuntimeError)


def test_a_batch_that_fails_whole_is_reported_not_raised() -> None:
    response = sqs_batch(_event("bad-1", "bad-2"), Context(), _handler([]))  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}


def test_a_record_without_a_body_fails_alone() -> None:
    event = _event("ok-1", "ok-2")
    del event["Records"][1]["body"]

    response = sqs_batch(event, Context(), _handler([]))  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": "m-0"}])
def test_an_event_that_is_not_an_sqs_batch_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not an SQS batch event"):
        sqs_batch(event, Context(), _handler([]))  # type: ignore[arg-type]
