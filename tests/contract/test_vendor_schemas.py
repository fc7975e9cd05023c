"""Our Zendesk and HubSpot request schemas (vendor_schemas/, checked by vendor_requests.py): each is a valid JSON
Schema that cites the vendor documentation it was written from; the checks name the request and what is wrong with
it; and the contract watch of the integration tests reports a violation with the vendor, method, path and problem."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.contract.recorded_requests import ContractWatch, recorded_request
from tests.contract.vendor_requests import SCHEMA_DIR, VENDORS, check_vendor_request, contracts
from triage_local.sandboxes import FakeHubSpot, FakeSlack, FakeZendesk

ROOT = Path(__file__).resolve().parents[2]
VENDOR_PROTOCOLS = ROOT.parent / "shared" / "reference" / "vendor-protocols.md"
DOC_URL = re.compile(r"developers?\.(zendesk|hubspot)\.com/\S+")
PROTOCOLS_SECTION = re.compile(r"vendor-protocols\.md section (\d+(?:\.\d+)?)")
TICKET = "/api/v2/tickets/5158.json"
STAMP = "2026-01-08T14:25:30Z"
SCHEMAS = sorted(p for vendor in VENDORS for p in (SCHEMA_DIR / vendor).glob("*.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_schema_is_valid_and_cites_the_vendor_doc_it_comes_from(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))

    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/vendor_schemas/{path.parent.name}/{path.name}")
    cited = DOC_URL.findall(schema["description"])
    assert cited, "the description names no page of the vendor's documentation"
    assert set(cited) == {path.parent.name}, "a schema cites its own vendor's documentation"
    assert all(isinstance(note, str) and note for note in schema.get("x-unconfirmed", []))
    if "x-request" in schema:
        assert schema["x-request"]["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE")
        assert schema["x-request"]["path"].startswith("^/")
        assert schema["x-request"]["path"].endswith("$")


def test_every_cited_section_of_vendor_protocols_exists() -> None:
    if not VENDOR_PROTOCOLS.exists():
        pytest.skip("../shared/reference/vendor-protocols.md is not beside the repository")
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", VENDOR_PROTOCOLS.read_text(encoding="utf-8"), re.M))
    cited = {
        section.rstrip(".")
        for path in SCHEMAS
        for section in PROTOCOLS_SECTION.findall(json.loads(path.read_text(encoding="utf-8"))["description"])
    }
    assert cited
    assert cited <= headings


def test_every_request_contract_is_loaded_with_its_route() -> None:
    loaded = {(c.vendor, c.name) for c in contracts()}
    routed = {(p.parent.name, p.stem) for p in SCHEMAS if "x-request" in json.loads(p.read_text(encoding="utf-8"))}
    assert loaded == routed
    assert len(loaded) >= 20


# the checks bite ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "method", "url", "body", "problem"),
    [
        ("zendesk", "PUT", TICKET, {"ticket": {"comment": {"body": "AI triage", "public": "false"}}},
         "update_ticket: body.ticket.comment.public: 'false' is not of type 'boolean'"),
        ("zendesk", "PUT", TICKET, {"ticket": {"tags": ["billing"], "additional_tags": ["ai_triaged"]}},
         "update_ticket: body.ticket: Additional properties are not allowed ('tags' was unexpected)"),
        ("zendesk", "PUT", TICKET, {"ticket": {"priority": "high", "safe_update": True}},
         "update_ticket: body.ticket: 'updated_stamp' is a dependency of 'safe_update'"),
        ("zendesk", "PUT", TICKET, {"ticket": {"priority": "critical", "safe_update": True, "updated_stamp": STAMP}},
         "update_ticket: body.ticket.priority: 'critical' is not one of ['urgent', 'high', 'normal', 'low']"),
        ("zendesk", "DELETE", TICKET, None,
         "no request contract for DELETE /api/v2/tickets/5158.json "
         "(describe it in tests/contract/vendor_schemas/zendesk/)"),
        ("hubspot", "POST", "/crm/v3/objects/tickets/search", {"filterGroups": [], "limit": 500},
         "search_tickets: body.limit: 500 is greater than the maximum of 200"),
        ("hubspot", "PATCH", "/crm/v3/objects/tickets/77", {"properties": {"hs_ticket_priority": 3}},
         "update_ticket: body.properties.hs_ticket_priority: 3 is not of type 'string'"),
        ("hubspot", "POST", "/crm/v3/objects/notes",
         {"properties": {"hs_note_body": "x", "hs_timestamp": "1767880000000"}},
         "create_note: body: 'associations' is a required property"),
    ],
)  # fmt: skip
def test_a_request_that_breaks_its_schema_is_named_with_the_problem(
    vendor: str, method: str, url: str, body: Any, problem: str
) -> None:
    assert check_vendor_request(vendor, recorded_request(method, url, body)) == [problem]


def test_a_conforming_request_has_no_problem() -> None:
    note = {"body": "AI triage: billing", "public": False}
    update = {"ticket": {"priority": "high", "additional_tags": ["ai_triaged"], "safe_update": True,
                         "updated_stamp": STAMP, "comment": note}}  # fmt: skip
    assert check_vendor_request("zendesk", recorded_request("PUT", TICKET, update)) == []
    assert check_vendor_request("zendesk", recorded_request("GET", f"{TICKET}?include=users,organizations")) == []


def test_the_contract_watch_reports_each_violation_with_vendor_method_path_and_problem() -> None:
    watch = ContractWatch()
    slack, zendesk, hubspot = FakeSlack(), FakeZendesk(), FakeHubSpot()  # never started: no socket
    no_channel = recorded_request("POST", "/api/chat.postMessage", {"text": "Review"})
    public_as_text = recorded_request("PUT", TICKET, {"ticket": {"comment": {"body": "x", "public": "false"}}})
    fine = recorded_request("GET", "/crm/v3/objects/tickets/77?properties=subject")
    no_channel.status, public_as_text.status, fine.status = 200, 422, 200
    for sandbox, request in ((slack, no_channel), (zendesk, public_as_text), (hubspot, fine)):
        watch.observe(sandbox, request)

    assert watch.checked == 3
    assert watch.take_violations() == [
        "slack POST /api/chat.postMessage (answered 200): chat.postMessage: required argument `channel` is missing",
        "zendesk PUT /api/v2/tickets/5158.json (answered 422): "
        "update_ticket: body.ticket.comment.public: 'false' is not of type 'boolean'",
    ]
    assert watch.seen == []
    assert watch.violations() == []
