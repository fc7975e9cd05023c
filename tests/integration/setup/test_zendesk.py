"""`triage setup zendesk` against FakeZendesk: the webhook, the README's triggers and the signing secret, made once;
a dry run changes nothing; the policy's ids filled by name with comments kept; what only a person can fix."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ROOT
from tests.integration.setup.conftest import (
    CATEGORY_FIELD,
    SECRETS,
    STACK,
    Deployed,
    Vendors,
    triage,
)
from triage_gate.intake.signatures import zendesk_signature
from triage_gate.intake.zendesk import CREATED_TRIGGER_BODY
from triage_gate.policy import load_policy


class Receiver:
    """An HTTP endpoint on loopback that keeps what Zendesk delivers to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/zendesk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def stored(deployed: Deployed) -> Deployed:
    deployed.put_secret(dict(SECRETS))
    return deployed


def _webhooks(vendors: Vendors) -> list[dict[str, Any]]:
    return list(vendors.zendesk.admin.automation.webhooks.values())


def test_the_webhook_triggers_and_secret_are_made_once(vendors: Vendors, stored: Deployed, capsys) -> None:
    code, out, err = triage(capsys, "setup", "zendesk", "--stack", STACK)
    assert code == 0, out + err
    assert "Groups (7):" in out
    assert "Globex Labs" in out
    assert f"{CATEGORY_FIELD}  AI category (tagger:" in out
    assert "created webhook 'Triage Gate (triage-gate-test)'" in out
    assert "created trigger 'Triage Gate: new ticket'" in out
    assert "created trigger 'Triage Gate: updated ticket'" in out
    [webhook] = _webhooks(vendors)
    assert webhook["endpoint"] == f"{stored.api_url}/webhooks/zendesk"
    assert webhook["subscriptions"] == ["conditional_ticket_events"]
    secret = vendors.zendesk.admin.automation.signing_secrets[webhook["id"]]
    assert stored.secret() == {**SECRETS, "ZENDESK_WEBHOOK_SECRET": secret}
    assert secret not in out + err
    updated = next(t for t in vendors.zendesk.admin.automation.triggers.values() if "updated" in t["title"])
    assert {"field": "current_tags", "operator": "not_includes", "value": "ai_triaged"} in updated["conditions"]["all"]

    requests_before = len(vendors.zendesk.requests)
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK)
    assert code == 0
    assert out.rstrip().endswith("Zendesk: no change")
    second_run = vendors.zendesk.requests[requests_before:]
    assert second_run  # it read the account, the webhook, the triggers and the signing secret again
    assert [f"{r.method} {r.path}" for r in second_run if r.method != "GET"] == []  # and wrote nothing
    assert len(_webhooks(vendors)) == 1
    assert len(vendors.zendesk.admin.automation.triggers) == 2


def test_dry_run_changes_nothing(vendors: Vendors, stored: Deployed, capsys) -> None:
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK, "--dry-run")
    assert code == 0
    assert "would create webhook" in out
    assert "would create trigger 'Triage Gate: new ticket'" in out
    assert "would create trigger 'Triage Gate: updated ticket'" in out
    assert "would store the new webhook's signing secret" in out
    assert "Zendesk: 4 change(s) would be made (dry run: nothing changed)" in out
    assert _webhooks(vendors) == []
    assert vendors.zendesk.admin.automation.triggers == {}
    assert [r for r in vendors.zendesk.requests if r.method != "GET"] == []
    assert stored.secret() == SECRETS


def test_a_changed_endpoint_is_updated_not_duplicated(vendors: Vendors, stored: Deployed, capsys) -> None:
    assert triage(capsys, "setup", "zendesk", "--stack", STACK)[0] == 0
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK, "--webhook-url", "https://triage.acme.test/z")
    assert code == 0
    assert "updated webhook 'Triage Gate (triage-gate-test)' → https://triage.acme.test/z (endpoint)" in out
    assert [w["endpoint"] for w in _webhooks(vendors)] == ["https://triage.acme.test/z"]


def test_the_readme_body_is_what_the_triggers_send(vendors: Vendors, stored: Deployed, receiver: Receiver,
                                                   capsys) -> None:  # fmt: skip
    """Deliveries reach the endpoint signed with the stored secret; our own write-back (the marker tag) does
    not fire the update trigger; a person's update does."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```json\n{CREATED_TRIGGER_BODY}\n```" in readme  # the by-hand instructions show the same body
    assert triage(capsys, "setup", "zendesk", "--stack", STACK, "--webhook-url", receiver.url)[0] == 0
    secret = stored.secret()["ZENDESK_WEBHOOK_SECRET"]
    vendors.zendesk.add_ticket(7001, notify=True, subject="Refund please")
    [(headers, body)] = receiver.wait(1)
    stamp = headers["x-zendesk-webhook-signature-timestamp"]
    assert headers["x-zendesk-webhook-signature"] == zendesk_signature(secret, stamp, body)
    delivered = json.loads(body)
    assert delivered["event"] == "ticket_created"
    assert delivered["ticket_id"] == "7001"
    vendors.zendesk.agent_update(7001, tags=["vip", "ai_triaged"])  # our write-back's marker: no delivery
    vendors.zendesk.agent_update(7001, tags=["vip"], priority="high")  # a person's change: delivered
    received = receiver.wait(2)
    time.sleep(0.3)
    assert [json.loads(b)["event"] for _, b in receiver.received] == ["ticket_created", "ticket_updated"]
    assert len(received) == 2


def test_events_connection_cannot_replace_a_trigger_webhook(vendors: Vendors, stored: Deployed, capsys) -> None:
    assert triage(capsys, "setup", "zendesk", "--stack", STACK)[0] == 0
    code, _, err = triage(capsys, "setup", "zendesk", "--stack", STACK, "--connection", "events")
    assert code == 1
    assert "cannot switch to Zendesk events" in err


def test_an_agent_token_cannot_connect_the_webhook(vendors: Vendors, stored: Deployed, capsys) -> None:
    vendors.zendesk.users[vendors.zendesk.agent_id]["role"] = "agent"
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK)
    assert code == 1
    assert "webhooks and triggers need an admin's API token" in out
    assert _webhooks(vendors) == []


def test_a_bad_token_is_a_clear_failure(vendors: Vendors, stored: Deployed, capsys) -> None:
    stored.put_secret({**SECRETS, "ZENDESK_API_TOKEN": "wrong"})
    code, _, err = triage(capsys, "setup", "zendesk", "--stack", STACK)
    assert code == 1
    assert "Zendesk GET /api/v2/users/me.json: HTTP 401: Couldn't authenticate you" in err


def test_write_policy_fills_ids_by_name_and_keeps_comments(vendors: Vendors, stored: Deployed, policy_copy: Path,
                                                          capsys) -> None:  # fmt: skip
    original = policy_copy.read_text(encoding="utf-8")
    args = ("setup", "zendesk", "--stack", STACK, "--list-only", "--write-policy", "--policy", str(policy_copy))
    code, out, _ = triage(capsys, *args)
    assert code == 1  # refund's group is not named like the label
    assert "zendesk-support.category.refund group_id: group 36002117 is not in this account" in out
    assert policy_copy.read_text(encoding="utf-8") != original  # what was resolved is written

    code, out, _ = triage(capsys, *args, "--group", "refund=Refunds & Cancellations")
    assert code == 0, out
    assert "zendesk-support.category.refund group_id: 36002117 → 502 (Refunds & Cancellations)" in out
    written = policy_copy.read_text(encoding="utf-8")
    targets = load_policy(policy_copy).workflows["zendesk-support"].writeback.zendesk["category"]
    assert {label: t.group_id for label, t in targets.items()} == {
        "billing": 501, "refund": 502, "bug": 503, "account_access": 504, "how_to": 505, "feature_request": 506,
        "security": 507, "other": None,
    }  # fmt: skip
    assert all(list(t.custom_fields) == [CATEGORY_FIELD] for t in targets.values())
    comments = [line.strip() for line in original.splitlines() if line.strip().startswith("#")]
    assert comments
    assert [comment for comment in comments if comment not in written] == []
    assert "custom_fields: {9001: billing}" in written  # flow style kept

    code, out, _ = triage(capsys, *args, "--group", "refund=Refunds & Cancellations")
    assert code == 0
    assert "0 id(s) to fill" in out
    assert out.rstrip().endswith("Zendesk: no change")


def test_write_policy_dry_run_and_missing_options(vendors: Vendors, stored: Deployed, policy_copy: Path,
                                                  capsys) -> None:  # fmt: skip
    vendors.zendesk.admin.add_ticket_field(CATEGORY_FIELD, "AI category", options=(("Billing", "billing"),))
    original = policy_copy.read_text(encoding="utf-8")
    args = ("--list-only", "--write-policy", "--policy", str(policy_copy), "--group", "refund=Refunds & Cancellations")
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK, *args, "--dry-run")
    assert code == 1
    assert "would write" in out
    assert "+          billing: {group_id: 501" in out
    assert "field 'AI category' has no option with value account_access, bug, feature_request" in out
    assert policy_copy.read_text(encoding="utf-8") == original


def test_a_mapping_that_names_no_label_is_refused(vendors: Vendors, stored: Deployed, policy_copy: Path,
                                                  capsys) -> None:  # fmt: skip
    code, _, err = triage(capsys, "setup", "zendesk", "--stack", STACK, "--list-only", "--write-policy",
                          "--policy", str(policy_copy), "--group", "refunds=Refunds & Cancellations")  # fmt: skip
    assert code == 2
    assert "name(s) no Zendesk write-back entry of the policy: refunds" in err


def test_the_events_connection_subscribes_to_the_ticket_events_the_intake_queues(
    vendors: Vendors, stored: Deployed, receiver: Receiver, capsys
) -> None:
    code, out, _ = triage(capsys, "setup", "zendesk", "--stack", STACK, "--connection", "events",
                          "--webhook-url", receiver.url)  # fmt: skip
    assert code == 0, out
    assert "(connected to Zendesk events)" in out
    assert "trigger" not in out.split("Webhook for", 1)[1]  # no trigger with an event subscription
    [webhook] = _webhooks(vendors)
    assert "zen:event-type:ticket.created" in webhook["subscriptions"]
    assert "conditional_ticket_events" not in webhook["subscriptions"]
    assert vendors.zendesk.admin.automation.triggers == {}
    secret = stored.secret()["ZENDESK_WEBHOOK_SECRET"]
    vendors.zendesk.add_ticket(7002, notify=True, subject="Invoice question")
    [(headers, body)] = receiver.wait(1)
    stamp = headers["x-zendesk-webhook-signature-timestamp"]
    assert headers["x-zendesk-webhook-signature"] == zendesk_signature(secret, stamp, body)
    assert json.loads(body)["type"] == "zen:event-type:ticket.created"
    before = len(vendors.zendesk.requests)
    assert triage(capsys, "setup", "zendesk", "--stack", STACK, "--connection", "events",
                  "--webhook-url", receiver.url)[1].rstrip().endswith("Zendesk: no change")  # fmt: skip
    assert [r for r in vendors.zendesk.requests[before:] if r.method != "GET"] == []


def test_a_zendesk_that_does_not_answer_is_a_clear_failure(vendors: Vendors, stored: Deployed, capsys) -> None:
    vendors.zendesk.stop()
    code, _, err = triage(capsys, "setup", "zendesk", "--stack", STACK)
    assert code == 1
    assert "no Zendesk answers at http://127.0.0.1:" in err
    assert "start the local stack and its vendor sandboxes first (`make local`)" in err
    assert "Connection refused" not in err
    assert "HTTPConnectionPool" not in err
