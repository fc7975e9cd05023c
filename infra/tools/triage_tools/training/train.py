"""Training the local model (development time only: numpy and scipy are imported lazily).

``train`` keeps a stratified slice apart (or, for small data sets, takes folds in turn), fits TF-IDF +
multinomial logistic regression on the rest, compacts it to the shipped form, then fits a temperature on
the held-out scores and measures accuracy, macro-F1 and ECE there — through the same pure-Python
inference code that runs in Lambda, so what is reported is what ships. It then refits on every row and
ships that model with the held-out temperature.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_gate.localmodel.features import smooth_idf, term_counts
from triage_gate.localmodel.model import TextClassifier, softmax
from triage_tools.training.languages import training_languages
from triage_tools.training.metrics import accuracy, expected_calibration_error, macro_f1

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = ["accuracy", "expected_calibration_error", "macro_f1", "train"]

DEFAULT_C = 10.0
DEFAULT_MAX_FEATURES = 20_000
DEFAULT_MIN_DF = 2
WEIGHT_STEP = 0.01
"""Weights are stored as integer multiples of this; the logit error that causes is far below 0.01."""
PRUNE_BELOW = 0.2
"""Weights smaller than this (after centring each feature's row) are left out of the artifact."""
IDF_STEP = 0.001
CROSS_FIT_BELOW = 2_000
"""Data sets smaller than this are calibrated and measured by cross-validation, not one held-out slice."""
MAX_FOLDS = 10

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
    macro-F1 and ECE (0 disables both: temperature 1, no metrics). Under ``CROSS_FIT_BELOW`` rows one slice
    is too small for either, so every row takes a turn: ``round(1 / holdout)`` folds (2 to 10), each held out once,
    and the temperature and metrics come from all the out-of-fold predictions. ``c`` is the inverse L2
    strength (scikit-learn's ``C``); ``max_features`` caps the vocabulary, most frequent terms first;
    ``min_df`` drops terms seen in fewer texts. The shipped model is fitted on every row, unless ``refit``
    is false and a single holdout was used (it then ships the model that was measured).
    """
    _check_inputs(texts, labels, holdout, c, max_features)
    started = time.perf_counter()
    label_names = sorted(set(labels))
    counts = [term_counts(text) for text in texts]
    metadata: dict[str, Any] = {"trained_at": datetime.now(UTC).isoformat(timespec="seconds")}
    metadata.update({key: value for key, value in (("task", task), ("workflow", workflow)) if value is not None})

    def fit(rows: Sequence[int]) -> TextClassifier:
        return _fit([counts[i] for i in rows], [labels[i] for i in rows], label_names, c, max_features, min_df)

    folds = _stratified_folds(labels, holdout, seed)
    model, temperature = None, 1.0
    if folds:
        # Out-of-fold scores through the shipped (compacted, pure-Python) form: what is measured is what ships.
        held: list[int] = []
        logits: list[list[float]] = []
        for fold in folds:
            in_fold = set(fold)
            model = fit([i for i in range(len(texts)) if i not in in_fold])
            held += fold
            logits += [model.logits(texts[i]) for i in fold]
        temperature, metadata["holdout"] = _calibrate(logits, [label_names.index(labels[i]) for i in held])
        metadata["holdout"]["method"] = "holdout" if len(folds) == 1 else f"{len(folds)}-fold cross-validation"
    n_train = len(texts) - (len(folds[0]) if len(folds) == 1 and not refit else 0)
    if model is None or n_train == len(texts):
        model = fit(range(len(texts)))
    metadata.update(
        n_train=n_train,
        n_features=model.n_features,
        label_counts={name: sum(1 for y in labels if y == name) for name in label_names},
        hyperparameters={"c": c, "max_features": max_features, "min_df": min_df, "holdout": holdout, "seed": seed},
        languages=training_languages(texts),
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


def _stratified_folds(labels: Sequence[str], holdout: float, seed: int) -> list[list[int]]:
    """Row indices to hold out: one stratified ``holdout`` share, or (small data) ``round(1 / holdout)`` folds.

    Every label keeps at least one training row in the single-holdout case.
    """
    if holdout == 0:
        return []
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for label in sorted(by_label):
        rng.shuffle(by_label[label])
    if len(labels) < CROSS_FIT_BELOW:
        n_folds = min(max(2, round(1 / holdout)), MAX_FOLDS)
        folds: list[list[int]] = [[] for _ in range(n_folds)]
        position = 0  # deal labels round-robin across folds, continuing where the last label stopped
        for label in sorted(by_label):
            for i in by_label[label]:
                folds[position % n_folds].append(i)
                position += 1
        return [sorted(fold) for fold in folds if fold]
    held: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        held += rows[: min(round(len(rows) * holdout), len(rows) - 1)]
    return [sorted(held)] if held else []


def _fit(
    counts: Sequence[Counts], labels: Sequence[str], label_names: list[str], c: float, max_features: int, min_df: int
) -> TextClassifier:
    import numpy as np

    from triage_tools.training.optimize import fit_softmax

    terms, idf_q = _vocabulary(counts, max_features, min_df)
    matrix = _tfidf_matrix(counts, terms, np.array(idf_q) * IDF_STEP)
    index = {name: k for k, name in enumerate(label_names)}
    y = np.array([index[label] for label in labels])
    weights, bias = fit_softmax(matrix, y, len(label_names), c)
    prior = (np.bincount(y, minlength=len(label_names)) / len(y)).tolist()
    return _compact(label_names, terms, idf_q, weights, bias, prior)


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


def _tfidf_matrix(counts: Sequence[Counts], terms: list[str], idf: FloatArray) -> Any:
    """Rows = texts: L2-normalised sublinear TF-IDF, the arithmetic of ``TextClassifier.logits``."""
    import numpy as np
    from scipy import sparse  # type: ignore[import-untyped]  # scipy ships no type stubs

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
    label_names: list[str],
    terms: list[str],
    idf_q: list[int],
    weights: FloatArray,
    bias: FloatArray,
    prior: list[float],
) -> TextClassifier:
    """Integer weights; each feature's row centred (softmax ignores a shift shared by all labels), near-0 dropped."""
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
    return TextClassifier(label_names, bias_q, vocabulary, prior, weight_scale=WEIGHT_STEP, idf_scale=IDF_STEP)


def _calibrate(logits: Sequence[list[float]], y: Sequence[int]) -> tuple[float, dict[str, Any]]:
    """Fit the temperature on held-out scores and report metrics there (with an honest, cross-fitted ECE)."""
    from triage_tools.training.optimize import fit_temperature

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
