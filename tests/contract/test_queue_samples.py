"""Every queue contract has a sample under events/, and every sample parses with its queue's model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import EVENTS_DIR
from triage_gate.messages import DecisionMessage, ReviewJob, TicketEvent, parse_exception_message

PARSERS = {
    "triage": TicketEvent.from_json,
    "writeback": DecisionMessage.from_json,
    "review_notify": parse_exception_message,
}
SAMPLES = sorted(p for p in EVENTS_DIR.glob("*.json") if p.name.split("__")[0] in PARSERS)


def _body(path: Path) -> str:
    [record] = json.loads(path.read_text(encoding="utf-8"))["Records"]
    assert record["eventSource"] == "aws:sqs"
    return str(record["body"])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_queue_sample_parses_with_its_queues_contract(path: Path) -> None:
    message = PARSERS[path.name.split("__")[0]](_body(path))

    assert message is not None


def test_every_queue_contract_has_a_sample() -> None:
    kinds = {type(PARSERS[p.name.split("__")[0]](_body(p))).__name__ for p in SAMPLES}
    assert kinds == {"TicketEvent", "DecisionMessage", "ReviewJob"}


def test_exception_queue_messages_are_told_apart_by_kind() -> None:
    case = parse_exception_message(_body(EVENTS_DIR / "review_notify__review_case.json"))
    click = parse_exception_message(_body(EVENTS_DIR / "review_notify__review_outcome.json"))
    notice = parse_exception_message(_body(EVENTS_DIR / "review_notify__notice.json"))

    assert isinstance(case, DecisionMessage)
    assert (case.kind, case.action) == ("decision", "review")
    assert isinstance(click, ReviewJob)
    assert (click.kind, click.verdict) == ("review_outcome", "correct")
    assert isinstance(notice, ReviewJob)
    assert notice.kind == "notice"


def test_a_review_case_written_before_kind_existed_still_parses() -> None:
    body = _body(EVENTS_DIR / "review_notify__review_case_before_kind.json")
    assert '"kind"' not in body

    message = parse_exception_message(body)

    assert isinstance(message, DecisionMessage)
    assert message.snapshot is None


def test_a_message_of_no_known_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="missing required field `user_id`"):
        parse_exception_message('{"kind": "notice", "decision_id": "x"}')


def test_the_apply_sample_carries_the_tickets_language_and_signals() -> None:
    message = DecisionMessage.from_json(_body(EVENTS_DIR / "writeback__apply_decision.json"))

    assert message.language == "de"
    assert message.signals is not None
    assert (message.signals.sentiment, message.signals.urgent) == ("negative", True)


def test_a_decision_body_from_before_language_and_signals_still_parses() -> None:
    body = json.loads(_body(EVENTS_DIR / "writeback__apply_decision.json"))
    del body["language"], body["signals"]

    message = DecisionMessage.from_json(json.dumps(body))

    assert (message.language, message.signals) == (None, None)


def test_a_signal_outside_the_contract_is_refused() -> None:
    body = json.loads(_body(EVENTS_DIR / "writeback__apply_decision.json"))
    body["signals"] = {"sentiment": "furious"}

    with pytest.raises(ValueError, match="sentiment"):
        DecisionMessage.from_json(json.dumps(body))
