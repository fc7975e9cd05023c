"""`make eval`: the local model through `triage eval` on each labelled set in ../shared/data.

For each set: a stratified 80/20 split of our own (seed 0), a local model trained on the 80 %, an eval
policy whose taxonomy is the set's labels, then `triage eval` on the held-apart 20 % with the HTML and
JSON reports under .triage/eval/<set>/. The data is read in place and never copied into the project.
"""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / ".triage" / "eval"
SETS = {
    "it-service-tickets": ("it-service-tickets/tickets.csv", "Document", "Topic_group"),
    "bitext-customer-support": ("bitext-customer-support/tickets.csv", "instruction", "category"),
    "banking77": ("banking77/train.csv", "text", "category"),
}


def slug(label: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "_", label.strip()).strip("_")
    return cleaned if cleaned[:1].isalpha() else f"L_{cleaned}"


def split(
    rows: list[dict[str, str]], label_col: str, seed: int = 0
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[label_col]].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        cut = max(1, round(len(group) * 0.2))
        test.extend(group[:cut])
        train.extend(group[cut:])
    return train, test


def write_csv(rows: list[dict[str, str]], text_col: str, label_col: str, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        for i, row in enumerate(rows):
            writer.writerow([i, row[text_col], slug(row[label_col])])


def eval_policy(name: str, labels: list[str], model: Path, path: Path) -> None:
    taxonomy = {label: {"description": f"dataset label {label}"} for label in labels}
    policy = {
        "version": f"eval-{name}",
        "prompt_version": "eval",
        "routes": {"local": {"kind": "local"}},
        "guardrails": {"max_input_chars": 20000, "pii_heavy_count": 1000},
        "workflows": {
            name: {
                "source": "zendesk",
                "mode": "auto",
                "classify_events": ["ticket.created"],
                "tasks": {"category": {"labels": taxonomy, "route": "local", "local_model": str(model),
                                       "thresholds": {"default": 0.7}}},
                "rules": {"degraded_mode": "review_all"},
                "review": {"channel": "#eval"},
            }
        },
    }  # fmt: skip
    path.write_text(json.dumps(policy, indent=1), encoding="utf-8")  # JSON is valid YAML


def main() -> int:
    if not DATA.is_dir():
        print(f"make eval: {DATA} is absent; nothing to evaluate")
        return 0
    triage = str(Path(sys.executable).parent / "triage")
    for name, (file, text_col, label_col) in SETS.items():
        source = DATA / file
        if not source.is_file():
            print(f"make eval: {source} is absent; skipping {name}")
            continue
        with source.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get(text_col, "").strip() and r.get(label_col, "").strip()]
        train_rows, test_rows = split(rows, label_col)
        work = OUT / name
        work.mkdir(parents=True, exist_ok=True)
        write_csv(train_rows, text_col, label_col, work / "train.csv")
        write_csv(test_rows, text_col, label_col, work / "test.csv")
        labels = sorted({slug(r[label_col]) for r in rows})
        model = work / "model.json"
        print(f"\n=== {name}: {len(train_rows)} train / {len(test_rows)} test rows, {len(labels)} labels", flush=True)
        subprocess.run(
            [
                triage,
                "train",
                str(work / "train.csv"),
                "--text-col",
                "text",
                "--label-col",
                "label",
                "--out",
                str(model),
            ],
            check=True,
        )
        eval_policy(name, labels, model, work / "policy.yaml")
        subprocess.run(
            [triage, "eval", str(work / "test.csv"), "--policy", str(work / "policy.yaml"), "--workflow", name,
             "--text-col", "text", "--label-col", "label", "--id-col", "id", "--model", "local",
             "--out", str(work), "--json", str(work / "summary.json")],
            check=True,
        )  # fmt: skip
    print(f"\nreports: {OUT}/<set>/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
