"""The feedback loop: reviewed cases exported for training, corrections in the next prompt."""

from __future__ import annotations

import csv
from datetime import timedelta

from tests.builders import harness, ticket_event, zendesk_documents
from tests.integration.review.conftest import RAW_EMAIL, TICKET, WORKFLOW, Clock, Review, decided
from triage_gate.policy import Policy
from triage_gate.review.feedback import labelled_rows, write_csv
from triage_gate.triage.decision import DecisionRecord
from triage_tools import cli

# ---------------------------------------------------------------- the feedback loop
BASE_ROWS = [
    ("I was charged twice on my card", "billing"), ("The invoice total is wrong", "billing"),
    ("Please send a copy of the invoice", "billing"), ("Update the billing address on invoices", "billing"),
    ("The export button crashes the app", "bug"), ("Error 500 when saving a report", "bug"),
    ("The dashboard does not load", "bug"), ("Search returns a blank page", "bug"),
    ("I want my money back for last month", "refund"), ("Please refund the duplicate payment", "refund"),
    ("Refund the annual plan I cancelled", "refund"), ("Money back for the unused seats please", "refund"),
]  # fmt: skip


def _reviewed_records(review: Review, policy: Policy, clock: Clock) -> list[DecisionRecord]:
    approved = decided(policy, clock.now - timedelta(minutes=2), event_id="e-approved")
    corrected = decided(policy, clock.now - timedelta(minutes=2), event_id="e-corrected")
    escalated = decided(policy, clock.now - timedelta(minutes=2), event_id="e-escalated")
    overridden = decided(policy, clock.now - timedelta(minutes=2), event_id="e-overridden")
    untouched = decided(policy, clock.now - timedelta(minutes=2), event_id="e-untouched")
    for item in (approved, corrected, escalated):
        review.post(item)
    review.ledger.create(overridden)
    review.ledger.create(untouched)
    review.click("approve", approved, user="UALICE")
    review.click("correct", corrected, user="UBOB", labels={"category": "refund"}, reason="wrong_category")
    review.click("escalate", escalated, user="UCAROL")
    review.work()
    review.ledger.add_override(overridden.decision_id, {
        "kind": "override", "task": "category", "field": "custom_field", "system_label": "billing",
        "system_value": "billing", "human_value": "bug", "human_label": "bug"})  # fmt: skip
    return [review.ledger.get(r.decision_id) for r in (approved, corrected, escalated, overridden, untouched)]


def test_feedback_export_has_reviewed_and_overridden_cases_with_text_and_task_columns(review, policy, clock, tmp_path):
    records = _reviewed_records(review, policy, clock)
    out = tmp_path / "feedback.csv"

    assert write_csv(labelled_rows(records), out) == 3

    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = {row["decision_id"].rsplit(":", 1)[1]: row for row in reader}
        columns = reader.fieldnames or []
    assert {"text", "category", "priority", "label_source", "reason", "reviewer"} <= set(columns)
    assert set(rows) == {"e-approved", "e-corrected", "e-overridden"}  # escalated and untouched: no human label
    assert (rows["e-approved"]["category"], rows["e-approved"]["label_source"]) == ("billing", "review_approve")
    corrected = rows["e-corrected"]
    assert (corrected["category"], corrected["priority"]) == ("refund", "normal")
    assert (corrected["label_source"], corrected["reason"], corrected["reviewer"]) == (
        "review_correct", "wrong_category", "UBOB")  # fmt: skip
    assert (rows["e-overridden"]["category"], rows["e-overridden"]["label_source"]) == ("bug", "override")
    assert all("[EMAIL]" in row["text"] and RAW_EMAIL not in row["text"] for row in rows.values())
    assert all(row["text"].startswith("Charged twice for the November invoice") for row in rows.values())


def test_feedback_export_trains_with_triage_train_include(review, policy, clock, tmp_path, capsys):
    export = tmp_path / "feedback.csv"
    write_csv(labelled_rows(_reviewed_records(review, policy, clock)), export)
    base = tmp_path / "base.csv"
    with base.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(BASE_ROWS)
    model = tmp_path / "models" / "category.json"

    code = cli.main(["train", str(base), "--text-col", "text", "--label-col", "category", "--include", str(export),
                     "--out", str(model), "--task", "category", "--workflow", WORKFLOW])  # fmt: skip

    assert code == 0
    assert model.is_file()
    assert "included 3 rows" in capsys.readouterr().err


def test_corrections_reach_the_next_classification_prompt(review, record, policy):
    review.post(record)
    review.click("correct", record, labels={"category": "refund"}, reason="wrong_category")
    review.work()
    h = harness(policy, documents={("zendesk", str(TICKET)): zendesk_documents()})
    h.service.deps.examples = review.examples  # type: ignore[misc]
    event = ticket_event().replace(**{"event_id": "e-next", "dedupe_key": "zendesk:90817263:e-next"})

    h.service.process(event)

    [prompt] = h.remote.prompts
    assert "Recent tickets reviewers labelled for `category`" in prompt.system
    assert "→ `refund`" in prompt.system
    assert RAW_EMAIL not in prompt.system
