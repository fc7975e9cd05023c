"""Reading labelled examples for `triage eval`: CSV and JSON lines, subject-only tickets, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage_tools.evaluation.dataset import DatasetError, Example, read_examples

TAXONOMY = ["billing", "bug", "how_to"]


def _jsonl(path: Path, items: list[object], *, blank_line: bool = False) -> Path:
    lines = [json.dumps(item) for item in items]
    if blank_line:
        lines.insert(1, "   ")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read(path: Path, **extra: str) -> tuple[list[Example], dict[str, int]]:
    return read_examples(path, text_col="body", label_col="category", taxonomy=TAXONOMY, **extra)


def test_json_lines_are_read_with_keys_as_columns(tmp_path):
    path = _jsonl(
        tmp_path / "t.jsonl",
        [
            {"id": "de-1", "subject": "Rechnung doppelt", "body": "Ich wurde zweimal belastet.", "category": "billing"},
            {"id": "en-2", "subject": "Can't export", "body": None, "category": "bug", "extra": [1, 2]},
            {"id": "x-3", "subject": "", "body": "  ", "category": "how_to"},  # neither: skipped, counted
        ],
        blank_line=True,
    )

    examples, skipped = _read(path, subject_col="subject", id_col="id")

    assert [(e.row_id, e.subject, e.text, e.truth) for e in examples] == [
        ("de-1", "Rechnung doppelt", "Ich wurde zweimal belastet.", "billing"),
        ("en-2", "Can't export", "", "bug"),  # a subject alone is a ticket
    ]
    assert skipped == {"empty_text": 1, "mapped_to_null": 0}


def test_a_csv_row_with_a_subject_and_no_body_is_kept_too(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("subject,body,category\nLogin broken,,bug\n,,bug\n", encoding="utf-8")

    examples, skipped = _read(path, subject_col="subject")

    assert [(e.subject, e.text) for e in examples] == [("Login broken", "")]
    assert skipped["empty_text"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"body": "a", "category": "bug"}\n{not json\n', "t.jsonl:2: not JSON"),
        ('["a", "bug"]\n', "t.jsonl:1: expected a JSON object per line, got list"),
        ('{"text": "a", "category": "bug"}\n', "no column 'body'"),
    ],
)
def test_bad_json_lines_name_the_line_or_the_missing_column(tmp_path, content, message):
    path = tmp_path / "t.jsonl"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(DatasetError, match=message):
        _read(path)


def test_labels_outside_the_taxonomy_are_refused_with_counts(tmp_path):
    path = _jsonl(tmp_path / "t.ndjson", [{"body": "a", "category": "refund"}, {"body": "b", "category": "refund"}])

    with pytest.raises(DatasetError, match=r"'refund' \(2\)"):
        _read(path)
