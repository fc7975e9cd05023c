"""The numerical core of training: softmax regression by L-BFGS, and temperature scaling.

Development time only (numpy and scipy, imported lazily); nothing here runs in Lambda.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

MAX_ITER = 500
LBFGS_MEMORY = 10
GTOL = 1e-5
"""Stop when no gradient component (of the mean loss) is larger than this..."""
FTOL = 1e-7
"""...or an iteration improves the objective by less than this fraction."""


def fit_softmax(matrix: Any, y: IntArray, n_classes: int, c: float) -> tuple[FloatArray, FloatArray]:
    """Multinomial logistic regression; returns (weights: features x classes, bias: classes).

    Minimises mean cross-entropy + ||W||² / (2 C n): scikit-learn's objective (C · Σ loss + ½||W||², the
    intercept unpenalised) divided by C · n, which has the same minimiser and better-scaled gradients.
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
        value = loss + 0.5 * penalty * float(np.einsum("i,i->", theta[:split], theta[:split]))
        return value, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

    theta = lbfgs(objective, np.zeros(split + n_classes))
    return theta[:split].reshape(n_features, n_classes), theta[split:]


def lbfgs(objective: Callable[[FloatArray], tuple[float, FloatArray]], x: FloatArray) -> FloatArray:
    """Unconstrained limited-memory BFGS with a backtracking (Armijo) line search; returns the minimiser.

    scipy's L-BFGS-B spends ~50 ms an iteration on bound bookkeeping at 10^6 parameters, several times the
    cost of our objective. Vector maths here stays in numpy's own loops, not BLAS: multi-threaded BLAS on a
    busy 2-core machine turned microsecond dot products into milliseconds.
    """
    import numpy as np

    value, grad = objective(x)
    history: deque[tuple[FloatArray, FloatArray, float]] = deque(maxlen=LBFGS_MEMORY)
    scratch = np.empty_like(x)
    for _ in range(MAX_ITER):
        direction = _search_direction(grad, history, scratch)
        slope = _dot(grad, direction)
        if slope >= 0:  # not a descent direction (rounding): restart from steepest descent
            history.clear()
            direction, slope = -grad, -_dot(grad, grad)
        candidate, new_value, new_grad = _line_search(objective, x, value, direction, slope)
        s = candidate - x
        y = new_grad - grad
        sy = _dot(s, y)
        if sy > 1e-12:
            history.append((s, y, 1.0 / sy))
        converged = value - new_value <= FTOL * max(abs(value), abs(new_value), 1.0)
        x, value, grad = candidate, new_value, new_grad
        if converged or float(np.abs(grad).max()) <= GTOL:
            break
    return x


def _dot(a: FloatArray, b: FloatArray) -> float:
    """a · b in numpy's own loop (einsum), not BLAS: see `lbfgs`."""
    import numpy as np

    return float(np.einsum("i,i->", a, b))


def _search_direction(
    grad: FloatArray, history: deque[tuple[FloatArray, FloatArray, float]], scratch: FloatArray
) -> FloatArray:
    """The L-BFGS two-loop recursion: the inverse-Hessian estimate (from `history`) applied to -grad.

    Without history, steepest descent scaled so that no component exceeds 1.
    """
    import numpy as np

    direction = -grad
    alphas = []
    for s, y, rho in reversed(history):
        alpha = rho * _dot(s, direction)
        direction -= np.multiply(y, alpha, out=scratch)
        alphas.append(alpha)
    if history:
        s, y, _ = history[-1]
        direction *= _dot(s, y) / _dot(y, y)
    else:
        direction /= max(1.0, float(np.abs(grad).max()))
    for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
        direction += np.multiply(s, alpha - rho * _dot(y, direction), out=scratch)
    return direction


def _line_search(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    x: FloatArray,
    value: float,
    direction: FloatArray,
    slope: float,
) -> tuple[FloatArray, float, FloatArray]:
    """Backtracking (Armijo): halve the step from 1 until the objective falls enough (or the step is < 1e-8).

    Returns (the accepted point, its value, its gradient).
    """
    step = 1.0
    while True:
        candidate = x + step * direction
        new_value, new_grad = objective(candidate)
        if new_value <= value + 1e-4 * step * slope or step < 1e-8:
            return candidate, new_value, new_grad
        step *= 0.5


def fit_temperature(logits: Sequence[Sequence[float]], y: Sequence[int]) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T) (T in [0.05, 20])."""
    import numpy as np
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]  # scipy ships no type stubs

    scores = np.array(logits, dtype=np.float64)
    picked = scores[np.arange(len(y)), np.array(y, dtype=np.int64)]

    def nll(log_t: float) -> float:
        scaled = scores / math.exp(log_t)
        top = scaled.max(axis=1)
        log_total = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        return float((log_total - picked / math.exp(log_t)).mean())

    result = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return round(math.exp(float(result.x)), 4)
