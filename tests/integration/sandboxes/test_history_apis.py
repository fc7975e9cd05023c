"""The sandboxes' history APIs through `requests`: Zendesk's incremental export, HubSpot's search and batch read."""

from __future__ import annotations

import time
from datetime import timedelta

import requests

from triage_local.sandboxes import FakeHubSpot, FakeZendesk

EXPORT = "/api/v2/incremental/tickets/cursor.json"
SEARCH, BATCH_READ = "/crm/v3/objects/tickets/search", "/crm/v3/objects/tickets/batch/read"
HOUR_AGO = int(time.time()) - 3600
DAY_AGO = int(time.time()) - 86_400


def seed(zendesk: FakeZendesk, count: int) -> None:
    for number in range(count):
        zendesk.add_ticket(500 + number, subject=f"T{number}", description="Hello", group_id=7,
                           requester_id=501, organization_id=77)  # fmt: skip


# Zendesk incremental export -------------------------------------------------------------------------------------
def test_export_pages_by_cursor_to_end_of_stream_in_update_order(zendesk: FakeZendesk, zd: requests.Session) -> None:
    seed(zendesk, 5)
    first = zd.get(f"{zendesk.url}{EXPORT}", params={"start_time": DAY_AGO, "per_page": 4}, timeout=5).json()
    second = zd.get(first["after_url"], timeout=5).json()

    assert (len(first["tickets"]), first["end_of_stream"]) == (4, False)
    assert (len(second["tickets"]), second["end_of_stream"]) == (2, True)
    served = [t["id"] for t in first["tickets"] + second["tickets"]]
    assert sorted(served) == [42, 500, 501, 502, 503, 504]
    stamps = [t["generated_timestamp"] for t in first["tickets"] + second["tickets"]]
    assert stamps == sorted(stamps)
    assert second["after_url"].endswith(f"cursor={second['after_cursor']}")


def test_export_sideloads_one_metric_set_per_ticket_and_the_people(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.agent_update(42, group_id=7, assignee_id=900_002)
    zendesk.agent_update(42, group_id=8)
    zendesk.export.configure(lag_seconds=-5)  # serve what just happened (two updates stamp a second ahead)

    params = {"start_time": DAY_AGO, "include": "metric_sets,users,organizations"}
    body = zd.get(f"{zendesk.url}{EXPORT}", params=params, timeout=5).json()

    metrics = {m["ticket_id"]: m for m in body["metric_sets"]}
    assert metrics[42]["group_stations"] == 2  # derived from the audits: two groups
    assert metrics[42]["initially_assigned_at"] is not None
    assert [u["name"] for u in body["users"]][:1] == ["Ada"]
    assert [o["name"] for o in body["organizations"]] == ["Acme"]


def test_export_lists_deleted_tickets_unless_asked_not_to(zendesk: FakeZendesk, zd: requests.Session) -> None:
    zendesk.add_ticket(600, status="deleted", age=timedelta(hours=2))

    listed = zd.get(f"{zendesk.url}{EXPORT}", params={"start_time": DAY_AGO}, timeout=5).json()["tickets"]
    kept = zd.get(f"{zendesk.url}{EXPORT}", params={"start_time": DAY_AGO, "exclude_deleted": "true"}, timeout=5)

    assert {t["id"]: t["status"] for t in listed}[600] == "deleted"
    assert 600 not in {t["id"] for t in kept.json()["tickets"]}


def test_export_leaves_out_the_last_minute_and_refuses_bad_parameters(
    zendesk: FakeZendesk, zd: requests.Session
) -> None:
    zendesk.agent_update(42, priority="high")  # updated just now: not served yet
    url = f"{zendesk.url}{EXPORT}"

    assert zd.get(url, params={"start_time": HOUR_AGO - 7200}, timeout=5).json()["tickets"] == []
    assert zd.get(url, params={"start_time": int(time.time())}, timeout=5).status_code == 400
    assert zd.get(url, timeout=5).status_code == 400
    assert zd.get(url, params={"cursor": "not-a-cursor!"}, timeout=5).json()["error"] == "InvalidPaginationParameter"
    assert zd.get(url, params={"start_time": DAY_AGO, "per_page": 1001}, timeout=5).status_code == 400
    assert requests.get(url, params={"start_time": DAY_AGO}, timeout=5).status_code == 401


def test_export_allows_ten_requests_a_minute_then_429_with_retry_after(
    zendesk: FakeZendesk, zd: requests.Session
) -> None:
    url = f"{zendesk.url}{EXPORT}"
    statuses = [zd.get(url, params={"start_time": DAY_AGO}, timeout=5).status_code for _ in range(10)]
    refused = zd.get(url, params={"start_time": DAY_AGO}, timeout=5)

    assert statuses == [200] * 10
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert zd.get(f"{zendesk.url}/api/v2/tickets/42.json", timeout=5).status_code == 200  # its own limit only


def test_an_update_during_the_export_brings_the_ticket_round_again(zendesk: FakeZendesk, zd: requests.Session) -> None:
    seed(zendesk, 3)
    zendesk.export.update_after_export(500, {"group_stations": 2}, group_id=9)

    first = zd.get(f"{zendesk.url}{EXPORT}", params={"start_time": DAY_AGO, "per_page": 2, "include": "metric_sets"},
                   timeout=5).json()  # fmt: skip
    rest = zd.get(first["after_url"] + "&include=metric_sets", timeout=5).json()

    ids = [t["id"] for t in first["tickets"] + rest["tickets"]]
    assert ids.count(500) == 2
    assert rest["tickets"][-1]["group_id"] == 9
    assert rest["metric_sets"][-1]["group_stations"] == 2


# HubSpot search and batch read -----------------------------------------------------------------------------------
def window_query(after: int = 0, limit: int = 2) -> dict[str, object]:
    return {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GTE", "value": "0"},
                                          {"propertyName": "createdate", "operator": "LT",
                                           "value": str(int(time.time() * 1000) + 1000)}]}],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "properties": ["subject"], "limit": limit, "after": str(after)}  # fmt: skip


def test_search_pages_with_after_and_reports_the_total(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    for number in range(4):
        hubspot.add_ticket(2000 + number, subject=f"T{number}", createdate=f"2026-0{number + 1}-01T00:00:00.000Z")

    first = hs.post(f"{hubspot.url}{SEARCH}", json=window_query(), timeout=5).json()
    second = hs.post(f"{hubspot.url}{SEARCH}", json=window_query(after=2), timeout=5).json()

    assert first["total"] == 5
    assert first["paging"]["next"]["after"] == "2"
    assert [r["id"] for r in first["results"]] == ["2000", "2001"]
    assert [r["properties"]["subject"] for r in second["results"]] == ["T2", "T3"]


def test_search_refuses_big_pages_and_paging_past_its_cap(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    hubspot.search.configure(max_results=2)

    too_big = hs.post(f"{hubspot.url}{SEARCH}", json=window_query(limit=201), timeout=5)
    past_cap = hs.post(f"{hubspot.url}{SEARCH}", json=window_query(after=2), timeout=5)

    assert too_big.status_code == 400
    assert "limit" in too_big.json()["message"]
    assert past_cap.status_code == 400
    assert past_cap.json()["category"] == "VALIDATION_ERROR"


def test_search_has_its_own_secondly_limit_answered_without_retry_after(
    hubspot: FakeHubSpot, hs: requests.Session
) -> None:
    answers = [hs.post(f"{hubspot.url}{SEARCH}", json=window_query(), timeout=5) for _ in range(6)]

    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == 429
    assert "Retry-After" not in answers[5].headers
    assert answers[5].json()["policyName"] == "SECONDLY"


def test_batch_read_gives_history_newest_first_and_207_for_missing_ids(
    hubspot: FakeHubSpot, hs: requests.Session
) -> None:
    hubspot.agent_update(1001, hs_ticket_priority="HIGH")
    body = {"inputs": [{"id": "1001"}, {"id": "404"}], "properties": ["subject"],
            "propertiesWithHistory": ["hs_ticket_priority"]}  # fmt: skip

    answer = hs.post(f"{hubspot.url}{BATCH_READ}", json=body, timeout=5)

    assert answer.status_code == 207
    result = answer.json()["results"][0]
    assert [e["value"] for e in result["propertiesWithHistory"]["hs_ticket_priority"]] == ["HIGH", "LOW"]
    assert answer.json()["errors"][0]["context"] == {"ids": ["404"]}


def test_batch_read_with_history_takes_at_most_50_inputs(hubspot: FakeHubSpot, hs: requests.Session) -> None:
    body = {"inputs": [{"id": str(i)} for i in range(51)], "propertiesWithHistory": ["hubspot_owner_id"]}

    answer = hs.post(f"{hubspot.url}{BATCH_READ}", json=body, timeout=5)

    assert answer.status_code == 400
    assert (
        "maximum number of inputs supported in a batch request for property histories is 50"
        in (answer.json()["message"])
    )
    assert requests.post(f"{hubspot.url}{BATCH_READ}", json=body, timeout=5).status_code == 401


def test_ticket_companies_are_read_through_v4_associations_and_a_companies_batch_read(
    hubspot: FakeHubSpot, hs: requests.Session
) -> None:
    links = hs.post(f"{hubspot.url}/crm/v4/associations/tickets/companies/batch/read",
                    json={"inputs": [{"id": "1001"}, {"id": "404"}]}, timeout=5).json()  # fmt: skip
    company_ids = [str(to["toObjectId"]) for result in links["results"] for to in result["to"]]
    wanted = {"inputs": [{"id": c} for c in company_ids], "properties": ["name"]}
    companies = hs.post(f"{hubspot.url}/crm/v3/objects/companies/batch/read", json=wanted, timeout=5)

    assert [result["from"]["id"] for result in links["results"]] == ["1001"]  # 404 has no companies
    assert [c["properties"]["name"] for c in companies.json()["results"]] == ["Acme"]
