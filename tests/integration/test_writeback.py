"""Write-back end to end: WritebackService with the real Zendesk/HubSpot writers against the loopback fakes,
and WritebackFunction's handler against moto (template's DecisionsTable, ActionsQueue and ActionsDlq)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.integration.conftest import Stack, load_handler
from tests.triage_fakes import harness, ticket_event
from tests.triage_fakes import policy as small_policy
from triage_gate import config, wiring
from triage_gate.adapters import aws, vendor_http
from triage_gate.adapters.decisions_table import DynamoDecisionStore
from triage_gate.adapters.memory import InMemoryDecisionStore, StaticSecrets
from triage_gate.adapters.vendor_writers import NOTE_TO_TICKET, HubSpotWriter, ZendeskWriter
from triage_gate.config import VendorSecrets
from triage_gate.errors import RateLimited, TransientVendorError
from triage_gate.policy import Policy, load_policy
from triage_gate.triage.decision import DecisionMessage, DecisionRecord, TaskDecision, TicketSnapshot
from triage_gate.writeback.plan import decision_ref, plan_writeback
from triage_gate.writeback.service import MAX_CONFLICTS, WritebackService
from triage_local.sandboxes import FakeHubSpot, FakeZendesk
from triage_local.sandboxes.hubspot import HUMAN_USER_ID
from triage_local.sandboxes.zendesk import HUMAN_AGENT_ID
from triage_local.worker import LocalLambdaContext

ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "writeback@example.com", "zd-writeback-token", "hs-writeback-token"
ZD_TICKET, HS_TICKET = 40198, 19800231
GROUPS = (36002117, 36002118, 36002119, 36002120, 36002121)
CATEGORY_FIELD, OTHER_FIELD = 360011112222, 360099990000
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- helpers
class RecordedSleeps:
    """Stands in for the `time` module inside vendor_http: real monotonic clock, sleeps recorded, not slept."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.monotonic = time.monotonic

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def decision(
    *,
    source: str = "zendesk",
    mode: str = "auto",
    action: str = "apply",
    labels: dict[str, tuple[str, float]] | None = None,
    event_id: str = "01J9ZK3M6Y",
    snapshot: TicketSnapshot | None = None,
) -> DecisionRecord:
    """A decision record as TriageFunction stores it for the shipped policy's workflows."""
    zendesk = source == "zendesk"
    if labels is None:
        labels = {"category": ("bug", 0.91), "priority": ("high", 0.66)} if zendesk else {
            "category": ("billing", 0.88), "priority": ("HIGH", 0.71)}  # fmt: skip
    ticket, account = (str(ZD_TICKET), "90817263") if zendesk else (str(HS_TICKET), "4471")
    tasks = {
        task: TaskDecision(label=label, reported_confidence=min(conf + 0.05, 1.0), calibrated_confidence=conf,
                           threshold=0.5, route="haiku", model="claude-haiku-4-5")
        for task, (label, conf) in labels.items()
    }  # fmt: skip
    return DecisionRecord(
        decision_id=f"{source}:{account}:{event_id}", correlation_id=f"{source}:{ticket}", source=source,
        account_id=account, ticket_id=ticket, event_id=event_id, event_type="ticket.created",
        workflow="zendesk-support" if zendesk else "hubspot-tickets", policy_version="2026-11-27.1",
        policy_sha256="0" * 64, prompt_version="classify-v1", created_at=CREATED, occurred_at=CREATED,
        mode=mode, action=action, proposed_action="apply", input_hash="0" * 64, tasks=tasks,  # type: ignore[arg-type]
        snapshot=snapshot,
    )  # fmt: skip


def as_read(zendesk: FakeZendesk) -> TicketSnapshot:
    """The Zendesk ticket as a decision reads it now (its stamp: what the update is conditional on)."""
    ticket = zendesk.ticket(ZD_TICKET)
    return TicketSnapshot(updated_at=ticket["updated_at"], created_at=ticket["created_at"])


def ticket_updates(zendesk: FakeZendesk) -> list[dict[str, Any]]:
    return [r.json["ticket"] for r in zendesk.requests if r.method == "PUT" and r.path.endswith(f"/{ZD_TICKET}.json")]


def notes_with_ref(zendesk: FakeZendesk, record: DecisionRecord) -> list[dict[str, Any]]:
    ref = decision_ref(record.decision_id)
    return [c for c in zendesk.comments_for(ZD_TICKET) if ref in c["body"]]


def vendor_calls(sandbox: Any, method: str | None = None) -> list[str]:
    return [f"{r.method} {r.path}" for r in sandbox.requests if method is None or r.method == method]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def shipped_policy() -> Policy:
    return load_policy()


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> RecordedSleeps:
    recorder = RecordedSleeps()
    monkeypatch.setattr(vendor_http, "time", recorder)
    return recorder


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as fake:
        for group in GROUPS:
            fake.add_group(group)
        fake.add_user(501, name="Ada", email="ada@acme.test")
        fake.add_ticket(
            ZD_TICKET, subject="Export fails", description="Export to CSV fails with error 500", priority="normal",
            type="incident", group_id=36002119, tags=["vip", "web_form"], requester_id=501,
            custom_fields=[{"id": OTHER_FIELD, "value": "keep-me"}],
        )  # fmt: skip
        yield fake


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(HS_TOKEN) as fake:
        fake.allow_properties("ai_triage_category")
        fake.add_ticket(HS_TICKET, subject="Invoice question", content="Where is my PO?", hs_ticket_priority="LOW")
        yield fake


@pytest.fixture
def ledger() -> InMemoryDecisionStore:
    return InMemoryDecisionStore()


@pytest.fixture
def service(
    shipped_policy: Policy, zendesk: FakeZendesk, hubspot: FakeHubSpot, ledger: InMemoryDecisionStore
) -> WritebackService:
    secrets = StaticSecrets(
        VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN, HUBSPOT_ACCESS_TOKEN=HS_TOKEN)  # type: ignore[arg-type]
    )
    writers: dict[str, Any] = {
        "zendesk": ZendeskWriter(secrets, zendesk.url),
        "hubspot": HubSpotWriter(secrets, hubspot.url),
    }
    return WritebackService(shipped_policy, writers, ledger)


@pytest.fixture
def deliver(service: WritebackService, ledger: InMemoryDecisionStore) -> Callable[..., Any]:
    """Store the decision (as TriageFunction did), then hand its ActionsQueue message to write-back."""

    def run(record: DecisionRecord, seconds: float = 30.0) -> Any:
        ledger.create(record)
        return service.process(DecisionMessage.from_record(record), time.monotonic() + seconds)

    return run


# ---------------------------------------------------------------- applied in each mode
def test_auto_mode_sets_zendesk_fields_adds_tags_and_an_internal_note(deliver, zendesk, ledger):
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "applied"
    ticket = zendesk.ticket(ZD_TICKET)
    assert ticket["group_id"] == 36002118
    assert ticket["priority"] == "high"
    assert ticket["type"] == "problem"
    assert {"id": CATEGORY_FIELD, "value": "bug"} in ticket["custom_fields"]
    assert {"ai_triaged", "ai_bug"} <= set(ticket["tags"])
    [note] = notes_with_ref(zendesk, record)
    assert note["public"] is False
    assert "bug (calibrated confidence 0.91)" in note["body"]
    assert ledger.records[record.decision_id].writeback["status"] == "applied"
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields", "note"]


def test_auto_mode_is_one_safe_update_with_added_tags_and_never_the_tags_field(deliver, zendesk):
    snapshot = as_read(zendesk)

    deliver(decision(snapshot=snapshot))

    [update] = ticket_updates(zendesk)
    assert "tags" not in update  # Zendesk's `tags` replaces the list: an agent's tags would be lost
    assert update["additional_tags"] == ["ai_triaged", "ai_bug"]
    assert (update["safe_update"], update["updated_stamp"]) == (True, snapshot.updated_at)
    assert update["comment"]["public"] is False
    assert update["priority"] == "high"
    assert vendor_calls(zendesk) == [f"PUT /api/v2/tickets/{ZD_TICKET}.json"]  # fields, tags and note at once


def test_auto_mode_keeps_the_tickets_existing_tags(deliver, zendesk):
    deliver(decision())

    tags = zendesk.ticket(ZD_TICKET)["tags"]
    assert tags[:2] == ["vip", "web_form"]
    assert set(tags) == {"vip", "web_form", "ai_triaged", "ai_bug"}


def test_auto_mode_keeps_other_custom_fields(deliver, zendesk):
    deliver(decision())

    assert {"id": OTHER_FIELD, "value": "keep-me"} in zendesk.ticket(ZD_TICKET)["custom_fields"]


def test_assist_mode_adds_only_an_internal_note_and_leaves_fields_unchanged(deliver, zendesk, ledger):
    before = zendesk.ticket(ZD_TICKET)
    record = decision(mode="assist", snapshot=as_read(zendesk))

    outcome = deliver(record)

    assert outcome.status == "applied"
    after = zendesk.ticket(ZD_TICKET)
    for field in ("group_id", "priority", "type", "tags", "custom_fields"):
        assert after[field] == before[field], field
    [note] = notes_with_ref(zendesk, record)
    assert note["public"] is False
    assert note["body"].startswith("AI triage suggests:")
    assert vendor_calls(zendesk) == [f"PUT /api/v2/tickets/{ZD_TICKET}.json"]  # the note, nothing else
    assert ledger.records[record.decision_id].writeback["steps"] == ["note"]


def test_no_public_comment_is_ever_written(deliver, zendesk):
    deliver(decision())
    deliver(decision(mode="assist", event_id="second-event"))

    written = [c for c in zendesk.comments_for(ZD_TICKET) if c["author_id"] == zendesk.agent_id]
    assert len(written) == 2
    assert not any(c["public"] for c in written)


def test_shadow_decisions_are_never_routed_to_write_back():
    h = harness(small_policy(mode="shadow"))

    outcome = h.service.process(ticket_event())

    assert outcome.record is not None
    assert outcome.record.action == "record"
    assert h.actions.bodies == []


def test_a_message_whose_action_is_not_apply_is_skipped_without_vendor_calls(service, ledger, zendesk):
    record = decision(action="review")
    ledger.create(record)

    outcome = service.process(DecisionMessage.from_record(record), time.monotonic() + 30)

    assert outcome.status == "skipped"
    assert zendesk.requests == []
    assert ledger.records[record.decision_id].writeback is None


# ---------------------------------------------------------------- HubSpot
def test_hubspot_auto_mode_patches_properties_and_associates_a_note(deliver, hubspot, ledger):
    record = decision(source="hubspot")

    outcome = deliver(record)

    assert outcome.status == "applied"
    props = hubspot.ticket(HS_TICKET)["properties"]
    assert props["hs_ticket_category"] == "BILLING_ISSUE"
    assert props["ai_triage_category"] == "billing"
    assert props["hs_ticket_priority"] == "HIGH"
    [note] = hubspot.notes_for(HS_TICKET)
    assert decision_ref(record.decision_id) in note["properties"]["hs_note_body"]
    [post] = [r for r in hubspot.requests if r.method == "POST"]
    assert post.json["associations"][0]["types"][0]["associationTypeId"] == NOTE_TO_TICKET
    assert ledger.records[record.decision_id].writeback["status"] == "applied"


def test_hubspot_assist_mode_adds_only_a_note(deliver, hubspot):
    record = decision(source="hubspot", mode="assist")

    deliver(record)

    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "LOW"
    assert vendor_calls(hubspot, "PATCH") == []
    assert len(hubspot.notes_for(HS_TICKET)) == 1


def test_hubspot_redelivered_action_adds_one_note(deliver, hubspot):
    record = decision(source="hubspot")

    deliver(record)
    again = deliver(record)

    assert again.status == "already_applied"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert len(vendor_calls(hubspot, "PATCH")) == 1


def test_hubspot_rate_limit_on_the_note_is_retried_and_adds_one_note(deliver, hubspot, ledger):
    record = decision(source="hubspot")
    hubspot.window.limit = 2  # the read and the PATCH take both slots: the note POST gets HubSpot's 429

    with pytest.raises(RateLimited) as raised:
        deliver(record, seconds=5)
    hubspot.window.limit = None
    again = deliver(record)

    assert raised.value.retry_after == vendor_http.DEFAULT_RETRY_AFTER
    assert again.status == "applied"
    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "HIGH"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert "POST /crm/v3/objects/notes/search" in vendor_calls(hubspot)  # looked before posting again
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields", "note"]


def test_hubspot_property_missing_in_the_portal_fails_and_is_recorded(deliver, hubspot, ledger):
    hubspot.ticket_properties.discard("ai_triage_category")
    record = decision(source="hubspot")

    outcome = deliver(record)

    assert outcome.status == "failed"
    state = ledger.records[record.decision_id].writeback
    assert state["status"] == "failed"
    assert state["http_status"] == 400
    assert "ai_triage_category" in state["error"]
    assert len(vendor_calls(hubspot, "PATCH")) == 1  # not retried
    assert hubspot.notes_for(HS_TICKET) == []


# ---------------------------------------------------------------- 429 storm
def test_zendesk_429_storm_is_waited_out_within_the_deadline_and_applied(deliver, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=2)
    record = decision()

    outcome = deliver(record, seconds=30)

    assert outcome.status == "applied"
    assert sleeps.calls == [1.0, 1.0]
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118
    assert len(notes_with_ref(zendesk, record)) == 1


def test_zendesk_429_longer_than_the_time_left_is_raised_without_sleeping(deliver, zendesk, sleeps, ledger):
    zendesk.fail_next(429, headers={"Retry-After": "30"})
    record = decision()

    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        deliver(record, seconds=10)
    elapsed = time.monotonic() - started

    assert raised.value.retry_after == 30.0
    assert sleeps.calls == []
    assert elapsed < 2.0
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002119
    assert ledger.records[record.decision_id].writeback is None  # nothing recorded: the message goes back


def test_zendesk_429_is_raised_after_too_many_waits_even_with_time_left(deliver, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=vendor_http.MAX_RATE_LIMIT_WAITS + 1)

    with pytest.raises(RateLimited):
        deliver(decision(), seconds=60)

    assert len(sleeps.calls) == vendor_http.MAX_RATE_LIMIT_WAITS


# ---------------------------------------------------------------- 5xx and timeouts
def test_persistent_500_gives_up_after_bounded_retries(deliver, zendesk, ledger):
    zendesk.fail_next(500, times=50)
    record = decision()

    with pytest.raises(TransientVendorError) as raised:
        deliver(record)

    assert raised.value.status == 500
    assert len(zendesk.requests) == vendor_http.MAX_TRANSIENT_RETRIES + 1
    assert ledger.records[record.decision_id].writeback is None  # not a failure: the queue redelivers


def test_a_500_that_clears_within_the_retries_is_applied(deliver, zendesk):
    zendesk.fail_next(503, times=vendor_http.MAX_TRANSIENT_RETRIES)

    outcome = deliver(decision())

    assert outcome.status == "applied"
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"


def test_update_that_landed_but_answered_502_is_not_written_twice(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    original_handle = zendesk.handle
    lost = {"left": 1}

    def handle(request: Any) -> Any:
        from triage_local.sandboxes.base import Reply

        reply = original_handle(request)
        if request.method == "PUT" and lost["left"] > 0:  # the update landed; its answer did not
            lost["left"] -= 1
            return Reply(502, {"error": "BadGateway"})
        return reply

    zendesk.handle = handle  # type: ignore[method-assign]

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    # The repeat of the conditional update met the changed stamp (409); the re-read found our note.
    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [502, 409, 200]
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"


def test_update_502_before_it_landed_is_repeated_and_applied_once(deliver, zendesk):
    record = decision(snapshot=as_read(zendesk))
    zendesk.fail_next(502)

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118


def test_a_slow_vendor_answer_to_the_note_does_not_produce_a_second_note(deliver, zendesk, monkeypatch):
    real_request = requests.Session.request

    def short_read_timeout(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        kwargs["timeout"] = (1.0, 0.3)  # the vendor is slower than our read timeout
        return real_request(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", short_read_timeout)
    zendesk.hang_next(0.6)  # the note (assist mode: the only request) is answered late, but it IS written
    record = decision(mode="assist")

    try:
        deliver(record)
    except TransientVendorError:  # what a fix may do: give up, and let the queue redeliver later
        time.sleep(0.5)
        deliver(record)  # the redelivery looks for the note before writing it
    time.sleep(0.5)  # let the slow request finish on the server

    assert len(notes_with_ref(zendesk, record)) == 1


# ---------------------------------------------------------------- exactly once
def test_redelivered_action_produces_one_note(deliver, zendesk, ledger):
    record = decision()

    first = deliver(record)
    second = deliver(record)

    assert (first.status, second.status) == ("applied", "already_applied")
    assert len(notes_with_ref(zendesk, record)) == 1
    assert zendesk.ticket(ZD_TICKET)["tags"].count("ai_bug") == 1
    assert len(ticket_updates(zendesk)) == 1


def test_interrupted_after_the_update_landed_does_not_write_the_note_again(service, shipped_policy, ledger, zendesk):
    record = decision(snapshot=as_read(zendesk))
    message = DecisionMessage.from_record(record)
    ledger.create(record)
    # The previous attempt sent the update (it landed) and died before recording it.
    writer = ZendeskWriter(StaticSecrets(VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN)),  # type: ignore[arg-type]
                           zendesk.url)  # fmt: skip
    plan = plan_writeback(message, shipped_policy.workflows["zendesk-support"])
    writer.update(plan, record.snapshot.updated_at if record.snapshot else None, time.monotonic() + 10)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["fields", "note"]})
    zendesk.clear_requests()

    outcome = service.process(message, time.monotonic() + 30)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    [update] = ticket_updates(zendesk)
    assert "comment" not in update  # looked at the audits, found the note, sent the fields only
    assert ledger.records[record.decision_id].writeback["steps"] == ["fields"]


def test_interrupted_before_the_update_reached_the_vendor_writes_it_once(service, ledger, zendesk):
    record = decision(snapshot=as_read(zendesk))
    ledger.create(record)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["fields", "note"]})

    outcome = service.process(DecisionMessage.from_record(record), time.monotonic() + 30)

    assert outcome.status == "applied"
    assert len(notes_with_ref(zendesk, record)) == 1
    assert len(ticket_updates(zendesk)) == 1


def test_two_deliveries_of_one_action_processed_at_once_produce_one_note(service, ledger, zendesk):
    record = decision(mode="assist")
    ledger.create(record)
    message = DecisionMessage.from_record(record)
    original_handle = zendesk.handle

    def slow_note_writes(request: Any) -> Any:
        if request.method == "PUT":
            time.sleep(0.5)  # the vendor is a little slow to write: both instances are mid-write at once
        return original_handle(request)

    zendesk.handle = slow_note_writes  # type: ignore[method-assign]
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def instance() -> None:
        start.wait()
        try:
            outcomes.append(service.process(message, time.monotonic() + 30))
        except TransientVendorError as exc:  # the loser goes back to the queue and finds it done later
            outcomes.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(outcomes) == 2
    assert len(notes_with_ref(zendesk, record)) == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["TransientVendorError", "WritebackOutcome"]
    assert service.process(message, time.monotonic() + 30).status == "already_applied"


def test_a_note_from_another_decision_does_not_count_as_ours(deliver, service, ledger, zendesk):
    earlier = decision(event_id="earlier-event")
    deliver(earlier)
    record = decision(mode="assist")
    ledger.create(record)
    ledger.set_writeback(record.decision_id, {"status": "in_progress", "steps": ["note"]})

    service.process(DecisionMessage.from_record(record), time.monotonic() + 30)

    assert len(notes_with_ref(zendesk, record)) == 1
    assert len(notes_with_ref(zendesk, earlier)) == 1


# ---------------------------------------------------------------- rejected by the vendor
def test_zendesk_422_fails_is_recorded_on_the_decision_and_not_retried(deliver, zendesk, ledger):
    zendesk.fail_next(422, body={"error": "RecordInvalid", "description": "Record validation errors",
                                 "details": {"group_id": [{"description": "Group id: is invalid"}]}})  # fmt: skip
    record = decision()

    outcome = deliver(record)
    again = deliver(record)

    assert outcome.status == "failed"
    state = ledger.records[record.decision_id].writeback
    assert state["status"] == "failed"
    assert state["http_status"] == 422
    assert "RecordInvalid" in state["error"]
    assert len(zendesk.requests) == 1  # neither retried in the call nor on redelivery
    assert again.status == "already_applied"
    assert notes_with_ref(zendesk, record) == []
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002119


def test_zendesk_unknown_group_is_a_recorded_failure(deliver, zendesk, ledger):
    zendesk.groups.pop(36002118)  # the policy maps bug → a group deleted in Zendesk
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "failed"
    assert ledger.records[record.decision_id].writeback["http_status"] == 422
    assert "group_id" in ledger.records[record.decision_id].writeback["error"]


def test_zendesk_400_on_the_update_is_a_recorded_failure_that_changed_nothing(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    zendesk.fail_next(400, body={"error": "InvalidParameter", "description": "bad comment"})

    outcome = deliver(record)

    state = ledger.records[record.decision_id].writeback
    assert outcome.status == "failed"
    assert (state["status"], state["http_status"], state["steps"]) == ("failed", 400, [])
    assert zendesk.ticket(ZD_TICKET)["priority"] == "normal"
    assert notes_with_ref(zendesk, record) == []


def test_deleted_zendesk_ticket_is_a_recorded_failure(deliver, zendesk, ledger):
    zendesk.tickets.pop(ZD_TICKET)
    record = decision()

    outcome = deliver(record)

    assert outcome.status == "failed"
    assert ledger.records[record.decision_id].writeback["http_status"] == 404


def test_wrong_zendesk_token_is_retried_through_the_queue_not_dropped(shipped_policy, zendesk, ledger):
    secrets = StaticSecrets(VendorSecrets(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN="wrong"))  # type: ignore[arg-type]
    service = WritebackService(shipped_policy, {"zendesk": ZendeskWriter(secrets, zendesk.url)}, ledger)
    record = decision()
    ledger.create(record)

    # Credentials are configuration: the action goes back to the queue (then the DLQ alarm), never dropped.
    with pytest.raises(TransientVendorError, match="401"):
        service.process(DecisionMessage.from_record(record), time.monotonic() + 30)

    assert ledger.records[record.decision_id].writeback is None
    assert len(zendesk.requests) == 1


# ---------------------------------------------------------------- a human's change is final
def test_a_field_a_person_changes_before_the_write_lands_is_kept_and_recorded(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, priority="urgent"))

    outcome = deliver(record)

    ticket = zendesk.ticket(ZD_TICKET)
    assert outcome.status == "applied"
    assert ticket["priority"] == "urgent"  # the agent's value, not the AI's "high"
    assert ticket["group_id"] == 36002118  # what nobody touched is still applied
    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [409, 200]
    kept = ledger.records[record.decision_id].writeback["human_kept"]
    assert kept == {"priority": {"value": "urgent", "by": str(HUMAN_AGENT_ID), "at": kept["priority"]["at"]}}
    [note] = notes_with_ref(zendesk, record)
    assert "Kept what a person set: priority" in note["body"]


def test_an_agents_tag_added_meanwhile_survives_the_write(deliver, zendesk):
    record = decision(snapshot=as_read(zendesk))
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, additional_tags=["escalated"]))

    deliver(record)

    assert {"vip", "web_form", "escalated", "ai_triaged", "ai_bug"} <= set(zendesk.ticket(ZD_TICKET)["tags"])


def test_a_field_a_person_set_before_the_decision_is_never_overwritten(deliver, zendesk, ledger):
    zendesk.agent_update(ZD_TICKET, group_id=36002121)  # triaged by hand before the AI got to it
    record = decision(snapshot=as_read(zendesk))  # updated_at is past created_at: write-back reads the audits

    outcome = deliver(record)

    assert outcome.status == "applied"
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002121
    assert zendesk.ticket(ZD_TICKET)["priority"] == "high"
    assert set(ledger.records[record.decision_id].writeback["human_kept"]) == {"group_id"}
    assert f"GET /api/v2/tickets/{ZD_TICKET}/audits.json" in vendor_calls(zendesk)


def test_our_own_earlier_write_is_not_taken_for_a_person(deliver, zendesk, ledger):
    earlier = decision(event_id="earlier", mode="auto", snapshot=as_read(zendesk))
    deliver(earlier)
    record = decision(event_id="later", labels={"category": ("billing", 0.9), "priority": ("low", 0.9)})

    deliver(record)  # no snapshot: read first; the audits show only our API user changed the fields

    assert ledger.records[record.decision_id].writeback["human_kept"] == {}
    assert zendesk.ticket(ZD_TICKET)["priority"] == "low"


def test_a_ticket_that_keeps_changing_is_retried_later_not_forced(deliver, zendesk, ledger):
    record = decision(snapshot=as_read(zendesk))
    original_handle = zendesk.handle

    def always_changed(request: Any) -> Any:
        if request.method == "PUT":
            zendesk.agent_update(ZD_TICKET, subject=f"edit {time.monotonic()}")
        return original_handle(request)

    zendesk.handle = always_changed  # type: ignore[method-assign]

    with pytest.raises(TransientVendorError, match="kept changing"):
        deliver(record)

    assert [r.status for r in zendesk.requests if r.method == "PUT"] == [409] * MAX_CONFLICTS
    assert ledger.records[record.decision_id].writeback["status"] == "in_progress"


def test_a_reviewers_answer_overrides_changes_made_before_the_click_but_not_after(service, zendesk, ledger):
    zendesk.agent_update(ZD_TICKET, priority="low")  # seen by the reviewer (the stale-ticket warning)
    clicked = as_read(zendesk)
    zendesk.before_next_update(ZD_TICKET, lambda: zendesk.agent_update(ZD_TICKET, group_id=36002121))
    record = decision(snapshot=clicked)
    ledger.create(record)
    message = DecisionMessage.from_record(record).model_copy(update={"authority": "reviewer"})

    outcome = service.process(message, time.monotonic() + 30)

    ticket = zendesk.ticket(ZD_TICKET)
    assert outcome.status == "applied"
    assert ticket["priority"] == "high"  # the reviewer approved over the earlier change
    assert ticket["group_id"] == 36002121  # but a change after the click is a person's, and final


def test_a_label_outside_the_taxonomy_is_never_applied(service, ledger, zendesk):
    record = decision()
    ledger.create(record)
    message = DecisionMessage.from_record(record).model_copy(update={"labels": {"category": "free_money"}})

    outcome = service.process(message, time.monotonic() + 30)

    assert outcome.status == "failed"
    assert "label_not_in_taxonomy" in (outcome.detail or "")
    assert zendesk.requests == []


def test_hubspot_property_a_person_set_is_kept(deliver, hubspot, ledger):
    hubspot.agent_update(HS_TICKET, hs_ticket_priority="URGENT")
    record = decision(source="hubspot")

    deliver(record)

    props = hubspot.ticket(HS_TICKET)["properties"]
    assert props["hs_ticket_priority"] == "URGENT"
    assert props["hs_ticket_category"] == "BILLING_ISSUE"
    kept = ledger.records[record.decision_id].writeback["human_kept"]
    assert kept["hs_ticket_priority"]["by"] == str(HUMAN_USER_ID)
    [patch] = [r for r in hubspot.requests if r.method == "PATCH"]
    assert "hs_ticket_priority" not in patch.json["properties"]


def test_hubspot_our_own_earlier_patch_is_not_a_person(deliver, hubspot, ledger):
    deliver(decision(source="hubspot", event_id="earlier"))
    record = decision(
        source="hubspot", event_id="later", labels={"category": ("renewal", 0.9), "priority": ("LOW", 0.9)}
    )

    deliver(record)

    assert ledger.records[record.decision_id].writeback["human_kept"] == {}
    assert hubspot.ticket(HS_TICKET)["properties"]["hs_ticket_priority"] == "LOW"


def test_hubspot_note_retry_after_an_ambiguous_failure_posts_one_note(deliver, hubspot):
    record = decision(source="hubspot")
    original_handle = hubspot.handle
    lost = {"left": 1}

    def handle(request: Any) -> Any:
        from triage_local.sandboxes.base import Reply

        reply = original_handle(request)
        if request.method == "POST" and request.path == "/crm/v3/objects/notes" and lost["left"]:
            lost["left"] -= 1
            return Reply(502, {"status": "error", "message": "Bad gateway"})  # the note WAS created
        return reply

    hubspot.handle = handle  # type: ignore[method-assign]

    with pytest.raises(TransientVendorError):
        deliver(record)
    again = deliver(record)

    assert again.status == "applied"
    assert len(hubspot.notes_for(HS_TICKET)) == 1
    assert "POST /crm/v3/objects/notes/search" in vendor_calls(hubspot)


# ---------------------------------------------------------------- WritebackFunction's handler (moto)
class SqsSpy:
    """The moto SQS client, with change_message_visibility calls recorded."""

    def __init__(self, inner: Any, calls: list[dict[str, Any]]) -> None:
        self._inner, self._calls = inner, calls

    def change_message_visibility(self, **kwargs: Any) -> Any:
        self._calls.append(kwargs)
        return self._inner.change_message_visibility(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Writeback:
    def __init__(self, stack: Stack, module: ModuleType, visibility_calls: list[dict[str, Any]]) -> None:
        self.stack, self.module, self.visibility_calls = stack, module, visibility_calls
        self.decisions = DynamoDecisionStore(stack.url("DecisionsTable"), stack.ddb)

    def enqueue(self, record: DecisionRecord) -> None:
        """What TriageFunction does for an apply decision: store it, send its message to ActionsQueue."""
        self.decisions.create(record)
        body = DecisionMessage.from_record(record).model_dump_json()
        self.stack.sqs.send_message(QueueUrl=self.stack.url("ActionsQueue"), MessageBody=body)

    def receive(self, visibility_timeout: int | None = None) -> list[dict[str, Any]]:
        extra = {} if visibility_timeout is None else {"VisibilityTimeout": visibility_timeout}
        got = self.stack.sqs.receive_message(QueueUrl=self.stack.url("ActionsQueue"), MaxNumberOfMessages=10,
                                             AttributeNames=["All"], **extra)  # fmt: skip
        return list(got.get("Messages", []))

    def invoke(self, messages: list[dict[str, Any]], remaining_ms: int = 60_000) -> dict[str, Any]:
        arn = self.stack.template.physical["ActionsQueue"]["Arn"]
        records = [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"]},
             "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
             "eventSourceARN": arn, "awsRegion": "us-east-1"}
            for m in messages
        ]  # fmt: skip
        context = LocalLambdaContext(int(time.time() * 1000) + remaining_ms)
        response = dict(self.module.lambda_handler({"Records": records}, context))
        for message in messages:  # what Lambda's event source mapping does with the records that succeeded
            if {"itemIdentifier": message["MessageId"]} not in response["batchItemFailures"]:
                self.stack.sqs.delete_message(QueueUrl=self.stack.url("ActionsQueue"),
                                              ReceiptHandle=message["ReceiptHandle"])  # fmt: skip
        return response

    def state(self, record: DecisionRecord) -> dict[str, Any] | None:
        stored = self.decisions.get(record.decision_id)
        return stored.writeback if stored else None

    def queue_depth(self, logical: str) -> tuple[int, int]:
        attrs = self.stack.sqs.get_queue_attributes(
            QueueUrl=self.stack.url(logical),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _clear_writeback_caches() -> None:
    # tests/conftest.py resets the other functions' caches; write-back's are cleared here.
    wiring.writeback_service.cache_clear()
    config.writeback_settings.cache_clear()


@pytest.fixture
def writeback(stack: Stack, zendesk: FakeZendesk, hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    secret_id = stack.url("VendorSecret")
    secrets = stack.session.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    current.update(ZENDESK_EMAIL=ZD_EMAIL, ZENDESK_API_TOKEN=ZD_TOKEN, HUBSPOT_ACCESS_TOKEN=HS_TOKEN)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))
    env = {
        "DECISIONS_TABLE_NAME": stack.url("DecisionsTable"),
        "ACTIONS_QUEUE_URL": stack.url("ActionsQueue"),
        "TRIAGE_SECRET_ID": secret_id,
        "ZENDESK_BASE_URL": zendesk.url,
        "HUBSPOT_BASE_URL": hubspot.url,
        "POWERTOOLS_SERVICE_NAME": "writeback",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    calls: list[dict[str, Any]] = []
    real_client = aws.client

    def spying_client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)
        return SqsSpy(made, calls) if service == "sqs" else made

    spying_client.cache_clear = real_client.cache_clear  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "client", spying_client)
    _clear_writeback_caches()
    yield Writeback(stack, load_handler("writeback"), calls)
    _clear_writeback_caches()


def test_handler_applies_the_action_and_records_it_on_the_decision(writeback, zendesk):
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive())

    assert response == {"batchItemFailures": []}
    assert zendesk.ticket(ZD_TICKET)["group_id"] == 36002118
    assert len(notes_with_ref(zendesk, record)) == 1
    state = writeback.state(record)
    assert state is not None
    assert (state["status"], state["steps"], state["mode"]) == ("applied", ["fields", "note"], "auto")


def test_handler_redelivered_message_produces_one_note(writeback, zendesk, hubspot):
    zd_record, hs_record = decision(), decision(source="hubspot")
    writeback.enqueue(zd_record)
    writeback.enqueue(hs_record)
    messages = writeback.receive()
    assert len(messages) == 2

    first = writeback.invoke(messages)
    second = writeback.invoke(messages)  # SQS at-least-once: the same batch again

    assert first == second == {"batchItemFailures": []}
    assert len(notes_with_ref(zendesk, zd_record)) == 1
    assert len(hubspot.notes_for(HS_TICKET)) == 1


def test_handler_reports_a_persistent_500_and_redrive_moves_it_to_the_dlq(writeback, zendesk, stack):
    zendesk.fail_next(500, times=1000)
    record = decision()
    writeback.enqueue(record)
    max_receives = stack.template.resources["ActionsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    responses = []
    for _ in range(max_receives):
        messages = writeback.receive(visibility_timeout=0)
        assert len(messages) == 1
        responses.append(writeback.invoke(messages))

    assert all(r == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]} for r in responses)
    assert writeback.receive(visibility_timeout=0) == []  # the next receive moves it to the DLQ
    dead = stack.drain("ActionsDlq")
    assert [DecisionMessage.model_validate(b).decision_id for b in dead] == [record.decision_id]
    assert len(zendesk.requests) == max_receives * (vendor_http.MAX_TRANSIENT_RETRIES + 1)  # bounded per receive
    assert writeback.state(record) is None  # never recorded as a vendor rejection


def test_handler_puts_a_rate_limited_record_back_for_retry_after(writeback, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "30"})
    record = decision()
    writeback.enqueue(record)
    [message] = writeback.receive()

    started = time.monotonic()
    response = writeback.invoke([message], remaining_ms=10_000)
    elapsed = time.monotonic() - started

    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert sleeps.calls == []
    assert elapsed < 3.0
    [call] = writeback.visibility_calls
    assert call["ReceiptHandle"] == message["ReceiptHandle"]
    assert call["QueueUrl"] == writeback.stack.url("ActionsQueue")
    assert 30 <= call["VisibilityTimeout"] <= 32
    assert writeback.receive() == []  # not visible again before the delay
    assert writeback.queue_depth("ActionsQueue") == (0, 1)


def test_handler_waits_out_a_short_429_within_the_lambda_time(writeback, zendesk, sleeps):
    zendesk.fail_next(429, headers={"Retry-After": "1"}, times=2)
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive(), remaining_ms=60_000)

    assert response == {"batchItemFailures": []}
    assert sleeps.calls == [1.0, 1.0]
    assert writeback.visibility_calls == []
    assert writeback.state(record)["status"] == "applied"


def test_handler_records_a_422_and_does_not_retry_the_message(writeback, zendesk):
    zendesk.fail_next(422, body={"error": "RecordInvalid", "description": "Record validation errors"})
    record = decision()
    writeback.enqueue(record)

    response = writeback.invoke(writeback.receive())

    assert response == {"batchItemFailures": []}  # deleted: retrying cannot help
    state = writeback.state(record)
    assert state is not None
    assert (state["status"], state["http_status"]) == ("failed", 422)
    assert writeback.queue_depth("ActionsQueue") == (0, 0)
    assert len(zendesk.requests) == 1


def test_handler_reports_only_the_bad_record_of_a_batch(writeback, zendesk):
    record = decision()
    writeback.enqueue(record)
    writeback.stack.sqs.send_message(QueueUrl=writeback.stack.url("ActionsQueue"), MessageBody="{not json")
    messages = writeback.receive()
    bad = next(m for m in messages if m["Body"] == "{not json")

    response = writeback.invoke(messages)

    assert response == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    assert writeback.state(record)["status"] == "applied"
