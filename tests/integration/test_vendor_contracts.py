"""Every Zendesk and HubSpot request the code sends, driven once through the real adapters against the fakes
and checked against our request schemas (tests/contract/vendor_schemas/, from the vendors' documentation).

The paths: the triage function's context fetch (VendorContext, both vendors), the write-back's read and
conditional write (ZendeskWriter, HubSpotWriter: ticket, audits, our user, the update, the note and the note
search) and the history pulls (Zendesk's incremental export; HubSpot's ticket search, batch read with
property history, v4 associations and companies batch read): each of their schemas must be exercised. (The
admin requests of `triage setup` and `triage doctor` have schemas of their own, exercised by their tests.) The
last test shows the watch biting: requests that break the contract are reported with vendor, method and problem.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.contract.recorded_requests import ContractWatch
from tests.contract.vendor_requests import check_vendor_request, contracts
from tests.integration.history.conftest import Puller, hubspot_fake, make_history, window, zendesk_fake
from tests.integration.writeback.conftest import GROUPS, HS_TICKET, ZD_TICKET, decision
from triage_gate.adapters.vendor_context import VendorContext
from triage_gate.adapters.vendor_writers import HubSpotWriter, ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.policy import load_policy
from triage_gate.triage.decision import decision_message
from triage_gate.writeback.plan import WritePlan, decision_ref, plan_writeback
from triage_local.sandboxes import FakeHubSpot, FakeSlack, FakeZendesk
from triage_tools.memory import StaticSecrets

ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "contracts@example.com", "zd-contract-token", "hs-contract-token"
COMPANY = 7301
RUNTIME_AND_HISTORY = {
    "zendesk": {"show_ticket", "list_ticket_audits", "show_current_user", "update_ticket", "incremental_ticket_export"},
    "hubspot": {"read_ticket", "read_company", "update_ticket", "create_note", "search_notes", "search_tickets",
                "batch_read_tickets", "batch_read_companies", "batch_read_ticket_company_associations"},
}  # fmt: skip
SECRETS = StaticSecrets(
    VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN, HUBSPOT_ACCESS_TOKEN=HS_TOKEN)  # type: ignore[arg-type]
)


def plan(source: str) -> WritePlan:
    """The shipped policy's write-back plan for an auto-mode decision (fields, tags and a note)."""
    record = decision(source=source)
    written = plan_writeback(decision_message(record), load_policy().workflows[record.workflow])
    assert written.fields
    assert written.note
    return written


def zendesk_writes(fake: FakeZendesk) -> None:
    fake.add_user(501, name="Ada", email="ada@acme.test", organization_id=77)
    fake.add_organization(77, name="Acme")
    for group in GROUPS:
        fake.add_group(group)
    fake.add_ticket(ZD_TICKET, subject="Export fails", description="CSV export fails", requester_id=501,
                    organization_id=77, priority="normal")  # fmt: skip
    for n in range(105):  # more audits than one page: the write-back follows next_page
        fake.agent_update(ZD_TICKET, subject=f"Export fails ({n})")
    deadline = time.monotonic() + 30
    VendorContext(SECRETS, zendesk_base_url=fake.url, hubspot_base_url=None).fetch(
        "zendesk", "1", str(ZD_TICKET), ["ticket.subject", "requester.email", "organization.name"], 5.0
    )
    writer = ZendeskWriter(SECRETS, fake.url)
    written = plan("zendesk")
    state = writer.read(written, since=None, note_ref=decision_ref("zendesk:1:x"), look_for_note=True,
                        deadline=deadline)  # fmt: skip
    writer.update(written, state.stamp, deadline)
    assert fake.ticket(ZD_TICKET)["priority"] == "high"


def hubspot_writes(fake: FakeHubSpot) -> None:
    fake.allow_properties("ai_triage_category")
    fake.add_ticket(HS_TICKET, subject="Invoice question", content="Where is my PO?", hs_ticket_priority="LOW")
    fake.add_company(COMPANY, name="Acme", domain="acme.test")
    fake.associate(HS_TICKET, COMPANY)
    deadline = time.monotonic() + 30
    VendorContext(SECRETS, zendesk_base_url=None, hubspot_base_url=fake.url).fetch(
        "hubspot", "1", str(HS_TICKET), ["ticket.subject", "company.name", "company.domain"], 5.0
    )
    writer = HubSpotWriter(SECRETS, fake.url)
    written = plan("hubspot")
    writer.read(written, since=None, note_ref=decision_ref("hubspot:1:x"), look_for_note=True, deadline=deadline)
    writer.update(written, None, deadline)
    assert fake.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "HIGH"
    assert len(fake.notes_for(HS_TICKET)) == 1


def pull(source: str, out: Path) -> None:
    """A history pull of `source` (a small generated history, several pages)."""
    history = make_history(source, count=60)
    fake: Any = zendesk_fake(history, per_page=20) if source == "zendesk" else hubspot_fake(history)
    try:
        since, until = window(history)
        result = Puller(source, fake.url, out, since, until).run()
        assert result.pages >= 1
    finally:
        fake.stop()


def test_every_zendesk_and_hubspot_request_the_code_sends_matches_its_schema(
    tmp_path: Path, vendor_contracts: ContractWatch
) -> None:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as zendesk, FakeHubSpot(HS_TOKEN) as hubspot:
        zendesk_writes(zendesk)
        hubspot_writes(hubspot)
    pull("zendesk", tmp_path / "zendesk")
    pull("hubspot", tmp_path / "hubspot")

    assert vendor_contracts.violations() == []
    seen = [(name, r) for name, r in vendor_contracts.seen if name in ("zendesk", "hubspot")]
    exercised = {(c.vendor, c.name) for c in contracts() for name, r in seen if c.vendor == name and c.matches(r)}
    assert exercised == {(vendor, name) for vendor, names in RUNTIME_AND_HISTORY.items() for name in names}
    assert all(check_vendor_request(name, r) == [] for name, r in seen)
    assert any("/audits" in r.path and "page" in r.query for _, r in seen)  # a later page, Zendesk's own query
    assert sum("incremental" in r.path and "cursor" in r.query for _, r in seen) >= 1


def test_the_watch_reports_a_request_that_breaks_the_vendor_contract(vendor_contracts: ContractWatch) -> None:
    """The autouse watch sees what the running fakes answer: a Slack post without `channel` and a Zendesk note whose
    `public` is a string are reported with the vendor, the method, the path, the answer and the problem."""
    with FakeSlack("xoxb-watch", per_channel_per_second=None) as slack, FakeZendesk(ZD_EMAIL, ZD_TOKEN) as zendesk:
        zendesk.add_ticket(ZD_TICKET, subject="Export fails")
        refused = WebClient(token="xoxb-watch", base_url=f"{slack.url}/api/")
        with pytest.raises(SlackApiError):
            refused.api_call("chat.postMessage", json={"text": "Review"})
        note = {"ticket": {"comment": {"body": "AI triage", "public": "false"}}}
        answer = requests.put(f"{zendesk.url}/api/v2/tickets/{ZD_TICKET}.json", json=note,
                              auth=(f"{ZD_EMAIL}/token", ZD_TOKEN), timeout=5)  # fmt: skip
        assert answer.status_code == 422

    assert vendor_contracts.take_violations() == [
        "slack POST /api/chat.postMessage (answered 200): chat.postMessage: required argument `channel` is missing",
        f"zendesk PUT /api/v2/tickets/{ZD_TICKET}.json (answered 422): "
        "update_ticket: body.ticket.comment.public: 'false' is not of type 'boolean'",
    ]
