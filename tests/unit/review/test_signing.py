"""Slack request signing: the documented v0 formula, Slack's published example, slack_sdk's verifier."""

from __future__ import annotations

import hashlib
import hmac

from slack_sdk.signature import SignatureVerifier

from tests.unit.review.conftest import CHANNEL, DECISION_ID, TS, form
from triage_gate.review.interactions import parse_interaction
from triage_gate.review.signing import block_actions_payload, signed_interaction, slack_signature


# ---------------------------------------------------------------- signing
def test_slack_signature_matches_the_documented_v0_formula() -> None:
    secret, timestamp, body = "s3cr3t-signing", "1764244800", b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    expected = "v0=" + hmac.new(secret.encode(), b"v0:1764244800:" + body, hashlib.sha256).hexdigest()

    assert slack_signature(secret, timestamp, body) == expected


def test_slack_signature_reproduces_slacks_published_example() -> None:
    # The worked example in Slack's "Verifying requests from Slack" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    signature = slack_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)

    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_signature_changes_when_one_byte_of_the_body_changes() -> None:
    assert slack_signature("k", "1", b"payload=a") != slack_signature("k", "1", b"payload=b")


def test_signed_interaction_is_accepted_by_slack_sdks_verifier() -> None:
    payload = block_actions_payload("approve", DECISION_ID, user_id="UALICE", channel=CHANNEL, ts=TS)
    now = 1_764_244_800.0

    body, headers = signed_interaction(payload, "s3cr3t-signing", now=now)

    verifier = SignatureVerifier("s3cr3t-signing", clock=_FixedClock(now))
    assert headers["X-Slack-Request-Timestamp"] == "1764244800"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("another-secret", clock=_FixedClock(now)).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert parse_interaction(body) == parse_interaction(form(payload))


class _FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now
