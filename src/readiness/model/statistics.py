"""Statistics over samples, shared by the cells that take them and the verdict that judges them."""

from __future__ import annotations

import math
import statistics
from typing import NamedTuple, Optional, Sequence, TypedDict


class Summary(TypedDict):
    """Summary statistics of one measurement's samples."""

    n: int
    median: float
    mean: float
    stdev: Optional[float]
    min: float
    max: float
    p95: float



def summarize(samples: Sequence[float]) -> Summary:
    """n, median, mean, stdev (None below two samples), min, max and nearest-rank p95."""
    if not samples:
        raise ValueError("cannot summarize a measurement without samples")
    ordered = sorted(samples)
    return Summary(
        n=len(ordered),
        median=statistics.median(ordered),
        mean=statistics.fmean(ordered),
        stdev=statistics.stdev(ordered) if len(ordered) > 1 else None,
        min=ordered[0],
        max=ordered[-1],
        p95=percentile(ordered, 95.0),
    )


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile: a value that was actually observed."""
    if not samples or not 0.0 < q <= 100.0:
        raise ValueError(f"percentile needs samples and 0 < q <= 100, got q={q}")
    ordered = sorted(samples)
    return ordered[math.ceil(q / 100.0 * len(ordered)) - 1]


class Bounds(NamedTuple):
    """One-sided confidence bounds of a quantile; None where the samples are too few to give one."""

    lower: Optional[float]
    upper: Optional[float]


def sign_test_bounds(samples: Sequence[float], q: float = 0.5, confidence: float = 0.95) -> Bounds:
    """One-sided distribution-free (sign test) bounds of the q-quantile, each at `confidence`.

    The number B of samples below the true q-quantile is Binomial(k, q). The upper bound is the
    j-th smallest sample with the least j such that P(B >= j) <= 1 - confidence; the lower bound
    the i-th smallest with the greatest i such that P(B <= i - 1) <= 1 - confidence. For the
    median with k samples the extreme bound has level 1 - 0.5**k: five samples are the fewest.
    """
    if not 0.0 < q < 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError(f"sign_test_bounds needs 0 < q < 1 and 0 < confidence < 1, got {q}, {confidence}")
    ordered = sorted(samples)
    k, alpha = len(ordered), 1.0 - confidence
    pmf = [math.comb(k, b) * q**b * (1.0 - q) ** (k - b) for b in range(k + 1)]
    upper = next((ordered[j - 1] for j in range(1, k + 1) if sum(pmf[j:]) <= alpha), None)
    lower = next((ordered[i - 1] for i in range(k, 0, -1) if sum(pmf[:i]) <= alpha), None)
    return Bounds(lower, upper)
