"""Only taxonomy labels can be applied from Slack: a "correct" naming an unknown task or a label outside the
task's taxonomy is refused by ReviewWorker.complete (the claim reopens, the reviewer gets an ephemeral
notice), driven by this package's Review harness: the real SlackWebClient against FakeSlack, an in-memory ledger."""

from __future__ import annotations

import pytest

from tests.integration.review.conftest import PROPOSED, REVIEW
from triage_gate.review.service import unknown_label


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        ({"category": "free_money"}, "category=free_money"),
        ({"category": "refund", "priority": "whenever"}, "priority=whenever"),
        ({"sentiment": "angry"}, "sentiment=angry"),
        ({"category": "Refund"}, "category=Refund"),  # labels are exact
    ],
)
def test_a_correction_outside_the_taxonomy_is_refused_and_the_case_reopens(review, record, slack, labels, named):
    review.post(record)

    assert review.click("correct", record, user="UALICE", labels=labels, reason="wrong_category") == "claimed"
    assert review.work() == ["rejected_label"]

    assert review.applied() == []  # nothing reached the write-back path
    stored = review.review(record)
    assert stored["state"] == "pending"  # the claim was released ...
    assert "verdict" not in stored  # ... and nothing about the bad label was recorded
    assert "corrected" not in stored
    assert review.examples.recent(record.workflow) == {}  # not a labelled example either
    [notice] = slack.ephemerals(REVIEW)
    assert notice["to_user"] == "UALICE"
    assert named in notice["text"]
    assert "not a label" in notice["text"]
    assert slack.updates == 0  # the message keeps its buttons


def test_after_a_refused_label_the_reviewer_can_correct_with_a_real_one(review, record):
    review.post(record)
    review.click("correct", record, labels={"category": "free_money"}, reason="wrong_category")
    review.work()

    assert review.click("correct", record, labels={"category": "refund"}, reason="wrong_category") == "claimed"
    assert review.work() == ["correct"]

    [applied] = review.applied()
    assert applied.labels == {**PROPOSED, "category": "refund"}
    assert review.review(record)["state"] == "resolved"


def test_approve_and_escalate_carry_no_labels_and_are_not_affected(review, record):
    review.post(record)

    review.click("approve", record)

    assert review.work() == ["approve"]


def test_unknown_label_names_the_first_bad_pair(policy):
    workflow = policy.workflows["zendesk-support"]

    assert unknown_label(workflow, {}) is None
    assert unknown_label(workflow, {"category": "refund", "priority": "high"}) is None
    assert unknown_label(workflow, {"category": "refund", "priority": "<!channel>"}) == "priority=<!channel>"


def test_the_notice_naming_a_hostile_label_is_escaped(review, record, slack):
    review.post(record)
    review.click("correct", record, labels={"category": "<!channel>"}, reason="other")

    review.work()

    [notice] = slack.ephemerals(REVIEW)
    assert "category=&lt;!channel&gt;" in notice["text"]
    assert "<!channel>" not in notice["text"]
