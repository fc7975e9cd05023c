"""One outcome per case (double clicks, late clicks, redeliveries, races) and the stale-ticket check."""

from __future__ import annotations

import threading
from typing import Any

from tests.integration.review.conftest import PROPOSED, REVIEW, TICKET, elements, shown


# ---------------------------------------------------------------- one outcome per case
def test_double_click_by_the_same_reviewer_applies_once(review, record, slack):
    review.post(record)

    assert review.click("approve", record, user="UALICE") == "claimed"
    assert review.click("approve", record, user="UALICE") == "already_resolved"
    assert review.work() == ["approve", "noticed"]

    assert len(review.applied()) == 1
    [notice] = slack.ephemerals(REVIEW)
    assert (notice["to_user"], notice["text"]) == ("UALICE", "This case is already resolved.")
    assert slack.updates == 1


def test_a_click_after_the_case_was_resolved_says_already_resolved(review, record, slack):
    review.post(record)
    review.click("approve", record, user="UALICE")
    review.work()

    late = review.click("correct", record, user="UBOB", labels={"category": "bug"}, reason="other")
    assert late == "already_resolved"
    assert review.work() == ["noticed"]

    assert len(review.applied()) == 1
    assert review.review(record)["verdict"] == "approve"
    assert [n["to_user"] for n in slack.ephemerals(REVIEW)] == ["UBOB"]


def test_a_redelivered_outcome_job_does_not_apply_twice(review, record, slack):
    review.post(record)
    review.click("approve", record)
    [job] = review.jobs.bodies

    review.work()
    review.jobs.bodies.append(job)  # SQS at-least-once
    assert review.work() == ["already_done"]

    assert len(review.applied()) == 1
    assert "approved" in shown(review.message(record))


def test_two_reviewers_at_once_produce_one_outcome(review, record):
    review.post(record)
    start = threading.Barrier(2)
    results: dict[str, str] = {}

    def reviewer(user: str, action_id: str, **selected: Any) -> None:
        start.wait()
        results[user] = review.click(action_id, record, user=user, **selected)

    threads = [
        threading.Thread(target=reviewer, args=("UALICE", "approve")),
        threading.Thread(target=reviewer, args=("UBOB", "correct"),
                         kwargs={"labels": {"category": "refund"}, "reason": "wrong_category"}),
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    review.work()

    assert sorted(results.values()) == ["already_resolved", "claimed"]
    winner = next(user for user, result in results.items() if result == "claimed")
    assert review.review(record)["reviewer"] == winner
    assert len(review.applied()) == 1


# ---------------------------------------------------------------- stale ticket
def test_stale_ticket_approve_is_not_applied_and_the_reviewer_is_warned(review, record, zendesk):
    review.post(record)
    zendesk.touch(TICKET, status="open")  # an agent edited the ticket after the decision

    assert review.click("approve", record) == "claimed"
    assert review.work() == ["stale"]

    assert review.applied() == []
    assert review.review(record)["state"] == "pending"
    message = review.message(record)
    assert message["updated"] is True
    assert ":warning: The ticket changed" in shown(message)
    assert [b["text"]["text"] for b in elements(message, "button")] == ["Approve anyway", "Correct anyway", "Escalate"]


def test_stale_ticket_approve_anyway_then_applies(review, record, zendesk):
    review.post(record)
    zendesk.touch(TICKET, status="open")
    review.click("approve", record)
    review.work()

    assert review.click("approve_anyway", record, user="UALICE") == "claimed"
    assert review.work() == ["approve"]

    [applied] = review.applied()
    assert applied.labels == PROPOSED
    assert review.review(record)["state"] == "resolved"
    assert "approved" in shown(review.message(record))


def test_unchanged_ticket_is_checked_and_applied_without_a_warning(review, record, zendesk):
    review.post(record)

    review.click("approve", record)
    assert review.work() == ["approve"]

    assert any(r.path.startswith(f"/api/v2/tickets/{TICKET}") for r in zendesk.requests)
    assert ":warning:" not in shown(review.message(record))
