"""Labelled examples for evaluation: any CSV or JSON-lines file, its columns named on the command line, labels
mapped."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class DatasetError(Exception):
    """A dataset that cannot be evaluated; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    row_id: str
    text: str
    truth: str
    subject: str | None = None


JSONL_SUFFIXES = (".jsonl", ".ndjson")
"""Files read as JSON lines (one object per line, keys as columns); anything else is read as CSV."""


def read_examples(
    path: Path,
    *,
    text_col: str,
    label_col: str,
    taxonomy: list[str],
    subject_col: str | None = None,
    id_col: str | None = None,
    label_map: dict[str, str | None] | None = None,
    limit: int | None = None,
) -> tuple[list[Example], dict[str, int]]:
    """(examples, skipped-row counts by reason). Labels outside the taxonomy after mapping are an error.

    A CSV, or JSON lines when the file ends in .jsonl/.ndjson. A row with an empty body but a subject is a
    ticket (production decides it on its subject); a row with neither is skipped as ``empty_text``."""
    if not path.is_file():
        raise DatasetError(f"no such file: {path}")
    columns, rows = _read_rows(path)
    _require_columns(path, columns, (text_col, label_col, subject_col, id_col))
    examples: list[Example] = []
    skipped = {"empty_text": 0, "mapped_to_null": 0}
    unknown: dict[str, int] = {}
    for index, row in enumerate(rows):
        if limit is not None and len(examples) >= limit:
            break
        text = (row.get(text_col) or "").strip()
        subject = (row.get(subject_col) or "").strip() or None if subject_col else None
        raw = (row.get(label_col) or "").strip()
        label = label_map.get(raw, raw) if label_map else raw
        if not text and not subject:
            skipped["empty_text"] += 1
        elif label is None:
            skipped["mapped_to_null"] += 1
        elif label not in taxonomy:
            unknown[label] = unknown.get(label, 0) + 1
        else:
            row_id = (row.get(id_col) or "").strip() if id_col else str(index)
            examples.append(Example(row_id or str(index), text, label, subject))
    if unknown:
        raise _unknown_labels(path, taxonomy, unknown)
    if not examples:
        raise DatasetError(f"{path}: no usable rows")
    return examples, skipped


def _read_rows(path: Path) -> tuple[list[str], Sequence[Mapping[str, str | None]]]:
    """(column names, rows as column → text) of a CSV or a JSON-lines file."""
    if path.suffix.lower() in JSONL_SUFFIXES:
        return _read_jsonl(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = [{k: v for k, v in row.items() if isinstance(k, str)} for row in reader]
        return list(reader.fieldnames or []), rows


def _read_jsonl(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Each non-blank line one JSON object; its values as text (null → ""); columns: every key seen, in order."""
    columns: dict[str, None] = {}
    rows: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(item, dict):
            raise DatasetError(f"{path}:{number}: expected a JSON object per line, got {type(item).__name__}")
        columns.update(dict.fromkeys(item))
        rows.append({key: _text(value) for key, value in item.items()})
    return list(columns), rows


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _require_columns(path: Path, columns: Sequence[str], wanted: tuple[str | None, ...]) -> None:
    """Raise DatasetError for the first named column (None: not asked for) the CSV does not have."""
    for name in wanted:
        if name and name not in columns:
            raise DatasetError(f"{path}: no column {name!r}; columns: {', '.join(map(repr, columns))}")


def _unknown_labels(path: Path, taxonomy: list[str], unknown: dict[str, int]) -> DatasetError:
    """The error for labels outside the taxonomy: the ten most frequent, with their counts."""
    shown = ", ".join(f"{k!r} ({v})" for k, v in sorted(unknown.items(), key=lambda kv: -kv[1])[:10])
    return DatasetError(
        f"{path}: labels not in the workflow's taxonomy {taxonomy}: {shown}. "
        "Map them with --label-map (a JSON object; null drops a label)."
    )


def read_label_map(path: Path) -> dict[str, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"--label-map {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str | None) for v in data.values()):
        raise DatasetError(f"--label-map {path}: expected a JSON object of label → label or null")
    return {str(k): v for k, v in data.items()}
