"""Rows as pages arrive, then one ticket per id: the staging file and the final pass that writes tickets.csv.

Every ticket version the export returns becomes one staged row the moment its page arrives — already
masked, its labels mapped back — or, when it is not kept, a row that only says why (deleted, merged,
outside the window…), with no text at all. Nothing else is held in memory. A ticket updated during the
pull appears again later; the final pass remembers each id's last row number (not the rows), then copies
the last row of each kept ticket to tickets.csv and counts the others by reason.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from triage_gate.triage.pii import mask_pii
from triage_tools.history.files import TICKETS_FILE, HistoryTicket, ticket_columns
from triage_tools.history.mapping import TaskMapping
from triage_tools.history.source import PulledTicket

STAGING_FILE = "tickets.staging.csv"
KEPT = "kept"
OUTSIDE_WINDOW = "outside_window"


class StagingError(RuntimeError):
    """The staging file does not match the state file (edited or truncated by hand)."""


class RowMaker:
    """A pulled ticket → its staged row: ``[status, *tickets.csv columns]``."""

    def __init__(
        self,
        mappings: Mapping[str, TaskMapping],
        pii_patterns: Mapping[str, str],
        *,
        since: datetime,
        until: datetime,
    ) -> None:
        self.mappings = mappings
        self.tasks = list(mappings)
        self.columns = ticket_columns(self.tasks)
        self.pii_patterns = dict(pii_patterns)
        self.since, self.until = since, until

    def row(self, ticket: PulledTicket) -> list[str]:
        status = self.status(ticket)
        if status != KEPT:
            return [status, ticket.id, ticket.created_at.isoformat(), *([""] * (len(self.columns) - 2))]
        labels: dict[str, str] = {}
        unmapped: dict[str, str] = {}
        for task, mapping in self.mappings.items():
            found = mapping.match(ticket.fields)
            if found.outcome == "mapped":
                labels[task] = found.label
            elif found.outcome == "unmapped":
                unmapped[task] = found.raw
        kept = HistoryTicket(
            id=ticket.id,
            created_at=ticket.created_at,
            subject=self._mask(ticket.subject, ticket),
            text=self._mask(ticket.text, ticket),
            labels=labels,
            unmapped=unmapped,
            first_assigned_at=ticket.first_assigned_at,
            rerouted=ticket.rerouted,
        ).row(self.tasks)
        return [KEPT, *(kept[column] for column in self.columns)]

    def status(self, ticket: PulledTicket) -> str:
        if not self.since <= ticket.created_at < self.until:
            return OUTSIDE_WINDOW
        return ticket.left_out or KEPT

    def _mask(self, text: str, ticket: PulledTicket) -> str:
        """The live path's masking: IBANs, cards, emails, phones, the policy's patterns, the ticket's names."""
        if not text:
            return ""
        return mask_pii(text, self.pii_patterns, names=ticket.names, organisations=ticket.organisations).text


@dataclass(frozen=True)
class FinalCounts:
    seen: int  # distinct tickets the vendor returned
    kept: int
    left_out: dict[str, int]


class Staging:
    """DIR/tickets.staging.csv: appended a page at a time (bytes, so its length can be saved and restored)."""

    def __init__(self, directory: Path, columns: Sequence[str]) -> None:
        self.path = directory / STAGING_FILE
        self.columns = list(columns)

    def open_at(self, length: int) -> int:
        """Keep the first ``length`` bytes (what the state file recorded) and drop anything after them."""
        size = self.path.stat().st_size if self.path.exists() else 0
        if size < length:
            raise StagingError(
                f"{self.path} has {size} bytes but the pull state recorded {length}; delete the output "
                "directory's pull-state.json and tickets.staging.csv to start the pull over"
            )
        with self.path.open("ab") as handle:
            handle.truncate(length)
        return length

    def append(self, rows: Iterable[Sequence[str]]) -> int:
        """Write the rows and make them durable; returns the file's length after them."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        with self.path.open("ab") as handle:
            handle.write(buffer.getvalue().encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
            return handle.tell()

    def finalize(self, directory: Path) -> FinalCounts:
        """Second pass: tickets.csv gets each kept id's last row (in the order those rows were staged)."""
        last_row: dict[str, int] = {}
        for number, row in enumerate(self._rows()):
            last_row[row[1]] = number
        left_out: Counter[str] = Counter()
        kept = 0
        target = directory / TICKETS_FILE
        temporary = target.with_name(target.name + ".tmp")
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(self.columns)
            for number, row in enumerate(self._rows()):
                if last_row[row[1]] != number:
                    continue
                if row[0] == KEPT:
                    writer.writerow(row[1:])
                    kept += 1
                else:
                    left_out[row[0]] += 1
        os.replace(temporary, target)
        return FinalCounts(seen=len(last_row), kept=kept, left_out=dict(left_out))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def _rows(self) -> Iterable[list[str]]:
        if not self.path.exists():
            return
        with self.path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if len(row) != len(self.columns) + 1:
                    raise StagingError(f"{self.path}: a row has {len(row)} columns, expected {len(self.columns) + 1}")
                yield row
