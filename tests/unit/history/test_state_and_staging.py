"""The pull's state file (atomic, names its pull) and staging file (masked rows, last version wins)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from triage_gate.policy import load_policy
from triage_tools.history.files import TICKETS_FILE, read_tickets
from triage_tools.history.mapping import task_mappings
from triage_tools.history.source import PulledTicket
from triage_tools.history.staging import OUTSIDE_WINDOW, RowMaker, Staging, StagingError
from triage_tools.history.state import PullState, StateError, load_state, remove_state, save_state, state_path

SINCE = datetime(2026, 6, 1, tzinfo=UTC)
UNTIL = datetime(2026, 9, 1, tzinfo=UTC)


def state(**changes: object) -> PullState:
    base = PullState(source="zendesk", workflow="zendesk-support", since="2026-06-01", until="2026-09-01",
                     policy_sha256="abc")  # fmt: skip
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def pulled(
    number: int, *, text: str = "Export fails", created: datetime | None = None, **changes: object
) -> PulledTicket:
    values: dict[str, object] = {
        "id": str(number), "created_at": created or SINCE + timedelta(days=number), "subject": f"Ticket {number}",
        "text": text, "fields": {"group_id": "36002118", "type": "problem", "priority": "high"},
        "first_assigned_at": SINCE + timedelta(days=number, minutes=30), "rerouted": False,
    }  # fmt: skip
    values.update(changes)
    return PulledTicket(**values)  # type: ignore[arg-type]


@pytest.fixture
def maker() -> RowMaker:
    policy = load_policy()
    workflow = policy.workflows["zendesk-support"]
    return RowMaker(task_mappings(workflow), policy.guardrails.pii_extra_patterns, since=SINCE, until=UNTIL)


# state ---------------------------------------------------------------------------------------------------------
def test_state_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    saved = state(position={"cursor": "MTU3|x"}, pages=3, fetched=2500, staged_bytes=91234, progress=0.4)

    save_state(tmp_path, saved)

    assert load_state(tmp_path) == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pull-state.json"]
    remove_state(tmp_path)
    assert load_state(tmp_path) is None


def test_state_names_what_differs_from_another_command() -> None:
    differences = state().differences(state(since="2026-07-01", source="hubspot"))

    assert differences == ["--source: zendesk → hubspot", "--since: 2026-06-01 → 2026-07-01"]
    assert state().differences(state(pages=9)) == []  # progress is not identity


def test_unreadable_state_is_a_clear_error(tmp_path: Path) -> None:
    state_path(tmp_path).write_text("{not json", encoding="utf-8")

    with pytest.raises(StateError, match="unreadable"):
        load_state(tmp_path)
    state_path(tmp_path).write_text(json.dumps({"version": 99}), encoding="utf-8")
    with pytest.raises(StateError, match="version-1"):
        load_state(tmp_path)


# rows ----------------------------------------------------------------------------------------------------------
def test_row_masks_pii_with_the_live_path_rules_and_the_ticket_names(maker: RowMaker) -> None:
    text = ("Hi, I'm Priya Sharma from Globex Analytics. Mail priya.sharma@globex.example or call "
            "+44 20 7946 0958, account ACC-1234567.\n\nThanks, Priya")  # fmt: skip
    ticket = pulled(1, text=text, subject="Call +44 20 7946 0958", names=("Priya Sharma",),
                    organisations=("Globex Analytics",))  # fmt: skip

    row = dict(zip(["status", *maker.columns], maker.row(ticket), strict=True))

    assert row["text"] == (
        "Hi, I'm [NAME] from [NAME]. Mail [EMAIL] or call [PHONE], account [ACCOUNT_NUMBER].\n\nThanks, [NAME]"
    )
    assert row["subject"] == "Call [PHONE]"
    assert (row["status"], row["category"], row["priority"], row["rerouted"]) == ("kept", "bug", "high", "0")


def test_rows_of_tickets_left_out_carry_only_id_date_and_reason(maker: RowMaker) -> None:
    deleted = maker.row(pulled(2, text="secret text", left_out="deleted"))
    old = maker.row(pulled(3, created=SINCE - timedelta(days=1)))

    assert deleted[:3] == ["deleted", "2", (SINCE + timedelta(days=2)).isoformat()]
    assert set(deleted[3:]) == {""}
    assert old[0] == OUTSIDE_WINDOW
    assert maker.row(pulled(4, created=UNTIL))[0] == OUTSIDE_WINDOW  # until is exclusive


# staging -------------------------------------------------------------------------------------------------------
def test_final_pass_keeps_each_ids_last_version_and_counts_the_rest(tmp_path: Path, maker: RowMaker) -> None:
    staging = Staging(tmp_path, maker.columns)
    staging.append([maker.row(pulled(1)), maker.row(pulled(2)), maker.row(pulled(3))])
    staging.append([
        maker.row(pulled(1, fields={"group_id": "36002119", "type": "question"})),  # re-routed later: how_to
        maker.row(pulled(2, left_out="deleted")),  # deleted later
    ])  # fmt: skip

    counts = staging.finalize(tmp_path)

    tickets = {t.id: t for t in read_tickets(tmp_path, list(task_mappings(load_policy().workflows["zendesk-support"])))}
    assert (counts.seen, counts.kept, counts.left_out) == (3, 2, {"deleted": 1})
    assert tickets["1"].labels["category"] == "how_to"
    assert tickets["3"].labels["category"] == "bug"
    with (tmp_path / TICKETS_FILE).open(newline="", encoding="utf-8") as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == ["3", "1"]  # each id once


def test_reopening_cuts_the_staging_file_back_to_the_saved_length(tmp_path: Path, maker: RowMaker) -> None:
    staging = Staging(tmp_path, maker.columns)
    saved = staging.append([maker.row(pulled(1))])
    staging.append([maker.row(pulled(2))])  # written, but the state was never saved: the page comes again

    staging.open_at(saved)

    assert staging.path.stat().st_size == saved
    with pytest.raises(StagingError, match="recorded"):
        staging.open_at(saved + 10)
