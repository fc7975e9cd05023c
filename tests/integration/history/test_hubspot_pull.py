"""`triage history pull --source hubspot` against FakeHubSpot's ticket search and batch read."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import requests

from tests.integration.history.conftest import HS_TOKEN, Puller, hubspot_fake, interrupt_after, window
from triage_local.sandboxes import FakeHubSpot
from triage_local.sandboxes.history import History
from triage_local.sandboxes.history_load import hubspot_id
from triage_tools.history.files import BASELINE_FILE, TICKETS_FILE


def puller(fake: FakeHubSpot, history: History, out: Path, **options: object) -> Puller:
    since, until = window(history)
    return Puller("hubspot", fake.url, out, since, until, **options)  # type: ignore[arg-type]


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / TICKETS_FILE).open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def searches(fake: FakeHubSpot) -> list[dict[str, object]]:
    return [r.json for r in fake.requests if r.path.endswith("/tickets/search")]


def test_windows_holding_more_than_the_search_cap_are_halved_until_they_fit(
    hubspot_history: History, tmp_path: Path
) -> None:
    capped, uncapped = hubspot_fake(hubspot_history, max_results=40), hubspot_fake(hubspot_history)
    try:
        split = puller(capped, hubspot_history, tmp_path / "split", search_cap=40)
        split.run()
        puller(uncapped, hubspot_history, tmp_path / "whole").run()
        queries = searches(capped)
    finally:
        capped.stop()
        uncapped.stop()

    assert all(int(str(q.get("after", 0))) < 40 for q in queries)  # never paged past the cap
    windows = {tuple(f["value"] for f in q["filterGroups"][0]["filters"]) for q in queries}  # type: ignore[index]
    assert len(windows) > 5
    for name in (TICKETS_FILE, BASELINE_FILE):
        assert (tmp_path / "split" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_first_assignment_is_a_persons_owner_and_rerouting_ignores_the_pipeline_stage(
    hubspot: FakeHubSpot, hubspot_history: History, tmp_path: Path
) -> None:
    pull = puller(hubspot, hubspot_history, tmp_path)

    result = pull.run()

    written = rows(tmp_path)
    in_window = [t for t in hubspot_history.tickets if pull.since <= t.created_at < pull.until]
    kept = [t for t in in_window if t.final_fate in ("routed", "unassigned")]
    assert set(written) == {hubspot_id(t) for t in kept}
    assert result.baseline["left_out"] == {
        "deleted": 0, "no_routing": sum(t.final_fate == "unrouted" for t in in_window), "outside_window": 0
    }  # fmt: skip
    for ticket in kept:
        row = written[hubspot_id(ticket)]
        first = ticket.first_assigned_at  # None when a workflow, not a person, set the owner
        assert row["first_assigned_at"] == (first.isoformat() if first else "")
        assert row["rerouted"] == ("1" if ticket.final_rerouted else "0")  # stage moves 1 → 2 → 4 on most
    assert any(t.fate == "unassigned" for t in kept)


def test_labels_come_only_from_values_a_person_set(
    hubspot: FakeHubSpot, hubspot_history: History, tmp_path: Path
) -> None:
    renewal = next(t for t in hubspot_history.tickets if t.final_category == "renewal" and "custom" not in t.fills
                   and t.final_fate == "routed" and t.created_at >= window(hubspot_history)[0])  # fmt: skip
    billing = next(t for t in hubspot_history.tickets if t.final_category == "billing" and t.final_fate == "routed"
                   and t.created_at >= window(hubspot_history)[0])  # fmt: skip
    patch = {"properties": {"ai_triage_category": "renewal"}}  # our integration's write-back, not a person's
    answer = requests.patch(f"{hubspot.url}/crm/v3/objects/tickets/{hubspot_id(renewal)}", json=patch,
                            headers={"Authorization": f"Bearer {HS_TOKEN}"}, timeout=5)  # fmt: skip
    assert answer.status_code == 200

    puller(hubspot, hubspot_history, tmp_path).run()

    written = rows(tmp_path)
    assert written[hubspot_id(renewal)]["category"] == ""
    assert written[hubspot_id(renewal)]["category_unmapped"].startswith("hs_ticket_category=GENERAL_INQUIRY (ambiguous")
    assert written[hubspot_id(billing)]["category"] == "billing"  # BILLING_ISSUE maps to one label alone


def test_history_is_read_50_tickets_at_a_time(hubspot: FakeHubSpot, hubspot_history: History, tmp_path: Path) -> None:
    puller(hubspot, hubspot_history, tmp_path).run()

    reads = [r.json for r in hubspot.requests if r.path.endswith("/tickets/batch/read")]
    assert reads
    assert all(len(body["inputs"]) <= 50 for body in reads)
    assert max(len(body["inputs"]) for body in reads) == 50
    assert reads[0]["propertiesWithHistory"] == ["hubspot_owner_id", "ai_triage_category", "hs_ticket_category",
                                                 "hs_ticket_priority"]  # fmt: skip


def test_429_without_retry_after_backs_off(hubspot: FakeHubSpot, hubspot_history: History, tmp_path: Path) -> None:
    hubspot.fail_next(429, body={"status": "error", "message": "You have reached your secondly limit.",
                                 "errorType": "RATE_LIMIT", "policyName": "SECONDLY"})  # fmt: skip
    pull = puller(hubspot, hubspot_history, tmp_path)

    pull.run()

    assert pull.recorder.sleeps == [2.0]


def test_resume_after_ctrl_c_writes_exactly_what_an_uninterrupted_pull_writes(
    hubspot_history: History, tmp_path: Path
) -> None:
    reference, resumed = hubspot_fake(hubspot_history, max_results=60), hubspot_fake(hubspot_history, max_results=60)
    try:
        puller(reference, hubspot_history, tmp_path / "straight", search_cap=60).run()
        pull = puller(resumed, hubspot_history, tmp_path / "interrupted", search_cap=60)
        with pytest.raises(KeyboardInterrupt):
            pull.run(on_page=interrupt_after(2))
        result = pull.run()
    finally:
        reference.stop()
        resumed.stop()

    assert result.resumed
    for name in (TICKETS_FILE, BASELINE_FILE):
        assert (tmp_path / "interrupted" / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()


def test_company_names_and_contact_details_are_masked_as_the_live_path_masks_them(
    hubspot: FakeHubSpot, hubspot_history: History, tmp_path: Path
) -> None:
    puller(hubspot, hubspot_history, tmp_path).run()

    written = (tmp_path / TICKETS_FILE).read_text(encoding="utf-8")
    organisations = {t.organisation for t in hubspot_history.tickets}
    signed = [t for t in hubspot_history.tickets if any(o in t.text for o in organisations)]
    assert signed  # some texts name the customer's company
    assert not any(name in written for name in organisations)
    assert not re.search(r"[\w.]+@[\w.]+\.example|ACC-\d+|\+44 20 7946", written)
    assert "[NAME]" in written
