"""The ack path (ReviewDesk): what a click claims, enqueues, or only notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.unit.review.conftest import CHANNEL, CREATED, DECISION_ID, TS, WORKFLOW, click, record
from triage_gate.errors import QueueUnavailable
from triage_gate.messages import ReviewJob
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.service import ReviewDesk
from triage_tools.memory import InMemoryDecisionStore, RecordingQueue


# ---------------------------------------------------------------- the ack path (ReviewDesk)
def _desk(state: str = "pending") -> tuple[ReviewDesk, InMemoryDecisionStore, RecordingQueue]:
    ledger, jobs = InMemoryDecisionStore(), RecordingQueue()
    ledger.create(record())
    ledger.review_posted(DECISION_ID, CHANNEL, TS, CREATED.isoformat(), WORKFLOW)
    ledger.records[DECISION_ID].review["state"] = state  # type: ignore[index]
    return ReviewDesk(ledger, jobs, clock=lambda: CREATED + timedelta(minutes=3)), ledger, jobs


def _act(desk: ReviewDesk, body: bytes) -> str:
    action = parse_interaction(body)
    assert action is not None
    return desk.act(action)


def test_desk_claims_the_case_and_enqueues_the_outcome() -> None:
    desk, ledger, jobs = _desk()

    result = _act(desk, click("correct", labels={"category": "refund"}, reason="wrong_category"))

    assert result == "claimed"
    assert ledger.records[DECISION_ID].review["state"] == "claimed"  # type: ignore[index]
    [job] = [ReviewJob.from_json(b) for b in jobs.bodies]
    assert (job.kind, job.verdict, job.user_id, job.force) == ("review_outcome", "correct", "UALICE", False)
    assert (job.labels, job.reason, job.channel, job.ts) == ({"category": "refund"}, "wrong_category", CHANNEL, TS)


def test_desk_approve_anyway_is_an_approve_with_force() -> None:
    desk, _, jobs = _desk()

    assert _act(desk, click("approve_anyway", labels={"category": "refund"}, reason="other")) == "claimed"

    [job] = [ReviewJob.from_json(b) for b in jobs.bodies]
    assert (job.verdict, job.force, job.labels, job.reason) == ("approve", True, {}, None)


@pytest.mark.parametrize(
    "selection",
    [{}, {"labels": {"category": "refund"}}, {"reason": "wrong_category"},
     {"labels": {"category": "refund"}, "reason": "because"}],
    ids=["nothing", "label-only", "reason-only", "unknown-reason"],
)  # fmt: skip
def test_desk_correct_without_label_and_known_reason_only_sends_a_notice(selection: dict[str, Any]) -> None:
    desk, ledger, jobs = _desk()

    assert _act(desk, click("correct", **selection)) == "incomplete"

    assert ledger.records[DECISION_ID].review["state"] == "pending"  # type: ignore[index]
    [job] = [ReviewJob.from_json(b) for b in jobs.bodies]
    assert job.kind == "notice"
    assert "reason" in (job.notice or "")


@pytest.mark.parametrize("state", ["claimed", "resolved"])
def test_desk_click_on_a_case_someone_already_took_says_already_resolved(state: str) -> None:
    desk, ledger, jobs = _desk(state)

    assert _act(desk, click("approve")) == "already_resolved"

    assert ledger.records[DECISION_ID].review["state"] == state  # type: ignore[index]
    [job] = [ReviewJob.from_json(b) for b in jobs.bodies]
    assert (job.kind, job.notice) == ("notice", "This case is already resolved.")


def test_desk_releases_the_claim_when_the_outcome_cannot_be_queued() -> None:
    desk, ledger, jobs = _desk()
    jobs.failing = True

    with pytest.raises(QueueUnavailable):
        _act(desk, click("approve"))

    assert ledger.records[DECISION_ID].review["state"] == "pending"  # type: ignore[index]
    jobs.failing = False
    assert _act(desk, click("approve")) == "claimed"
