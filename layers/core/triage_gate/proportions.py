"""How sure a measured proportion is: the Wilson score interval.

One implementation for the runtime (the rollout promotion gate, the weekly digest) and the tools (evaluation,
calibration, reports). Standard library only.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["wilson_lower_bound", "wilson_upper_bound", "z_for"]


def z_for(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level: 0.95 → 1.96."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"a confidence level is between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf((1.0 + confidence) / 2.0)


def _interval(successes: int, n: int, z: float) -> tuple[float, float]:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n)), min(1.0, (centre + spread) / (1 + z2 / n))


def wilson_lower_bound(successes: int, n: int, z: float = 1.96) -> float:
    """Lower end of the Wilson score interval for a proportion ``successes / n`` (0.0 for n = 0).

    (p + z²/2n - z * sqrt(p(1 - p)/n + z²/4n²)) / (1 + z²/n), with p = successes / n; z = 1.96 is the
    two-sided 95% interval (a one-sided 97.5% bound).
    """
    if n == 0 and successes == 0:
        return 0.0
    return _interval(successes, n, z)[0]


def wilson_upper_bound(successes: int, n: int, z: float = 1.96) -> float:
    """Upper end of the same interval: (p + z²/2n + z * sqrt(...)) / (1 + z²/n) (1.0 for n = 0: no evidence
    rules nothing out)."""
    if n == 0 and successes == 0:
        return 1.0
    return _interval(successes, n, z)[1]
