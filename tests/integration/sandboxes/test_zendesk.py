"""FakeZendesk through `requests`: auth, reads, updates, tags, safe updates, rate limits, injected faults."""

from __future__ import annotations

import base64

import pytest
import requests

from tests.integration.sandboxes.conftest import ZD_EMAIL, ZD_TOKEN
from triage_local.sandboxes import FakeZendesk


# Zendesk -------------------------------------------------------------------------------------------------------
def test_zendesk_rejects_credentials_that_are_not_email_token_basic_auth(zendesk: FakeZendesk) -> None:
    url = f"{zendesk.url}/api/v2/tickets/42.json"
    password_style = base64.b64encode(f"{ZD_EMAIL}:{ZD_TOKEN}".encode()).decode()

    for auth in (None, f"Basic {password_style}", f"Bearer {ZD_TOKEN}"):
        headers = {"Authorization": auth} if auth else {}
        reply = requests.get(url, headers=headers, timeout=5)
        assert reply.status_code == 401
        assert reply.json() == {"error": "Couldn't authenticate you"}


def test_zendesk_ticket_read_sideloads_users_and_organizations(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.get(f"{zendesk.url}/api/v2/tickets/42", params={"include": "users,organizations"}, timeout=5)

    assert reply.status_code == 200
    body = reply.json()
    assert body["ticket"]["subject"] == "Refund please"
    assert [u["email"] for u in body["users"]] == ["ada@acme.test"]
    assert [o["name"] for o in body["organizations"]] == ["Acme"]
    assert "users" not in zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5).json()


def test_zendesk_missing_ticket_is_404_record_not_found(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.get(f"{zendesk.url}/api/v2/tickets/404.json", timeout=5)

    assert reply.status_code == 404
    assert reply.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_zendesk_update_applies_fields_and_appends_an_internal_note(zendesk: FakeZendesk, zd: requests.Session) -> None:
    update = {"ticket": {"priority": "high", "group_id": 7, "custom_fields": [{"id": 5, "value": "refund"}],
                         "comment": {"body": "AI triage: billing", "public": False}}}  # fmt: skip

    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json=update, timeout=5)

    assert reply.status_code == 200
    ticket = reply.json()["ticket"]
    assert (ticket["priority"], ticket["group_id"], ticket["tags"]) == ("high", 7, ["vip"])
    assert ticket["custom_fields"] == [{"id": 5, "value": "refund"}]
    assert any(e["type"] == "Comment" for e in reply.json()["audit"]["events"])
    comments = zd.get(f"{zendesk.url}/api/v2/tickets/42/comments.json", timeout=5).json()["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [
        ("I was charged twice", True),
        ("AI triage: billing", False),
    ]
    assert comments[1]["author_id"] == zendesk.agent_id


def test_zendesk_tags_api_adds_without_overwriting(zendesk: FakeZendesk, zd: requests.Session) -> None:
    tags_url = f"{zendesk.url}/api/v2/tickets/42/tags.json"

    added = zd.put(tags_url, json={"tags": ["ai_triaged", "vip"]}, timeout=5).json()["tags"]
    removed = zd.delete(tags_url, json={"tags": ["vip"]}, timeout=5).json()["tags"]
    replaced = zd.post(tags_url, json={"tags": ["only"]}, timeout=5).json()["tags"]

    assert added == ["vip", "ai_triaged"]
    assert removed == ["ai_triaged"]
    assert replaced == ["only"]


def test_zendesk_tags_in_a_ticket_update_replace_the_list(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json={"ticket": {"tags": ["ai_triaged"]}}, timeout=5)

    assert reply.json()["ticket"]["tags"] == ["ai_triaged"]


def test_zendesk_safe_update_conflicts_when_the_stamp_is_stale(zendesk: FakeZendesk, zd: requests.Session) -> None:
    url = f"{zendesk.url}/api/v2/tickets/42.json"
    stale = zd.get(url, timeout=5).json()["ticket"]["updated_at"]
    zendesk.touch(42, status="open")  # an agent edits the ticket meanwhile

    conflict = zd.put(url, json={"ticket": {"priority": "low", "safe_update": True, "updated_stamp": stale}}, timeout=5)
    fresh = zd.get(url, timeout=5).json()["ticket"]["updated_at"]
    retried = zd.put(url, json={"ticket": {"priority": "low", "safe_update": True, "updated_stamp": fresh}}, timeout=5)

    assert conflict.status_code == 409
    assert zendesk.ticket(42)["status"] == "open"
    assert retried.status_code == 200
    assert retried.json()["ticket"]["updated_at"] != fresh


def test_zendesk_unknown_priority_is_422_record_invalid(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", json={"ticket": {"priority": "critical"}}, timeout=5)

    assert reply.status_code == 422
    assert reply.json()["error"] == "RecordInvalid"
    assert "priority" in reply.json()["details"]
    assert zendesk.ticket(42)["priority"] is None


def test_zendesk_write_without_json_content_type_is_refused(zendesk: FakeZendesk, zd: requests.Session) -> None:
    reply = zd.put(f"{zendesk.url}/api/v2/tickets/42.json", data=b'{"ticket": {"priority": "low"}}', timeout=5)

    assert reply.status_code == 415


def test_zendesk_rate_limit_answers_429_with_retry_after(zd: requests.Session) -> None:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN, rate_limit_per_minute=2) as fake:
        fake.add_ticket(1)
        replies = [zd.get(f"{fake.url}/api/v2/tickets/1.json", timeout=5) for _ in range(3)]

    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[1].headers["X-Rate-Limit-Remaining"] == "0"
    assert 1 <= int(replies[2].headers["Retry-After"]) <= 60


def test_injected_failure_answers_once_then_recovers(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.fail_next(503, headers={"Retry-After": "5"})

    failed = zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5)
    recovered = zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5)

    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "5")
    assert recovered.status_code == 200
    assert [r.status for r in zendesk.requests] == [503, 200]
    assert zendesk.requests[0].headers["authorization"].startswith("Basic ")


def test_injected_hang_times_the_client_out(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.hang_next(2)

    with pytest.raises(requests.Timeout):
        zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=0.3)
