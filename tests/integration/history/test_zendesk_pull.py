"""`triage history pull --source zendesk` against FakeZendesk's incremental export."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.history.conftest import ZD_EMAIL, ZD_TOKEN, Puller, interrupt_after, window, zendesk_fake
from triage_local.sandboxes import FakeZendesk
from triage_local.sandboxes.history import History
from triage_local.sandboxes.history_load import zendesk_id
from triage_tools.cli import main
from triage_tools.history.cli import PACING
from triage_tools.history.files import BASELINE_FILE, STATE_FILE, TICKETS_FILE
from triage_tools.history.staging import STAGING_FILE
from triage_tools.history.transport import PullError, RetryPolicy

REASONS = {"deleted": "deleted", "merged": "merged", "unrouted": "no_routing"}


def puller(fake: FakeZendesk, history: History, out: Path, **options: object) -> Puller:
    since, until = window(history)
    return Puller("zendesk", fake.url, out, since, until, **options)  # type: ignore[arg-type]


def expected(history: History, since: datetime, until: datetime) -> tuple[set[str], Counter[str]]:
    """What the pull must keep and leave out: every ticket the export serves (updated since ``since``)."""
    kept: set[str] = set()
    left_out: Counter[str] = Counter()
    for ticket in history.tickets:
        if ticket.updated_at < since:
            continue
        reason = "outside_window" if not since <= ticket.created_at < until else REASONS.get(ticket.final_fate)
        if reason is None:
            kept.add(str(zendesk_id(ticket)))
        else:
            left_out[reason] += 1
    return kept, left_out


def rows(out: Path) -> list[dict[str, str]]:
    with (out / TICKETS_FILE).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def export_requests(fake: FakeZendesk) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in r.query.items()} for r in fake.requests if "incremental" in r.path]


def test_pull_follows_the_cursor_to_end_of_stream_and_keeps_what_it_should(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    pull = puller(zendesk, zendesk_history, tmp_path)

    result = pull.run()

    queries = export_requests(zendesk)
    assert set(queries[0]) == {"start_time", "include"}
    assert queries[0]["include"] == "metric_sets,users,organizations"
    assert all(set(q) == {"cursor", "include"} for q in queries[1:])
    assert len(queries) == result.pages > 3
    kept, left_out = expected(zendesk_history, pull.since, pull.until)
    assert {row["id"] for row in rows(tmp_path)} == kept
    assert result.baseline["left_out"] == {"deleted": left_out["deleted"], "merged": left_out["merged"],
                                           "ai_triaged": 0, "no_routing": left_out["no_routing"],
                                           "outside_window": left_out["outside_window"]}  # fmt: skip
    assert left_out["outside_window"] > 0
    assert left_out["deleted"] > 0
    assert result.baseline["seen"] == len(kept) + sum(left_out.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == [BASELINE_FILE, TICKETS_FILE]  # no state, no staging


def test_a_ticket_updated_during_the_export_appears_twice_and_its_last_version_wins(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    pull = puller(zendesk, zendesk_history, tmp_path)

    result = pull.run()

    later = {str(zendesk_id(t)): t for t in zendesk_history.tickets if t.later and t.created_at >= pull.since}
    assert later
    assert result.fetched > result.baseline["seen"]
    by_id = {row["id"]: row for row in rows(tmp_path)}
    assert len(by_id) == len(rows(tmp_path))  # each id once
    for ticket_id, ticket in later.items():
        if ticket.later == "deleted":
            assert ticket_id not in by_id  # first served routed, then deleted: left out
        else:
            assert by_id[ticket_id]["rerouted"] == ("1" if ticket.final_rerouted else "0")


def test_labels_first_assignment_and_rerouting_come_from_the_ticket_and_its_metric_set(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    pull = puller(zendesk, zendesk_history, tmp_path)
    pull.run()

    by_id = {row["id"]: row for row in rows(tmp_path)}
    generated = {str(zendesk_id(t)): t for t in zendesk_history.tickets}
    for ticket_id, row in by_id.items():
        ticket = generated[ticket_id]
        first = ticket.first_assigned_at
        assert row["first_assigned_at"] == (first.isoformat() if first else "")
        assert row["rerouted"] == ("1" if ticket.final_rerouted else "0")
        if "custom" in ticket.fills:  # the category custom field names the label: it must map back exactly
            assert row["category"] == ticket.final_category
        assert row["category"] or row["category_unmapped"]


def test_unmapped_values_are_counted_in_the_baseline(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    result = puller(zendesk, zendesk_history, tmp_path).run()

    counted = Counter(row["category_unmapped"] for row in rows(tmp_path) if row["category_unmapped"])
    assert counted
    assert dict(counted) == result.baseline["unmapped"]["category"]
    assert any("(ambiguous: billing|refund)" in raw for raw in counted)


def test_text_is_masked_before_it_is_written(zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path) -> None:
    puller(zendesk, zendesk_history, tmp_path).run()

    written = (tmp_path / TICKETS_FILE).read_text(encoding="utf-8")
    assert not re.search(r"[\w.]+@[\w.]+\.example|ACC-\d+|\+44 20 7946", written)
    assert "[EMAIL]" in written
    assert "[NAME]" in written
    requesters = {t.requester for t in zendesk_history.tickets}
    assert not any(name in written for name in requesters)


def test_resume_after_ctrl_c_writes_exactly_what_an_uninterrupted_pull_writes(
    zendesk_history: History, tmp_path: Path
) -> None:
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    reference = zendesk_fake(zendesk_history)
    resumed = zendesk_fake(zendesk_history)
    try:
        puller(reference, zendesk_history, straight).run()
        pull = puller(resumed, zendesk_history, interrupted)
        with pytest.raises(KeyboardInterrupt):
            pull.run(on_page=interrupt_after(3))
        state = json.loads((interrupted / STATE_FILE).read_text(encoding="utf-8"))
        assert state["pages"] == 3
        assert (interrupted / STAGING_FILE).exists()
        resumed.clear_requests()

        result = pull.run()

        assert result.resumed
        assert "cursor" in export_requests(resumed)[0]  # it went on from the saved cursor
    finally:
        reference.stop()
        resumed.stop()
    for name in (TICKETS_FILE, BASELINE_FILE):
        assert (interrupted / name).read_bytes() == (straight / name).read_bytes()


def test_resume_after_the_vendor_failed_mid_pull(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    pull = puller(zendesk, zendesk_history, tmp_path, retry=RetryPolicy(transient_retries=1))

    with pytest.raises(PullError, match="failed 2 times in a row"):
        pull.run(on_page=lambda state: zendesk.fail_next(503, times=2) if state.pages == 2 else None)
    result = pull.run()

    kept, _ = expected(zendesk_history, pull.since, pull.until)
    assert result.resumed
    assert {row["id"] for row in rows(tmp_path)} == kept
    assert pull.recorder.sleeps == [2.0]  # one back-off before the second failure ended the first run


def test_429_is_waited_out_for_its_retry_after(zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path) -> None:
    zendesk.fail_next(429, headers={"Retry-After": "7"}, body="Number of allowed incremental export API requests")
    pull = puller(zendesk, zendesk_history, tmp_path)

    pull.run()

    assert pull.recorder.sleeps == [7.0]
    assert [r.status for r in zendesk.requests[:2]] == [429, 200]


def test_export_requests_are_paced_to_ten_a_minute_by_default(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path
) -> None:
    zendesk.export.configure(requests_per_minute=10, per_page=100)
    pull = puller(zendesk, zendesk_history, tmp_path, pacing=PACING["zendesk"])

    result = pull.run()

    assert result.pages >= 3
    assert pull.recorder.sleeps == [6.0] * (result.pages - 1)  # the clock stands still between requests
    assert all(r.status == 200 for r in zendesk.requests)


def test_cli_pull_writes_the_files_prints_a_summary_and_will_not_overwrite_them(
    zendesk: FakeZendesk, zendesk_history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for name, value in {
        "ZENDESK_BASE_URL": zendesk.url,
        "ZENDESK_EMAIL": ZD_EMAIL,
        "ZENDESK_API_TOKEN": ZD_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    since = window(zendesk_history)[0].date().isoformat()
    command = ["history", "pull", "--source", "zendesk", "--since", since, "--out", str(tmp_path), "--no-pacing"]

    assert main(command) == 0
    out = capsys.readouterr()
    assert "for workflow zendesk-support" in out.out
    assert "re-routing rate:" in out.out
    assert "zendesk history:" in out.err
    assert "tickets fetched" in out.err
    assert main(command) == 2
    assert "already holds a finished pull" in capsys.readouterr().err
    assert main([*command, "--overwrite"]) == 0
