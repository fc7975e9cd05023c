"""Hostile Slack interactions: parse_interaction and SlackActionsFunction's request handling refuse
unsigned, forged and oddly shaped requests with a 4xx, never an exception."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.hostile_input.strategies import PROPERTY, extra_headers, header_names, json_values
from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.compose import slack_actions
from triage_gate.compose.common import Lazy
from triage_gate.config import VendorSecrets
from triage_gate.errors import InvalidPayload
from triage_gate.review.interactions import ReviewerAction, parse_interaction
from triage_gate.review.service import ReviewDesk
from triage_tools.memory import InMemoryDecisionStore, RecordingQueue

SLACK_SECRET = "slack-test-signing-secret"
SLACK_STATUSES = {200, 400, 401, 503}


class _Ledger(InMemoryDecisionStore):
    """Like DynamoDecisionStore: a click on an unknown decision fails the condition instead of raising."""

    def claim_review(self, decision_id: str, user_id: str, verdict: str) -> bool:
        return decision_id in self.records and super().claim_review(decision_id, user_id, verdict)


class SlackDesk:
    """SlackActionsFunction's request handling over an in-memory desk; `bodies` is what it enqueued."""

    def __init__(self) -> None:
        self.jobs = RecordingQueue()
        secrets = EnvironmentSecrets(VendorSecrets.from_env({"SLACK_SIGNING_SECRET": SLACK_SECRET}))
        built = slack_actions.SlackActions(ReviewDesk(_Ledger(), self.jobs), secrets, 300)
        self._handler = Lazy.of(built)

    @property
    def bodies(self) -> list[str]:
        return self.jobs.bodies

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        return slack_actions.handle(event, self._handler)


@pytest.fixture
def slack_desk() -> SlackDesk:
    return SlackDesk()


# ------------------------------------------------------------------------------- Slack interactions
def _form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


button_like = st.fixed_dictionaries(
    {"type": st.just("block_actions") | json_values},
    optional={
        "actions": st.lists(
            st.fixed_dictionaries(
                {"action_id": st.sampled_from(["approve", "correct", "escalate", "correct_anyway"]) | json_values},
                optional={"value": st.text(max_size=20) | json_values},
            )
            | json_values,
            max_size=3,
        )
        | json_values,
        "user": st.fixed_dictionaries({"id": st.text(max_size=10) | json_values}, optional={"name": json_values})
        | json_values,
        "container": st.fixed_dictionaries({}, optional={"channel_id": json_values, "message_ts": json_values})
        | json_values,
        "channel": json_values,
        "state": st.fixed_dictionaries(
            {"values": st.dictionaries(st.text(max_size=5), st.dictionaries(st.text(max_size=10), json_values))}
        )
        | json_values,
    },
)
slack_bodies = (
    st.binary(max_size=500)
    | st.builds(_form, json_values | button_like)
    | st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass"))
)


PARSE_BUG = (
    "BUG: review/interactions.py:32-49 parse_interaction assumes the payload's shape: json.loads' RecursionError "
    "is not caught (line 32), a non-dict `actions` item / `user` / `container` / `state` entry raises "
    "AttributeError (lines 39, 44-46, 62-63); the endpoint turns these into a 500"
)
NULL_ACTION = _form({"type": "block_actions", "actions": [None]})
USER_IS_TEXT = _form({"type": "block_actions", "actions": [{"action_id": "approve", "value": "d"}], "user": "U1"})
STATE_IS_LIST = _form(
    {
        "type": "block_actions",
        "actions": [{"action_id": "approve", "value": "d"}],
        "user": {"id": "U1"},
        "state": {"values": {"block": {"reason": None}}},
    }
)
DEEP_PAYLOAD = b"payload=" + b"%5B" * 100_000 + b"%5D" * 100_000


@PROPERTY
@example(body=NULL_ACTION)
@given(body=slack_bodies)
def test_parse_interaction_returns_an_action_or_none_or_raises_invalid_payload(body: bytes) -> None:
    try:
        action = parse_interaction(body)
    except InvalidPayload:
        return
    assert action is None or isinstance(action, ReviewerAction)


def _slack_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "rawPath": "/slack/interactions",
        "headers": headers,
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        "requestContext": {"http": {"method": "POST", "path": "/slack/interactions"}, "requestId": "r-1"},
    }


def _slack_signed(body: bytes, secret: str = SLACK_SECRET) -> dict[str, str]:
    """Slack's v0 scheme over the raw bytes: v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body))."""
    ts = str(int(time.time()))
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={mac}"}


SLACK_VERIFY_BUG = (
    "BUG: review/endpoint.py:56-59 _verify_slack passes the raw body to slack_sdk SignatureVerifier.is_valid, "
    "which decodes it as UTF-8 (UnicodeDecodeError) and compare_digest()s str (TypeError on a non-ASCII "
    "signature); and `timestamp.isdigit()` admits '²' that int() refuses (ValueError). An unauthenticated "
    "caller gets a 500 with a fresh timestamp and any signature. Fix: HMAC the bytes b'v0:'+ts+b':'+body "
    "yourself and compare_digest bytes; check `timestamp.isascii() and timestamp.isdigit()`"
)


@PROPERTY
@given(
    body=slack_bodies.filter(lambda b: b.decode("utf-8", "ignore").encode() == b),
    headers=st.dictionaries(header_names, st.text(alphabet=string.printable, max_size=40), max_size=5),
    forged=st.text(alphabet=string.ascii_letters + string.digits + "=", max_size=70),
    with_signature=st.booleans(),
)
def test_slack_unsigned_or_forged_requests_are_refused(
    slack_desk: SlackDesk, body: bytes, headers: dict[str, str], forged: str, with_signature: bool
) -> None:
    sent = {k.lower(): v for k, v in headers.items() if not k.lower().startswith("x-slack")}
    if with_signature:
        sent.update({"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": forged})
    response = slack_desk.handle(_slack_event(body, sent))
    assert response["statusCode"] in {400, 401}
    assert slack_desk.bodies == []


@pytest.mark.parametrize(
    ("body", "signature", "timestamp"),
    [
        pytest.param(b"\x80payload", "v0=00", None, id="non-utf8-body"),
        pytest.param(b"payload=%7B%7D", "v0=\u00e9\u00e9", None, id="non-ascii-signature"),
        pytest.param(b"payload=%7B%7D", "v0=00", "\u00b2", id="superscript-timestamp"),
    ],
)
def test_slack_forged_requests_never_raise(
    slack_desk: SlackDesk, body: bytes, signature: str, timestamp: str | None
) -> None:
    headers = {"x-slack-request-timestamp": timestamp or str(int(time.time())), "x-slack-signature": signature}
    response = slack_desk.handle(_slack_event(body, headers))
    assert response["statusCode"] in {400, 401}


@PROPERTY
@example(body=NULL_ACTION, headers={})
@given(body=slack_bodies.filter(lambda b: b.decode("utf-8", "ignore").encode() == b), headers=extra_headers)
def test_slack_signed_interactions_of_any_shape_never_raise(
    slack_desk: SlackDesk, body: bytes, headers: dict[str, str]
) -> None:
    sent = {k.lower(): v for k, v in headers.items()}
    sent.update(_slack_signed(body))
    response = slack_desk.handle(_slack_event(body, sent))
    assert response["statusCode"] in SLACK_STATUSES


@pytest.mark.parametrize("body", [NULL_ACTION, USER_IS_TEXT, STATE_IS_LIST], ids=["null-action", "user-text", "state"])
def test_slack_signed_odd_shapes_are_a_400_or_ignored(slack_desk: SlackDesk, body: bytes) -> None:
    response = slack_desk.handle(_slack_event(body, _slack_signed(body)))
    assert response["statusCode"] in {200, 400}


def test_slack_deeply_nested_payload_is_refused_quickly(slack_desk: SlackDesk) -> None:
    started = time.perf_counter()
    response = slack_desk.handle(_slack_event(DEEP_PAYLOAD, _slack_signed(DEEP_PAYLOAD)))
    assert time.perf_counter() - started < 1.0
    assert response["statusCode"] == 400


def test_slack_signed_well_formed_click_is_taken(slack_desk: SlackDesk) -> None:
    """Sanity for the helpers above: a correctly signed approve click reaches the desk."""
    body = _form(
        {
            "type": "block_actions",
            "user": {"id": "U1", "username": "r"},
            "actions": [{"action_id": "approve", "value": "dec-1"}],
            "container": {"channel_id": "C1", "message_ts": "1.2"},
        }
    )
    response = slack_desk.handle(_slack_event(body, _slack_signed(body)))
    assert response["statusCode"] == 200
