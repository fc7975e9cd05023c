"""Training the local model (development time only: numpy and scipy are imported lazily).

``train`` keeps a stratified slice apart, fits TF-IDF + multinomial logistic regression on the rest,
compacts it to the shipped form, then fits a temperature on the held-out slice and measures it there —
through the same pure-Python inference code that runs in Lambda, so what is reported is what ships. By
default it then refits on every row and ships that model with the held-out temperature.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_gate.localmodel.features import smooth_idf, term_counts
from triage_gate.localmodel.metrics import accuracy, expected_calibration_error, macro_f1
from triage_gate.localmodel.model import TextClassifier, softmax

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse

    FloatArray = npt.NDArray[np.float64]

__all__ = ["accuracy", "expected_calibration_error", "macro_f1", "train"]

DEFAULT_C = 10.0
DEFAULT_MAX_FEATURES = 30_000
DEFAULT_MIN_DF = 2
WEIGHT_STEP = 0.01
"""Weights are stored as integer multiples of this; the logit error that causes is far below 0.01."""
PRUNE_BELOW = 0.05
"""Weights smaller than this (after centring each feature's row) are left out of the artifact."""
IDF_STEP = 0.001

Counts = dict[str, int]


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    holdout: float = 0.15,
    c: float = DEFAULT_C,
    max_features: int = DEFAULT_MAX_FEATURES,
    min_df: int = DEFAULT_MIN_DF,
    refit: bool = True,
    task: str | None = None,
    workflow: str | None = None,
) -> TextClassifier:
    """Fit a calibrated classifier of ``texts`` into ``labels``.

    ``holdout`` is the stratified share of rows kept apart to fit the temperature and to measure accuracy,
    macro-F1 and ECE (0 disables both: temperature 1, no metrics). ``c`` is the inverse L2 strength
    (scikit-learn's ``C``); ``max_features`` caps the vocabulary, most frequent terms first; ``min_df``
    drops terms seen in fewer texts. With ``refit`` the shipped model is refitted on all rows.
    """
    _check_inputs(texts, labels, holdout, c, max_features)
    started = time.perf_counter()
    label_names = sorted(set(labels))
    counts = [term_counts(text) for text in texts]
    train_rows, held_rows = _stratified_split(labels, holdout, seed)
    metadata: dict[str, Any] = {"trained_at": datetime.now(UTC).isoformat(timespec="seconds")}
    metadata.update({key: value for key, value in (("task", task), ("workflow", workflow)) if value is not None})

    def fit(rows: Sequence[int]) -> TextClassifier:
        return _fit([counts[i] for i in rows], [labels[i] for i in rows], label_names, c, max_features, min_df)

    model = fit(train_rows)
    temperature, n_train = 1.0, len(train_rows)
    if held_rows:
        temperature, metadata["holdout"] = _calibrate(model, [texts[i] for i in held_rows], [labels[i] for i in held_rows])
        if refit:
            model, n_train = fit(range(len(texts))), len(texts)
    metadata.update(
        n_train=n_train,
        n_features=model.n_features,
        label_counts={name: sum(1 for y in labels if y == name) for name in label_names},
        hyperparameters={"c": c, "max_features": max_features, "min_df": min_df, "holdout": holdout, "seed": seed},
        training_seconds=round(time.perf_counter() - started, 2),
    )
    return TextClassifier.from_dict({**model.to_dict(), "temperature": temperature, "metadata": metadata})


def _check_inputs(texts: Sequence[str], labels: Sequence[str], holdout: float, c: float, max_features: int) -> None:
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if len(set(labels)) < 2:
        raise ValueError(f"need at least 2 distinct labels, got {sorted(set(labels))}")
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    if c <= 0 or max_features < 1:
        raise ValueError("c must be positive and max_features at least 1")


def _stratified_split(labels: Sequence[str], holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """Per label, a shuffled ``holdout`` share is held out; every label keeps at least one training row."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train_rows: list[int] = []
    held_rows: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        n_held = min(round(len(rows) * holdout), len(rows) - 1)
        held_rows.extend(rows[:n_held])
        train_rows.extend(rows[n_held:])
    return sorted(train_rows), sorted(held_rows)


def _fit(
    counts: Sequence[Counts], labels: Sequence[str], label_names: list[str], c: float, max_features: int, min_df: int
) -> TextClassifier:
    import numpy as np

    from triage_gate.localmodel.optimize import fit_softmax

    terms, idf_q = _vocabulary(counts, max_features, min_df)
    matrix = _tfidf_matrix(counts, terms, np.array(idf_q) * IDF_STEP)
    index = {name: k for k, name in enumerate(label_names)}
    weights, bias = fit_softmax(matrix, np.array([index[y] for y in labels]), len(label_names), c)
    return _compact(label_names, terms, idf_q, weights, bias)


def _vocabulary(counts: Sequence[Counts], max_features: int, min_df: int) -> tuple[list[str], list[int]]:
    """Terms in at least ``min_df`` texts (relaxed to 1 if that leaves none), most frequent first; quantised idf."""
    df: dict[str, int] = {}
    for row in counts:
        for term in row:
            df[term] = df.get(term, 0) + 1
    kept = [t for t, n in df.items() if n >= min_df] or list(df)
    kept.sort(key=lambda t: (-df[t], t))
    kept = kept[:max_features]
    return kept, [round(smooth_idf(len(counts), df[t]) / IDF_STEP) for t in kept]


def _tfidf_matrix(counts: Sequence[Counts], terms: list[str], idf: FloatArray) -> sparse.csr_matrix:
    """Rows = texts: L2-normalised sublinear TF-IDF, the arithmetic of ``TextClassifier.logits``."""
    import numpy as np
    from scipy import sparse

    column = {t: j for j, t in enumerate(terms)}
    indptr = [0]
    indices: list[int] = []
    tf: list[int] = []
    for row in counts:
        for term, n in row.items():
            j = column.get(term)
            if j is not None:
                indices.append(j)
                tf.append(n)
        indptr.append(len(indices))
    cols = np.array(indices, dtype=np.int64)
    values = (1.0 + np.log(np.array(tf, dtype=np.float64))) * idf[cols]
    matrix = sparse.csr_matrix((values, cols, np.array(indptr, dtype=np.int64)), shape=(len(counts), len(terms)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _compact(
    label_names: list[str], terms: list[str], idf_q: list[int], weights: FloatArray, bias: FloatArray
) -> TextClassifier:
    """Integer weights; each feature's row centred (softmax ignores a shift shared by all labels), near-zeros dropped."""
    import numpy as np

    centred = weights - np.median(weights, axis=1, keepdims=True)
    quantised = np.rint(centred / WEIGHT_STEP).astype(np.int64)
    quantised[np.abs(centred) < PRUNE_BELOW] = 0
    vocabulary: dict[str, list[int]] = {}
    rows, cols = np.nonzero(quantised)
    entries: dict[int, list[int]] = {}
    for j, k, w in zip(rows.tolist(), cols.tolist(), quantised[rows, cols].tolist(), strict=True):
        entries.setdefault(j, []).extend((k, w))
    for j, term in enumerate(terms):
        vocabulary[term] = [idf_q[j], *entries.get(j, ())]
    bias_q = np.rint((bias - bias.mean()) / WEIGHT_STEP).astype(np.int64).tolist()
    return TextClassifier(label_names, bias_q, vocabulary, weight_scale=WEIGHT_STEP, idf_scale=IDF_STEP)


def _calibrate(model: TextClassifier, texts: Sequence[str], labels: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """Fit the temperature on held-out rows and report metrics there (with an honest, cross-fitted ECE)."""
    from triage_gate.localmodel.optimize import fit_temperature

    logits = [model.logits(text) for text in texts]
    index = {name: k for k, name in enumerate(model.labels)}
    y = [index[label] for label in labels]
    predicted = [max(range(len(row)), key=row.__getitem__) for row in logits]
    correct = [p == t for p, t in zip(predicted, y, strict=True)]
    temperature = fit_temperature(logits, y)
    # A temperature measured on the rows it was fitted on flatters itself: fit on one half, measure the other.
    halves = (list(range(0, len(y), 2)), list(range(1, len(y), 2)))
    confidence = [0.0] * len(y)
    for fit_rows, eval_rows in (halves, halves[::-1]):
        t = fit_temperature([logits[i] for i in fit_rows], [y[i] for i in fit_rows]) if fit_rows else temperature
        for i in eval_rows:
            confidence[i] = max(softmax(logits[i], t))
    return temperature, {
        "n": len(y),
        "accuracy": round(accuracy(y, predicted), 4),
        "macro_f1": round(macro_f1(y, predicted), 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "ece_uncalibrated": round(expected_calibration_error([max(softmax(r)) for r in logits], correct), 4),
    }
