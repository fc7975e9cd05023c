"""The cold-start benchmark's prepared first requests (infra/bench/cold_prepare.py), run as `make bench` runs them:
fresh interpreters against a moto server and the loopback sandboxes.

WritebackFunction, ReviewNotifyFunction and SlackActionsFunction meet the decision TriageFunction made (their
scenario's untimed ``prepare``), serve their first request, reach their vendor, and the reference replays the
same AWS calls on the same prepared state without an error. A few seconds per scenario: every sample runs the
functions upstream first, each in its own interpreter.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "infra" / "bench"
sys.path.insert(0, str(BENCH))

import cold_prepare  # noqa: E402
import cold_start  # noqa: E402
from bench_ingest import secret_values  # noqa: E402
from cold_scenarios import SCENARIOS  # noqa: E402
from local_aws import LocalAws  # noqa: E402

from triage_local.vendors import LocalVendors  # noqa: E402

TICKET = "/api/v2/tickets/40211.json"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cold_start.Bench]:
    """The bench's moto and sandboxes, as bench_ingest.py starts them."""
    vendors = LocalVendors({})
    vendors.sandboxes.slack.per_channel_per_second = None
    vendors.sandboxes.zendesk.ticket_updates_per_10_minutes = None
    workdir = tmp_path_factory.mktemp("bench-cold")
    flags = workdir / "flags.json"
    flags.write_text("{}", encoding="utf-8")
    with vendors, LocalAws(secret_values(vendors.environment())) as aws:
        yield cold_start.Bench(aws, vendors, workdir, flags)


def replays_cleanly(bench: cold_start.Bench, scenario: cold_start.Scenario, found: cold_start.Discovery) -> None:
    replayed = bench.reference_sample(scenario, found, "bytecode")
    assert replayed["response"] == {"calls": len(found.calls), "errors": 0}


def decision() -> str:
    """The decision id TriageFunction gives the sample ticket event (its dedupe key)."""
    return str(json.loads(cold_prepare.triage_event()["Records"][0]["body"])["dedupe_key"])


def operations(found: cold_start.Discovery) -> list[str]:
    return [f"{service}:{operation}" for service, operation, _ in found.calls]


def test_writeback_writes_triages_decision_back_to_the_zendesk_ticket(bench: cold_start.Bench) -> None:
    scenario = SCENARIOS["WritebackFunction"]
    zendesk = bench.vendors.sandboxes.zendesk
    before = len(zendesk.requests)

    found = cold_start.discover(bench, scenario)

    assert found.response == {"batchItemFailures": []}
    [update] = [r for r in zendesk.requests[before:] if (r.method, r.path) == ("PUT", TICKET)]
    assert update.status == 200
    assert update.json["ticket"]["safe_update"] is True  # conditional on the ticket as triage read it
    assert found.vendor_calls == 1  # the ticket as seeded: the update alone, no read first
    assert cold_prepare.ledger(bench).writeback_state(decision())["status"] == "applied"
    replays_cleanly(bench, scenario, found)


def test_review_notify_posts_triages_review_case_to_slack(bench: cold_start.Bench) -> None:
    scenario = SCENARIOS["ReviewNotifyFunction"]
    slack = bench.vendors.sandboxes.slack
    posted_before = len(slack.calls("chat.postMessage"))

    found = cold_start.discover(bench, scenario)

    assert found.response == {"batchItemFailures": []}
    [(_, post)] = slack.calls("chat.postMessage")[posted_before:]
    assert post["channel"] == "#support-triage-review"
    assert operations(found)[-1] == "dynamodb:UpdateItem"  # the case recorded as posted
    assert cold_prepare.review_of(bench, decision())["state"] == "pending"
    replays_cleanly(bench, scenario, found)


def test_slack_actions_claims_the_posted_case_a_reviewer_approves(bench: cold_start.Bench) -> None:
    scenario = SCENARIOS["SlackActionsFunction"]

    found = cold_start.discover(bench, scenario)

    assert found.response == {"statusCode": 200, "body": ""}
    assert operations(found)[-2:] == ["dynamodb:UpdateItem", "sqs:SendMessage"]  # the claim, the approval queued
    [(_, _, queued)] = [call for call in found.calls if call[1] == "SendMessage"]
    assert json.loads(queued["MessageBody"])["verdict"] == "approve"
    assert cold_prepare.review_of(bench, decision())["state"] == "claimed"
    replays_cleanly(bench, scenario, found)


def test_an_acked_click_on_a_case_the_ledger_does_not_hold_is_not_served(bench: cold_start.Bench) -> None:
    scenario = SCENARIOS["SlackActionsFunction"]
    bench.aws.reset()
    posted = cold_prepare.posted_case(bench)  # then the sample's reset empties the ledger: no such decision
    clicked_on_nothing = dataclasses.replace(scenario, prepare=lambda _: posted)

    with pytest.raises(RuntimeError, match="the click claimed no case: no such decision"):
        bench.function_sample(clicked_on_nothing, "bytecode")


def test_the_client_setup_comparison_makes_the_same_clients_both_ways(bench: cold_start.Bench) -> None:
    """The line that says how much of 'over ref' is the functions' faster client setup: both sides make every
    client, each in a fresh interpreter."""
    services = ("dynamodb", "secretsmanager", "sqs")

    setup = cold_start.client_setup(bench, "TriageFunction", services, repeats=1)

    assert setup.services == services
    assert setup.plain_ms.count == setup.functions_ms.count == 1
    assert setup.plain_ms.median > 0
    assert setup.functions_ms.median > 0
    for kind in ("plain", "functions"):
        made = bench.run_child({"kind": "clients", "setup": kind, "services": list(services)},
                               bench.function_env("TriageFunction", "bytecode"))  # fmt: skip
        assert made["response"] == {"clients": 3}
