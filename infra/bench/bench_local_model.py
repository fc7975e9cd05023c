"""`make bench`: the local model against scikit-learn on the shared labelled sets, like with like.

For each set in ../shared/data: a stratified 80/20 split (fixed seed), then our model (pure-Python
inference, numpy/scipy training: TF-IDF of word unigrams, bigrams and 5-letter prefixes, min_df 2, at most
20,000 terms, sublinear TF, L2 rows; multinomial logistic regression at C=10, triage_tools.training's
DEFAULT_C) and three scikit-learn references, all trained and measured in the same run:

  sklearn C=1 words     TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2) + LogisticRegression()
                        at its default C=1: the reference this bench used to compare with
  sklearn C=10 words    the same features at our C
  sklearn C=10 ours     our C and our features: TfidfVectorizer(analyzer=our term list, min_df=2,
                        max_features=20,000, sublinear_tf=True) — the like-with-like row

Targets: macro-F1 within 3 points of the like-with-like reference on every set; ECE (10 bins) under 0.05.
Our ECE is after the temperature our trainer fits on held-out rows; sklearn's is uncalibrated.
Numbers, not pass/fail on time: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT / "infra" / "tools")]
DATA = ROOT.parent / "shared" / "data"

SEED = 0
TEST_SHARE = 0.2
TIMED_PREDICTIONS = 1_000
"""Per-prediction latency is timed on at most this many test texts (one text per call, not a batch)."""
F1_MARGIN = 0.03
HEADER = ("set", "model", "train rows", "accuracy", "macro-F1", "ECE", "train s", "µs/pred", "artifact", "load ms")
ECE_TARGET = 0.05
QUICK_TRAIN_ROWS = 2_000


@dataclass(frozen=True)
class DataSet:
    name: str
    path: str
    text_col: str
    label_col: str
    max_train_rows: int | None = None
    """Cap on training rows (every model gets the same rows), to keep `make bench` within ~6 minutes."""


SETS = [
    DataSet("it-service-tickets", "it-service-tickets/tickets.csv", "Document", "Topic_group", max_train_rows=12_000),
    DataSet("bitext-customer-support", "bitext-customer-support/tickets.csv", "instruction", "category"),
    DataSet("banking77", "banking77/train.csv", "text", "category"),
]


@dataclass(frozen=True)
class Result:
    accuracy: float
    macro_f1: float
    ece: float
    train_s: float
    us_per_prediction: float
    artifact_bytes: int
    load_ms: float


def load(dataset: DataSet) -> tuple[list[str], list[str]]:
    with (DATA / dataset.path).open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r[dataset.text_col].strip() and r[dataset.label_col].strip()]
    return [r[dataset.text_col] for r in rows], [r[dataset.label_col] for r in rows]


def stratified_split(labels: Sequence[str], test_share: float, seed: int) -> tuple[list[int], list[int]]:
    """Per label, a shuffled ``test_share`` of rows goes to test (at least one row stays in train)."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        n_test = min(round(len(rows) * test_share), len(rows) - 1)
        test += rows[:n_test]
        train += rows[n_test:]
    return sorted(train), sorted(test)


def score(truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float]) -> tuple[float, float, float]:
    from triage_tools.training import accuracy, expected_calibration_error, macro_f1

    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    return accuracy(truth, predicted), macro_f1(truth, predicted), expected_calibration_error(confidence, correct)


def time_per_call_us(fn: Callable[[str], Any], texts: Sequence[str]) -> float:
    sample = list(texts[:TIMED_PREDICTIONS])
    for text in sample[:50]:
        fn(text)
    start = time.perf_counter()
    for text in sample:
        fn(text)
    return (time.perf_counter() - start) / len(sample) * 1e6


def run_ours(train_x: list[str], train_y: list[str], test_x: list[str], test_y: list[str]) -> Result:
    from triage_gate.localmodel import TextClassifier
    from triage_tools.training import train

    start = time.perf_counter()
    model = train(train_x, train_y, seed=SEED)
    train_s = time.perf_counter() - start
    artifact = model.dumps().encode("utf-8")
    start = time.perf_counter()
    model = TextClassifier.from_dict(json.loads(artifact))  # what `load` does after reading the file
    load_ms = (time.perf_counter() - start) * 1000
    predictions = [model.predict(text) for text in test_x]
    acc, f1, ece = score(test_y, [label for label, _ in predictions], [p for _, p in predictions])
    return Result(acc, f1, ece, train_s, time_per_call_us(model.predict, test_x), len(artifact), load_ms)


@dataclass(frozen=True)
class Reference:
    name: str
    c: float
    our_features: bool


def our_terms(text: str) -> list[str]:
    """Our featurizer's terms (unigrams, bigrams, 5-letter prefixes), as a scikit-learn analyzer."""
    from triage_gate.localmodel.features import ngrams, tokenize

    return ngrams(tokenize(text))


def references() -> list[Reference]:
    from triage_tools.training.train import DEFAULT_C

    return [
        Reference("sklearn C=1 words", 1.0, our_features=False),
        Reference(f"sklearn C={DEFAULT_C:g} words", DEFAULT_C, our_features=False),
        Reference(f"sklearn C={DEFAULT_C:g} ours", DEFAULT_C, our_features=True),
    ]


def run_reference(
    reference: Reference, train_x: list[str], train_y: list[str], test_x: list[str], test_y: list[str]
) -> Result:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]

    from triage_tools.training.train import DEFAULT_MAX_FEATURES, DEFAULT_MIN_DF

    if reference.our_features:
        vectorizer = TfidfVectorizer(
            analyzer=our_terms, min_df=DEFAULT_MIN_DF, max_features=DEFAULT_MAX_FEATURES, sublinear_tf=True
        )
    else:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    pipeline = make_pipeline(vectorizer, LogisticRegression(C=reference.c, max_iter=1000))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(train_x, train_y)
    train_s = time.perf_counter() - start
    probabilities = pipeline.predict_proba(test_x)
    classes = list(pipeline.classes_)
    best = probabilities.argmax(axis=1)
    acc, f1, ece = score(test_y, [classes[k] for k in best], probabilities.max(axis=1).tolist())
    us = time_per_call_us(lambda text: pipeline.predict_proba([text]), test_x)
    artifact = pickle.dumps(pipeline)
    start = time.perf_counter()
    pickle.loads(artifact)  # noqa: S301 - our own bytes, just made
    return Result(acc, f1, ece, train_s, us, len(artifact), (time.perf_counter() - start) * 1000)


def cells(result: Result) -> tuple[str, ...]:
    return (
        f"{result.accuracy:.4f}",
        f"{result.macro_f1:.4f}",
        f"{result.ece:.4f}",
        f"{result.train_s:.1f}",
        f"{result.us_per_prediction:.0f}",
        size(result.artifact_bytes),
        f"{result.load_ms:.0f}",
    )


def size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_local_model.py",
        description="The local model against scikit-learn at its default C and at ours, on ../shared/data.",
    )
    parser.add_argument("--quick", action="store_true", help=f"train on at most {QUICK_TRAIN_ROWS} rows per set")
    parser.add_argument("--max-train-rows", type=int, help="train on at most this many rows per set (all models alike)")
    args = parser.parse_args(argv)
    if args.max_train_rows is not None and args.max_train_rows < 10:
        parser.error("--max-train-rows must be at least 10")
    args.cap = args.max_train_rows or (QUICK_TRAIN_ROWS if args.quick else None)
    return args


def split(dataset: DataSet, cap: int | None) -> tuple[list[str], list[str], list[str], list[str]]:
    """Stratified train/test texts and labels; the training rows capped (the same rows for every model)."""
    texts, labels = load(dataset)
    train_rows, test_rows = stratified_split(labels, TEST_SHARE, SEED)
    limit = min(x for x in (cap, dataset.max_train_rows, len(train_rows)) if x is not None)
    if len(train_rows) > limit:
        random.Random(SEED).shuffle(train_rows)
        train_rows = sorted(train_rows[:limit])
    return (
        [texts[i] for i in train_rows],
        [labels[i] for i in train_rows],
        [texts[i] for i in test_rows],
        [labels[i] for i in test_rows],
    )


def targets(ours: Result, like_with_like: Result) -> tuple[str, bool]:
    """The verdict text against the same-C, same-features reference, and whether both targets were met."""
    f1_met = ours.macro_f1 >= like_with_like.macro_f1 - F1_MARGIN
    ece_met = ours.ece < ECE_TARGET
    text = (
        f"F1 ≥ same-C-ours ref - {F1_MARGIN * 100:.0f}pt: {'met' if f1_met else 'MISSED'}; "
        f"ECE < {ECE_TARGET}: {'met' if ece_met else 'MISSED'}"
    )
    return text, f1_met and ece_met


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not DATA.is_dir():
        print(f"bench_local_model: {DATA} is absent (a fresh clone has no ../shared/data); nothing to measure.")
        return 0
    try:
        import sklearn  # type: ignore[import-untyped]
    except ImportError:
        print("bench_local_model: scikit-learn is not installed (pip install -r requirements/bench.txt); skipped.")
        return 0
    print(
        f"Python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cores, scikit-learn "
        f"{sklearn.__version__}; stratified {1 - TEST_SHARE:.0%}/{TEST_SHARE:.0%} split, seed {SEED}; one training "
        f"run per model (the scores are deterministic; train s and µs/pred are single runs); µs/pred = one text "
        f"per call, mean over the first {TIMED_PREDICTIONS} test texts\n"
    )
    header = (*HEADER, "targets")
    rows: list[tuple[str, ...]] = []
    missed = []
    total_start = time.perf_counter()
    for dataset in SETS:
        if not (DATA / dataset.path).is_file():
            rows.append((dataset.name, "(file absent: skipped)", *[""] * (len(header) - 2)))
            continue
        data = split(dataset, args.cap)
        ours = run_ours(*data)
        results = [(reference.name, run_reference(reference, *data)) for reference in references()]
        verdict, met = targets(ours, results[-1][1])
        if not met:
            missed.append(dataset.name)
        n_train = f"{len(data[0])}" + (" (capped)" if args.cap or dataset.max_train_rows else "")
        rows.append((dataset.name, "triage local C=10 ours", n_train, *cells(ours), verdict))
        rows += [(dataset.name, name, n_train, *cells(result), "") for name, result in results]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(
        "\n'ours' = our features (words + bigrams + 5-letter prefixes, min_df 2, ≤ 20,000 terms); 'words' = "
        "sklearn's word uni+bigrams, min_df 2.\nartifact: ours = JSON bytes (what ships in the layer), "
        f"sklearn = pickle bytes; load ms = parse them. Total {time.perf_counter() - total_start:.0f} s."
    )
    print("All targets met." if not missed else f"Targets missed on: {', '.join(missed)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
