"""Slack request signatures: SlackRequestVerifier (the v0 HMAC over the raw body, our window, the previous secret
for rotation) refuses with exactly MissingSignature, StaleTimestamp or InvalidSignature, whatever the bytes, and
accepts exactly what slack_sdk's SignatureVerifier accepts within Slack's five minutes. No network."""

from __future__ import annotations

import string
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from triage_gate.errors import ConfigurationError, InvalidSignature, MissingSignature, StaleTimestamp
from triage_gate.review.signing import (
    SlackRequestVerifier,
    block_actions_payload,
    signed_interaction,
    slack_signature,
)

CURRENT, PREVIOUS = "slack-current-signing-secret", "slack-previous-signing-secret"
NOW = 1_764_244_800.0
TS = str(int(NOW))
WINDOW = 300
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


def verifier(secrets: list[str] | None = None, *, now: float = NOW, window: int = WINDOW) -> SlackRequestVerifier:
    return SlackRequestVerifier([CURRENT, PREVIOUS] if secrets is None else secrets, max_age_seconds=window,
                                clock=lambda: now)  # fmt: skip


def signed(secret: str = CURRENT, *, ts: str = TS, body: bytes = BODY) -> dict[str, str]:
    return {"x-slack-request-timestamp": ts, "x-slack-signature": slack_signature(secret, ts, body)}


# ---------------------------------------------------------------- accepted
def test_a_request_signed_with_the_current_secret_is_accepted() -> None:
    verifier().verify(signed(CURRENT), BODY)


def test_a_request_signed_with_the_previous_secret_is_accepted_during_rotation() -> None:
    verifier().verify(signed(PREVIOUS), BODY)


def test_with_only_the_current_secret_the_previous_one_is_refused() -> None:
    verifier([CURRENT]).verify(signed(CURRENT), BODY)
    with pytest.raises(InvalidSignature):
        verifier([CURRENT]).verify(signed(PREVIOUS), BODY)


def test_header_names_are_matched_in_any_case() -> None:
    body, headers = signed_interaction(block_actions_payload("approve", "d-1", user_id="UALICE"), CURRENT, now=NOW)

    assert "X-Slack-Signature" in headers
    verifier().verify(headers, body)


def test_slacks_published_example_is_accepted() -> None:
    """The worked example of Slack's "Verifying requests from Slack" guide, at its own timestamp."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {"X-Slack-Request-Timestamp": "1531420618",
               "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}  # fmt: skip

    SlackRequestVerifier(["8f742231b10e8888abcd99yyyzzz85a5"], max_age_seconds=300, clock=lambda: 1531420618.0).verify(
        headers, body
    )


# ---------------------------------------------------------------- refused: the signature
def test_a_request_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify(signed("someone-elses-secret"), BODY)


def test_a_request_whose_body_changed_after_signing_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify(signed(), BODY + b"&x=1")


def test_a_signature_for_another_timestamp_is_refused() -> None:
    headers = {"x-slack-request-timestamp": TS, "x-slack-signature": slack_signature(CURRENT, str(int(NOW) - 1), BODY)}

    with pytest.raises(InvalidSignature):
        verifier().verify(headers, BODY)


def test_a_body_that_is_not_utf8_is_refused_not_crashed_on() -> None:
    body = b"payload=\x80\xff\xfe"

    with pytest.raises(InvalidSignature):
        verifier().verify(signed(body=body), body)  # even signed over its raw bytes: Slack never sends such a body


@pytest.mark.parametrize("signature", ["v0=\u00e9\u00e9", "v0=" + "\u0661" * 64, "v0=\ud800", "v1=00", "garbage"])
def test_a_malformed_or_non_ascii_signature_is_refused_not_crashed_on(signature: str) -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify({"x-slack-request-timestamp": TS, "x-slack-signature": signature}, BODY)


def test_a_huge_body_is_only_checked() -> None:
    body = b"payload=" + b"A" * 5_000_000

    verifier().verify(signed(body=body), body)
    with pytest.raises(InvalidSignature):
        verifier().verify(signed(), body)


# ---------------------------------------------------------------- refused: the headers
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": TS},
        {"x-slack-request-timestamp": "", "x-slack-signature": "v0=00"},
        {"x-slack-request-timestamp": TS, "x-slack-signature": ""},
        {"x-slack-request-timestamp": None, "x-slack-signature": "v0=00"},
    ],
)
def test_a_request_without_both_headers_is_missing_its_signature(headers: Mapping[str, str]) -> None:
    with pytest.raises(MissingSignature):
        verifier().verify(headers, BODY)


@pytest.mark.parametrize(
    "timestamp", ["abc", "1764244800.5", "-1764244800", "+1764244800", " 1764244800", "1_764_244_800", "\u00b2",
                  "\u0661\u0667\u0666", "\uff11\uff17\uff16\uff14", "0x6928"],
)  # fmt: skip
def test_a_timestamp_that_is_not_ascii_digits_is_stale(timestamp: str) -> None:
    with pytest.raises(StaleTimestamp, match="not a unix timestamp"):
        verifier().verify({"x-slack-request-timestamp": timestamp, "x-slack-signature": "v0=00"}, BODY)


@pytest.mark.parametrize("offset", [-WINDOW, -1, 0, 1, WINDOW])
def test_a_timestamp_within_the_window_either_way_is_accepted(offset: int) -> None:
    ts = str(int(NOW) + offset)

    verifier().verify(signed(ts=ts), BODY)


@pytest.mark.parametrize("offset", [-WINDOW - 1, WINDOW + 1, -86_400, 86_400])
def test_a_timestamp_outside_the_window_either_way_is_stale_even_when_signed(offset: int) -> None:
    ts = str(int(NOW) + offset)

    with pytest.raises(StaleTimestamp, match=r"s (old|in the future); the window is 300s"):
        verifier().verify(signed(ts=ts), BODY)


@pytest.mark.parametrize(("now", "stale"), [(NOW + WINDOW + 0.001, True), (NOW - WINDOW - 0.001, True),
                                            (NOW + WINDOW, False), (NOW - WINDOW, False)])  # fmt: skip
def test_the_window_edge_is_exact_with_a_fractional_clock(now: float, stale: bool) -> None:
    if stale:
        with pytest.raises(StaleTimestamp):
            verifier(now=now).verify(signed(), BODY)
    else:
        verifier(now=now).verify(signed(), BODY)


def test_the_window_is_ours_not_slack_sdks_fixed_five_minutes() -> None:
    """slack_sdk's is_valid hard-codes 300 s; the configured window (30 to 3,600 s) is what counts."""
    ts = str(int(NOW) - 900)

    SlackRequestVerifier([CURRENT], max_age_seconds=3600, clock=lambda: NOW).verify(signed(ts=ts), BODY)
    short = SlackRequestVerifier([CURRENT], max_age_seconds=30, clock=lambda: NOW)
    short.verify(signed(ts=str(int(NOW) - 30)), BODY)
    with pytest.raises(StaleTimestamp):
        short.verify(signed(ts=str(int(NOW) - 31)), BODY)


@pytest.mark.parametrize("timestamp", ["9" * 13, "9" * 5000, "1" + "0" * 400])
def test_an_absurdly_large_timestamp_is_stale_not_an_overflow(timestamp: str) -> None:
    with pytest.raises(StaleTimestamp):
        verifier().verify({"x-slack-request-timestamp": timestamp, "x-slack-signature": "v0=00"}, BODY)


def test_leading_zeros_do_not_make_a_fresh_timestamp_stale() -> None:
    verifier().verify(signed(ts="0000000" + TS), BODY)


def test_the_clock_is_read_at_each_verification() -> None:
    now = [NOW]
    checker = SlackRequestVerifier([CURRENT], max_age_seconds=WINDOW, clock=lambda: now[0])

    checker.verify(signed(), BODY)
    now[0] += WINDOW + 1
    with pytest.raises(StaleTimestamp):
        checker.verify(signed(), BODY)


# ---------------------------------------------------------------- configuration
@pytest.mark.parametrize("secrets", [[], [""], [CURRENT, "   "], [CURRENT, "secret-\ud800"]])
def test_no_usable_secret_is_a_configuration_error(secrets: list[str]) -> None:
    with pytest.raises(ConfigurationError):
        SlackRequestVerifier(secrets, max_age_seconds=WINDOW)


def test_one_secret_passed_as_a_string_is_refused() -> None:
    with pytest.raises(TypeError):
        SlackRequestVerifier(CURRENT, max_age_seconds=WINDOW)


# ---------------------------------------------------------------- the signer agrees with slack_sdk
utf8_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]))  # no lone surrogates: encodable as UTF-8


@settings(max_examples=200, deadline=None)
@given(secret=utf8_text.filter(str.strip), timestamp=st.from_regex(r"\A[0-9]{1,12}\Z"), body=utf8_text)
def test_slack_signature_equals_slack_sdks_for_every_utf8_body(secret: str, timestamp: str, body: str) -> None:
    """The signer (stdlib HMAC over raw bytes) and the verifier (slack_sdk's) are two implementations that agree."""
    raw = body.encode()

    assert slack_signature(secret, timestamp, raw) == SignatureVerifier(secret).generate_signature(
        timestamp=timestamp, body=raw
    )


class FixedClock:
    """slack_sdk's Clock at NOW."""

    def now(self) -> float:
        return NOW


@settings(max_examples=200, deadline=None)
@given(
    secret=utf8_text.filter(str.strip),
    body=utf8_text.map(str.encode),
    age=st.integers(-WINDOW, WINDOW),
    forged=st.none()
    | st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex())
    | st.text(min_size=1, max_size=70),
)
def test_the_verifier_accepts_exactly_what_slack_sdks_accepts(
    secret: str, body: bytes, age: int, forged: str | None
) -> None:
    """Within slack_sdk's fixed 300 s (our window here), an ASCII signature, the right one or not: one verdict."""
    timestamp = str(int(NOW) - age)
    signature = slack_signature(secret, timestamp, body) if forged is None else forged
    reference = SignatureVerifier(secret, clock=FixedClock())  # type: ignore[arg-type] - a Clock by its now()
    expected = signature.isascii() and reference.is_valid(body=body, timestamp=timestamp, signature=signature)
    headers = {"x-slack-request-timestamp": timestamp, "x-slack-signature": signature}

    try:
        verifier([secret]).verify(headers, body)
    except InvalidSignature:
        accepted = False
    else:
        accepted = True

    assert accepted == expected
    assert accepted == (forged is None or forged == slack_signature(secret, timestamp, body))


# ---------------------------------------------------------------- hostile input
header_names = st.sampled_from(["x-slack-signature", "X-Slack-Signature", "x-slack-request-timestamp",
                                "X-SLACK-REQUEST-TIMESTAMP", "content-type"]) | st.text(max_size=20)  # fmt: skip
timestamps = (
    st.integers(int(NOW) - 2 * WINDOW, int(NOW) + 2 * WINDOW).map(str)
    | st.from_regex(r"\A[0-9]{0,30}\Z")
    | st.text(max_size=20)
)
signatures = (
    st.text(alphabet=string.hexdigits + "v0=", max_size=70)
    | st.text(max_size=70)
    | st.binary(max_size=32).map(lambda b: "v0=" + b.hex())
)


@settings(max_examples=300, deadline=None)
@given(
    extra=st.dictionaries(header_names, st.text(max_size=40), max_size=4),
    timestamp=st.none() | timestamps,
    signature=st.none() | signatures,
    body=st.binary(max_size=500) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
def test_any_bytes_and_headers_only_ever_raise_one_of_the_three_refusals(
    extra: dict[str, str], timestamp: str | None, signature: str | None, body: bytes
) -> None:
    headers = dict(extra)
    if timestamp is not None:
        headers["x-slack-request-timestamp"] = timestamp
    if signature is not None:
        headers["x-slack-signature"] = signature

    try:
        verifier().verify(headers, body)
    except (MissingSignature, StaleTimestamp, InvalidSignature):
        return
    # Accepted: only possible with a correct signature over this body and a fresh timestamp.
    found = {k.lower(): v for k, v in headers.items()}
    assert found["x-slack-signature"] in {slack_signature(s, found["x-slack-request-timestamp"], body)
                                          for s in (CURRENT, PREVIOUS)}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), offset=st.integers(-WINDOW, WINDOW), secret=st.sampled_from([CURRENT, PREVIOUS]))
def test_any_utf8_body_signed_with_either_key_in_the_window_is_accepted(body: bytes, offset: int, secret: str) -> None:
    body = body.decode("utf-8", "ignore").encode()
    ts = str(int(NOW) + offset)

    verifier().verify(signed(secret, ts=ts, body=body), body)
