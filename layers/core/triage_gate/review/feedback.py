"""The improvement loop: reviewed and overridden cases become labelled examples.

Rows carry the masked text the model saw and the label a human settled on; they feed `triage train
--include`, evaluation, calibration, and (the latest few per label) the classification prompt.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from triage_gate.triage.decision import DecisionRecord

EXAMPLE_CHARS = 300
EXAMPLES_PER_LABEL = 2


def labelled_rows(records: Iterable[DecisionRecord]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        labels, source, reason, reviewer = _human_labels(record)
        if not labels:
            continue
        text = "\n".join(p for p in (record.subject, record.input_text) if p)
        rows.append(
            {
                "decision_id": record.decision_id,
                "workflow": record.workflow,
                "source": record.source,
                "ticket_id": record.ticket_id,
                "created_at": record.created_at.isoformat(),
                "text": text,
                **labels,
                "model_labels": ";".join(f"{t}={lbl}" for t, lbl in record.labels.items()),
                "label_source": source,
                "reason": reason or "",
                "reviewer": reviewer or "",
            }
        )
    return sorted(rows, key=lambda r: (r["workflow"], r["created_at"]))


def _human_labels(record: DecisionRecord) -> tuple[dict[str, str], str, str | None, str | None]:
    review = record.review or {}
    if review.get("verdict") in ("approve", "correct"):
        source = "review_correct" if review["verdict"] == "correct" else "review_approve"
        return dict(review.get("labels") or {}), source, review.get("reason"), review.get("reviewer")
    findings = [f for f in (record.override or {}).get("findings", []) if f.get("human_label")]
    if findings:
        labels = {t: lbl for t, lbl in record.labels.items() if lbl}
        for finding in findings:
            labels[finding["task"]] = finding["human_label"]
        kind = "shadow" if findings[-1]["kind"].startswith("shadow") else "override"
        return labels, kind, None, None
    return {}, "", None, None


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> int:
    fixed = ["decision_id", "workflow", "source", "ticket_id", "created_at", "text"]
    tasks = sorted(
        {k for row in rows for k in row} - set(fixed) - {"model_labels", "label_source", "reason", "reviewer"}
    )
    columns = [*fixed, *tasks, "model_labels", "label_source", "reason", "reviewer"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


class ExampleStore(Protocol):
    def add(self, workflow: str, task: str, label: str, text: str) -> None: ...

    def recent(self, workflow: str) -> dict[str, dict[str, list[str]]]:
        """task → label → newest first, at most EXAMPLES_PER_LABEL each."""
        ...


def add_example(examples: dict[str, dict[str, list[str]]], task: str, label: str, text: str) -> None:
    """Newest first, deduplicated, capped per label: deterministic, so the prompt prefix stays stable."""
    clipped = " ".join(text.split())[:EXAMPLE_CHARS]
    current = [e for e in examples.setdefault(task, {}).get(label, []) if e != clipped]
    examples[task][label] = [clipped, *current][:EXAMPLES_PER_LABEL]
