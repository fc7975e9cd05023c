"""Every Slack Web API call the code makes, driven once through the real slack_sdk WebClient against FakeSlack and
checked against Slack's own OpenAPI description (tests/contract/slack_spec.py).

The paths: a review message (ReviewWorker.post), a reviewer's click resolving it (chat.update), an incomplete
correction (the ephemeral notice), an escalation (a post to the escalation channel), a review past its SLA
(ReviewBacklog's repost), the weekly ROI digest, and the channel check of `triage setup slack` / `triage doctor`
(a channel the bot is in, one it is not in, one that does not exist). The methods they call must be exactly the
ones a scan of the code finds (tests/contract/slack_calls.py), which is what the manifest's scopes are checked
against: a call the code adds is reported here until a test drives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tests.contract.recorded_requests import ContractWatch
from tests.contract.slack_calls import called_methods, code_calls
from tests.contract.slack_spec import check_recorded, recorded_call
from tests.integration.review.conftest import BOT_TOKEN, REVIEW, Clock, Review, decided
from triage_gate.compose.roi_digest import RoiDigest, run
from triage_gate.policy import Policy
from triage_gate.triage.decision import DecisionRecord
from triage_local.sandboxes import FakeSlack
from triage_tools.setup.slack import check_membership, policy_channels, slack_client

NOT_JOINED, MISSING = "triage-not-joined", "triage-no-such-channel"


@dataclass
class Decisions:
    """What the digest reads from DecisionsTable: every record."""

    records: list[DecisionRecord]

    def scan(self) -> list[DecisionRecord]:
        return list(self.records)


def drive_every_review_path(review: Review, policy: Policy, clock: Clock) -> None:
    resolved, incomplete, escalated, overdue = (
        decided(policy, clock.now, event_id=f"slack-contract-{n}") for n in range(4)
    )
    for record in (resolved, incomplete, escalated, overdue):
        review.post(record)  # chat.postMessage
    assert review.click("approve", resolved) == "claimed"
    assert review.click("correct", incomplete, labels={"category": "refund"}) == "incomplete"
    assert review.click("escalate", escalated) == "claimed"
    assert sorted(review.work()) == ["approve", "escalate", "noticed"]  # chat.update, chat.postEphemeral, a post
    clock.advance(minutes=31)
    review.backlog.run()  # the overdue ones are reposted
    digest = RoiDigest(policy, Decisions([resolved]), review.slack_client)  # type: ignore[arg-type]
    assert set(run(digest, now=datetime.now(UTC))["posted"]) == set(policy.workflows)


def drive_the_channel_check(slack: FakeSlack, policy: Policy) -> None:
    """What `triage setup slack` and `triage doctor` ask Slack about the policy's channels."""
    slack.add_channel(NOT_JOINED)
    slack.admin.remove_bot(NOT_JOINED)
    channels = {**policy_channels(policy), NOT_JOINED: ["a test"], MISSING: ["a test"]}
    bot, memberships = check_membership(slack_client(BOT_TOKEN, f"{slack.url}/api/"), channels)
    states = {m.channel: m.state for m in memberships}
    assert bot
    assert (states.pop(NOT_JOINED), states.pop(MISSING)) == ("not_member", "not_found")
    assert set(states.values()) == {"member"}


def test_every_slack_call_the_code_makes_conforms_to_slacks_spec(
    review: Review, policy: Policy, slack: FakeSlack, clock: Clock, vendor_contracts: ContractWatch
) -> None:
    drive_every_review_path(review, policy, clock)
    drive_the_channel_check(slack, policy)

    calls = [recorded_call(r) for r in slack.requests]
    assert all(not isinstance(c, str) for c in calls), calls
    exercised = {c.method for c in calls if not isinstance(c, str)}
    assert exercised == called_methods(code_calls())  # every call the code has, and nothing else
    assert [p for r in slack.requests for p in check_recorded(r)] == []
    assert vendor_contracts.violations() == []
    assert vendor_contracts.checked >= len(slack.requests) >= 10
    assert slack.updates >= 1
    assert len(slack.ephemerals(REVIEW)) == 1
    assert slack.posts >= 4 + 1 + 2  # the reviews, the escalation, the digests
