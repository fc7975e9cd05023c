"""Races through the real pipeline, with real concurrency: two Slack clicks on one case reach two warm
SlackActionsFunction workers at the same moment, and the case still gets one outcome and one write-back."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from tests.integration.between_events.conftest import SLACK_SECRET, ZD_SECRET, Stack, new_ticket
from triage_gate.review.signing import block_actions_payload, signed_interaction

REVIEW_CHANNEL = "#support-triage-review"
ALREADY_RESOLVED = "This case is already resolved."
CORRECTION = {"labels": {"category": "bug"}, "reason": "wrong_category"}


def _warm(stack: Stack, *functions: str) -> None:
    """Two warm workers each, as Lambda has after traffic: the clicks' timing holds no cold start."""
    for name in functions:
        stack.runner.functions[name].prewarm(2)
        assert stack.runner.functions[name].status()["started"] >= 2


def _clicks_at_once(stack: Stack, case: Any, clicks: list[tuple[str, str]]) -> list[tuple[requests.Response, float]]:
    """Each (user, action) signed as Slack would send it, all released at once; (answer, seconds) per click."""
    review = case.review or {}
    bodies = []
    for user, action in clicks:
        extra = CORRECTION if action == "correct" else {}
        payload = block_actions_payload(action, case.decision_id, user_id=user, user_name=user,
                                        channel=review.get("channel"), ts=review.get("ts"), **extra)  # fmt: skip
        bodies.append(signed_interaction(payload, SLACK_SECRET))
    start = threading.Barrier(len(bodies))
    answers: list[tuple[requests.Response, float]] = []

    def click(body: bytes, headers: dict[str, str]) -> None:
        start.wait()
        began = time.monotonic()
        response = requests.post(f"{stack.runner.base_url}/slack/interactions", data=body, headers=headers, timeout=10)
        answers.append((response, time.monotonic() - began))

    threads = [threading.Thread(target=click, args=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return answers


def _notices(stack: Stack) -> list[dict[str, Any]]:
    return [e for e in stack.sandboxes.slack.ephemerals(REVIEW_CHANNEL) if ALREADY_RESOLVED in e.get("text", "")]


@pytest.mark.parametrize(
    ("ticket", "clicks"),
    [
        (51040, [("U0ALICE", "approve"), ("U0ALICE", "approve")]),  # a double click
        (51041, [("U0ALICE", "approve"), ("U0BOB", "correct")]),  # two reviewers at the same moment
    ],
    ids=["double-click", "two-reviewers"],
)
def test_two_clicks_at_once_give_one_outcome_and_one_write_back(
    stack: Stack, zendesk: Any, ticket: int, clicks: list[tuple[str, str]]
) -> None:
    zendesk.connect(stack.zendesk_url, ZD_SECRET, mode="events")
    new_ticket(stack, ticket, "Breach in the admin console", "We think there was a breach in our admin console.")
    stack.settle()
    [case] = stack.decisions(ticket)
    assert case.action == "review"  # security is always reviewed
    _warm(stack, "SlackActionsFunction", "ReviewNotifyFunction", "WritebackFunction")
    notices_before = len(_notices(stack))

    answers = _clicks_at_once(stack, case, clicks)
    stack.settle()

    assert [response.status_code for response, _ in answers] == [200, 200]
    pids = {response.headers["X-Local-Worker-Pid"] for response, _ in answers}
    assert len(pids) == 2, "both clicks were served by one worker: they did not overlap"
    [decided] = stack.decisions(ticket)
    review = decided.review or {}
    assert review["state"] not in ("pending", "claimed"), review
    winner = review["reviewer"]
    assert winner in {user for user, _ in clicks}
    assert len(stack.ai_notes(ticket)) == 1  # one outcome applied, once
    [notice] = _notices(stack)[notices_before:]  # the other click was told the case is resolved
    losers = [user for user, _ in clicks]
    losers.remove(winner)
    assert notice["to_user"] == losers[0]
