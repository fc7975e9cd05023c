"""Training the local model (development time only: needs numpy and scipy, imported lazily).

``train`` holds out a stratified slice, fits TF-IDF + multinomial logistic regression on the rest,
compacts it to the shipped form, fits a temperature on the held-out slice (through the same pure-Python
inference code that runs in Lambda) and reports held-out metrics; then, by default, refits on every row
and ships that model with the held-out temperature.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from triage_gate.localmodel.features import document_frequencies, smooth_idf, sublinear_tf, term_counts
from triage_gate.localmodel.metrics import accuracy, expected_calibration_error, macro_f1
from triage_gate.localmodel.model import TextClassifier

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
"""Weights are stored as integer multiples of this; the logit error it causes is far below 0.01."""
PRUNE_BELOW = 0.05
"""Weights smaller than this (after centring each row) are dropped from the artifact."""
IDF_STEP = 0.001
MAX_ITER = 500
LBFGS_MEMORY = 10
GTOL = 1e-5
FTOL = 1e-9


@dataclass(frozen=True)
class _Fit:
    model: TextClassifier
    seconds: float


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

    ``holdout`` (0 disables it, and calibration with it) is the stratified share of rows kept apart to fit
    the temperature and measure accuracy, macro-F1 and ECE. ``c`` is the inverse L2 strength (as
    scikit-learn's ``C``); ``max_features`` caps the vocabulary (most frequent first) and ``min_df`` drops
    terms seen in fewer documents. With ``refit`` the shipped model is refitted on all rows.
    """
    _check_inputs(texts, labels, holdout, c, max_features)
    label_names = sorted(set(labels))
    started = time.perf_counter()
    train_idx, held_idx = _stratified_split(labels, holdout, seed)
    metadata: dict[str, Any] = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": task,
        "workflow": workflow,
        "hyperparameters": {"c": c, "max_features": max_features, "min_df": min_df, "holdout": holdout, "seed": seed},
        "label_counts": {name: sum(1 for y in labels if y == name) for name in label_names},
    }
    if workflow is None:
        del metadata["workflow"]
    if task is None:
        del metadata["task"]

    fitted = _fit([texts[i] for i in train_idx], [labels[i] for i in train_idx], label_names, c, max_features, min_df)
    temperature = 1.0
    if held_idx:
        held_texts = [texts[i] for i in held_idx]
        held_labels = [labels[i] for i in held_idx]
        temperature, report = _calibrate(fitted.model, held_texts, held_labels)
        metadata["holdout"] = report
    if refit and held_idx:
        fitted = _fit(list(texts), list(labels), label_names, c, max_features, min_df)
        n_train = len(texts)
    else:
        n_train = len(train_idx)
    model = fitted.model
    metadata.update(
        n_train=n_train,
        n_features=model.n_features,
        training_seconds=round(time.perf_counter() - started, 2),
    )
    return TextClassifier(
        model.labels,
        model._bias,
        model._vocabulary,
        temperature=temperature,
        weight_scale=WEIGHT_STEP,
        idf_scale=IDF_STEP,
        metadata=metadata,
    )


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
    """Per label, a shuffled ``holdout`` share goes to the held-out side; every label keeps a training row."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train_idx: list[int] = []
    held_idx: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        n_held = min(round(len(rows) * holdout), len(rows) - 1)
        held_idx.extend(rows[:n_held])
        train_idx.extend(rows[n_held:])
    return sorted(train_idx), sorted(held_idx)


def _fit(
    texts: Sequence[str], labels: Sequence[str], label_names: list[str], c: float, max_features: int, min_df: int
) -> _Fit:
    import numpy as np

    started = time.perf_counter()
    terms, idf = _vocabulary(texts, max_features, min_df)
    matrix = _tfidf_matrix(texts, {t: j for j, t in enumerate(terms)}, idf)
    index = {name: k for k, name in enumerate(label_names)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    weights, bias = _fit_softmax(matrix, y, len(label_names), c)
    model = _compact(label_names, terms, idf, weights, bias)
    return _Fit(model, time.perf_counter() - started)


def _vocabulary(texts: Sequence[str], max_features: int, min_df: int) -> tuple[list[str], list[float]]:
    """Terms in at least ``min_df`` texts (relaxed to 1 when that leaves nothing), most frequent first."""
    df = document_frequencies(texts)
    kept = [t for t, n in df.items() if n >= min_df] or list(df)
    kept.sort(key=lambda t: (-df[t], t))
    kept = kept[:max_features]
    return kept, [smooth_idf(len(texts), df[t]) for t in kept]


def _tfidf_matrix(texts: Sequence[str], column: dict[str, int], idf: list[float]) -> sparse.csr_matrix:
    """Rows = texts, L2-normalised sublinear TF-IDF, the same arithmetic as ``TextClassifier.logits``."""
    import numpy as np
    from scipy import sparse

    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        row = [(column[t], sublinear_tf(n) * idf[column[t]]) for t, n in term_counts(text).items() if t in column]
        norm = sum(v * v for _, v in row) ** 0.5 or 1.0
        indices.extend(j for j, _ in row)
        values.extend(v / norm for _, v in row)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.array(values), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(len(texts), len(idf)),
    )


def _fit_softmax(matrix: sparse.csr_matrix, y: FloatArray, n_classes: int, c: float) -> tuple[FloatArray, FloatArray]:
    """Multinomial logistic regression: minimise mean cross-entropy + ||W||² / (2 C n) with L-BFGS.

    The objective is scikit-learn's (C · Σ loss + ½||W||², intercept unpenalised) divided by C · n, which
    has the same minimiser and better-scaled gradients.
    """
    import numpy as np

    n, n_features = matrix.shape
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), y] = 1.0
    matrix_t = matrix.T.tocsr()
    penalty = 1.0 / (c * n)
    split = n_features * n_classes

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        weights = theta[:split].reshape(n_features, n_classes)
        scores = matrix @ weights + theta[split:]
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        total = exp.sum(axis=1, keepdims=True)
        loss = float(np.log(total).sum() - (scores * onehot).sum()) / n
        residual = (exp / total - onehot) / n
        grad_w = matrix_t @ residual + penalty * weights
        value = loss + 0.5 * penalty * float((weights * weights).sum())
        return value, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

    theta = _lbfgs(objective, np.zeros(split + n_classes))
    return theta[:split].reshape(n_features, n_classes), theta[split:]


def _lbfgs(objective: Callable[[FloatArray], tuple[float, FloatArray]], x: FloatArray) -> FloatArray:
    """Limited-memory BFGS with a backtracking (Armijo) line search.

    scipy's L-BFGS-B spends ~50 ms an iteration on bound bookkeeping at 10^6 parameters, several times the
    cost of the objective itself; this unbounded two-loop version does the same job for a fraction.
    """
    import numpy as np

    value, grad = objective(x)
    history: deque[tuple[FloatArray, FloatArray, float]] = deque(maxlen=LBFGS_MEMORY)
    for _ in range(MAX_ITER):
        direction = -grad
        alphas = []
        for s, y, rho in reversed(history):
            alpha = rho * float(s @ direction)
            direction = direction - alpha * y
            alphas.append(alpha)
        if history:
            s, y, _ = history[-1]
            direction *= float(s @ y) / float(y @ y)
        else:
            direction /= max(1.0, float(np.abs(grad).max()))
        for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
            direction += (alpha - rho * float(y @ direction)) * s
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from steepest descent
            history.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_grad = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-8:
                break
            step *= 0.5
        s, y = candidate - x, new_grad - grad
        sy = float(s @ y)
        if sy > 1e-12:
            history.append((s, y, 1.0 / sy))
        converged = value - new_value <= FTOL * max(abs(value), abs(new_value), 1.0)
        x, value, grad = candidate, new_value, new_grad
        if converged or float(np.abs(grad).max()) <= GTOL:
            break
    return x


def _compact(
    label_names: list[str], terms: list[str], idf: list[float], weights: FloatArray, bias: FloatArray
) -> TextClassifier:
    """Integer weights, each feature row centred (softmax ignores a shared shift) and near-zeros dropped."""
    import numpy as np

    centred = weights - np.median(weights, axis=1, keepdims=True)
    quantised = np.rint(centred / WEIGHT_STEP).astype(np.int64)
    quantised[np.abs(centred) < PRUNE_BELOW] = 0
    vocabulary: dict[str, list[int]] = {}
    for j, term in enumerate(terms):
        row = [round(idf[j] / IDF_STEP)]
        for k in np.flatnonzero(quantised[j]):
            row += [int(k), int(quantised[j, k])]
        vocabulary[term] = row
    bias_q = np.rint((bias - bias.mean()) / WEIGHT_STEP).astype(np.int64)
    return TextClassifier(
        label_names, [int(b) for b in bias_q], vocabulary, weight_scale=WEIGHT_STEP, idf_scale=IDF_STEP
    )


def _calibrate(model: TextClassifier, texts: Sequence[str], labels: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """Fit the temperature on held-out rows; report metrics, with an honest (cross-fitted) ECE."""
    logits = [model.logits(text) for text in texts]
    index = {name: k for k, name in enumerate(model.labels)}
    y = [index[label] for label in labels]
    temperature = _fit_temperature(logits, y)
    # ECE of a temperature fitted on the very rows it is measured on flatters; fit on one half, measure on
    # the other, both ways round.
    halves = (list(range(0, len(y), 2)), list(range(1, len(y), 2)))
    confidences: list[float] = []
    correct: list[bool] = []
    for fit_rows, eval_rows in (halves, halves[::-1]):
        t = _fit_temperature([logits[i] for i in fit_rows], [y[i] for i in fit_rows]) if fit_rows else temperature
        for i in eval_rows:
            probabilities = _softmax(logits[i], t)
            best = max(range(len(probabilities)), key=probabilities.__getitem__)
            confidences.append(probabilities[best])
            correct.append(best == y[i])
    predicted = [max(range(len(row)), key=row.__getitem__) for row in logits]
    raw_confidences = [max(_softmax(row, 1.0)) for row in logits]
    report = {
        "n": len(y),
        "accuracy": round(accuracy(y, predicted), 4),
        "macro_f1": round(macro_f1(y, predicted), 4),
        "ece": round(expected_calibration_error(confidences, correct), 4),
        "ece_uncalibrated": round(
            expected_calibration_error(raw_confidences, [p == t for p, t in zip(predicted, y, strict=True)]), 4
        ),
    }
    return temperature, report


def _fit_temperature(logits: Sequence[Sequence[float]], y: Sequence[int]) -> float:
    """The temperature minimising held-out negative log-likelihood (searched on a log scale)."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    scores = np.array(logits, dtype=np.float64)
    target = np.array(y, dtype=np.int64)
    picked = scores[np.arange(len(target)), target]

    def nll(log_t: float) -> float:
        scaled = scores / np.exp(log_t)
        top = scaled.max(axis=1)
        log_total = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        return float((log_total - picked / np.exp(log_t)).mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return round(float(np.exp(result.x)), 4)


def _softmax(scores: Sequence[float], temperature: float) -> list[float]:
    import math

    scaled = [s / temperature for s in scores]
    top = max(scaled)
    exps = [math.exp(s - top) for s in scaled]
    total = sum(exps)
    return [e / total for e in exps]
