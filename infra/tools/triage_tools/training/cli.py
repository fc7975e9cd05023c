"""``triage train``: fit the local model on any labelled CSV and write its JSON artifact.

Wired into the project's CLI by ``add_train_parser``. Training needs numpy and scipy: the ``train`` extra.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


class TrainInputError(Exception):
    """The input cannot be trained on; the message says why (the command exits 2)."""


@dataclass
class Dataset:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    rows_read: int = 0
    empty_text: int = 0
    empty_label: int = 0
    unmapped: int = 0


def add_train_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``train`` on the ``triage`` command's subparsers."""
    train = subparsers.add_parser(
        "train",
        help="train the local model on a labelled CSV and write its JSON artifact",
        description="Train the local text classifier (TF-IDF + logistic regression, temperature-calibrated).",
    )
    train.add_argument("csv", type=Path, help="CSV file with a header row")
    train.add_argument("--text-col", required=True, metavar="COL", help="column holding the ticket text")
    train.add_argument("--label-col", required=True, metavar="COL", help="column holding the label")
    train.add_argument("--out", required=True, type=Path, metavar="PATH", help="where to write the model (JSON)")
    train.add_argument(
        "--label-map", type=Path, metavar="JSON_FILE",
        help='JSON object mapping CSV labels to model labels; a label mapped to null drops its rows',
    )  # fmt: skip
    train.add_argument("--holdout", type=float, default=0.15, help="share held out for calibration (default 0.15)")
    train.add_argument("--seed", type=int, default=0, help="random seed for the held-out split (default 0)")
    train.add_argument("--max-rows", type=int, metavar="N", help="read at most N data rows")
    train.add_argument(
        "--include",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="also train on this CSV with the same columns, e.g. a `triage feedback export` (repeatable)",
    )
    train.add_argument("--task", help="task name recorded in the model's metadata (e.g. category)")
    train.add_argument("--workflow", help="workflow name recorded in the model's metadata (e.g. zendesk-support)")
    train.add_argument("--c", type=float, help="inverse L2 regularisation strength (default 10)")
    train.add_argument("--max-features", type=int, metavar="N", help="vocabulary cap (default 20000)")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` command: returns the process exit code."""
    from triage_tools.cli.extras import require

    require("train")
    try:
        if not 0.0 <= args.holdout < 1.0:
            raise TrainInputError(f"--holdout must be in [0, 1), got {args.holdout}")
        if args.max_rows is not None and args.max_rows < 1:
            raise TrainInputError("--max-rows must be at least 1")
        label_map = _read_label_map(args.label_map) if args.label_map else None
        data = read_dataset(args.csv, args.text_col, args.label_col, label_map=label_map, max_rows=args.max_rows)
        for extra in args.include:
            more = read_dataset(extra, args.text_col, args.label_col, label_map=label_map, max_rows=None, min_labels=1)
            data.texts.extend(more.texts)
            data.labels.extend(more.labels)
            data.rows_read += more.rows_read
            print(f"triage train: included {len(more.texts)} rows from {extra}", file=sys.stderr)
    except TrainInputError as exc:
        print(f"triage train: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        from triage_tools.training.train import DEFAULT_C, DEFAULT_MAX_FEATURES, train
    except ImportError as exc:  # pragma: no cover - the dev venv has them
        print(f"triage train: needs numpy and scipy ({exc}); pip install -r requirements/dev.txt", file=sys.stderr)
        return EXIT_USAGE
    for note in _skipped_notes(data):
        print(f"triage train: {note}", file=sys.stderr)
    started = time.perf_counter()
    model = train(
        data.texts,
        data.labels,
        seed=args.seed,
        holdout=args.holdout,
        c=args.c if args.c is not None else DEFAULT_C,
        max_features=args.max_features if args.max_features is not None else DEFAULT_MAX_FEATURES,
        task=args.task,
        workflow=args.workflow,
    )
    seconds = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    size = model.save(args.out)
    print(_summary(data, model.metadata, len(model.labels), args.out, size, seconds))
    return 0


def read_dataset(
    path: Path,
    text_col: str,
    label_col: str,
    *,
    label_map: dict[str, str | None] | None = None,
    max_rows: int | None,
    min_labels: int = 2,
) -> Dataset:
    """Texts and labels from a CSV; raises ``TrainInputError`` for anything that cannot be trained on."""
    if not path.is_file():
        raise TrainInputError(f"no such file: {path}")
    data = Dataset()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (text_col, label_col) if c not in columns]
            if missing:
                available = ", ".join(repr(c) for c in columns) or "none (empty file)"
                raise TrainInputError(f"{path}: no column {', '.join(map(repr, missing))}; columns: {available}")
            for row in reader:
                if max_rows is not None and data.rows_read >= max_rows:
                    break
                data.rows_read += 1
                _add_row(data, (row.get(text_col) or "").strip(), (row.get(label_col) or "").strip(), label_map)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TrainInputError(f"{path}: cannot read as a UTF-8 CSV: {exc}") from exc
    labels = sorted(set(data.labels))
    if len(labels) < min_labels:
        raise TrainInputError(
            f"{path}: need at least 2 distinct labels in {label_col!r} to train, found {len(labels)} {labels}"
        )
    return data


def _add_row(data: Dataset, text: str, label: str, label_map: dict[str, str | None] | None) -> None:
    if not text:
        data.empty_text += 1
        return
    if not label:
        data.empty_label += 1
        return
    if label_map is not None and label in label_map:
        mapped = label_map[label]
        if mapped is None:
            data.unmapped += 1
            return
        label = mapped
    data.texts.append(text)
    data.labels.append(label)


def _read_label_map(path: Path) -> dict[str, str | None]:
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrainInputError(f"no such label map: {path}") from None
    except (OSError, ValueError) as exc:
        raise TrainInputError(f"{path}: label map is not readable JSON ({exc})") from exc
    if not isinstance(mapping, dict) or not all(isinstance(v, str | None) for v in mapping.values()):
        raise TrainInputError(f"{path}: label map must be a JSON object of label -> label (or null to drop)")
    return mapping


def _skipped_notes(data: Dataset) -> list[str]:
    notes = []
    if data.empty_text:
        notes.append(f"skipped {data.empty_text} row(s) with empty text")
    if data.empty_label:
        notes.append(f"skipped {data.empty_label} row(s) with an empty label")
    if data.unmapped:
        notes.append(f"skipped {data.unmapped} row(s) whose label the label map drops (null)")
    return notes


def _summary(data: Dataset, metadata: dict[str, Any], n_labels: int, out: Path, size: int, seconds: float) -> str:
    lines = [
        f"trained on {len(data.texts)} of {data.rows_read} rows, {n_labels} labels, "
        f"{metadata['n_features']} features; temperature {metadata['temperature']:.3f}"
    ]
    holdout = metadata.get("holdout")
    if holdout:
        lines.append(
            f"  {holdout.get('method', 'holdout')} ({holdout['n']} rows): accuracy {holdout['accuracy']:.3f}"
            f"  macro-F1 {holdout['macro_f1']:.3f}"
            f"  ECE {holdout['ece']:.3f} (uncalibrated {holdout['ece_uncalibrated']:.3f})"
        )
    else:
        lines.append("  no holdout: probabilities are not calibrated")
    if metadata.get("languages"):
        from triage_tools.training.languages import describe

        lines.append(describe(metadata["languages"]))
    lines.append(f"  wrote {out} ({size / 1024:.1f} KiB) in {seconds:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m triage_tools.training.cli train ...``: the same command without the full ``triage`` CLI."""
    from triage_tools.cli.extras import MissingExtra  # lazily: triage_tools.cli imports this module

    parser = argparse.ArgumentParser(prog="python -m triage_tools.training.cli")
    add_train_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MissingExtra as exc:
        print(f"triage train: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
