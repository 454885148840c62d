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


# --- paired measurement ----------------------------------------------------------------

PAIRED_METHOD = ("sign test: two-sided distribution-free interval of the median of the pairs' ratios "
                 "current/baseline")
# Beyond this, "pairs that would be needed" is given as "more than".
MAX_PAIRS_ESTIMATE = 10000


class Interval(NamedTuple):
    """A two-sided interval of a median with its estimate; an end is None where there are too few values."""

    lower: Optional[float]
    median: float
    upper: Optional[float]


def median_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """The two-sided distribution-free (sign test) interval of the median of `values`.

    The number B of values below the true median is Binomial(k, 1/2); the interval is the d-th
    smallest to the d-th largest value, with the greatest d such that P(B <= d - 1) is at most
    (1 - confidence) / 2, so it covers the median with at least `confidence`. At 95 % six values
    are the fewest (2 * 0.5**6 = 0.031); with fewer both ends are None.
    """
    if not values or not 0.0 < confidence < 1.0:
        raise ValueError(f"median_interval needs values and 0 < confidence < 1, got {len(values)}, {confidence}")
    ordered = sorted(values)
    k, tail = len(ordered), (1.0 - confidence) / 2.0
    depth, below = 0, 0.0
    for d in range(1, k // 2 + 1):
        below += math.comb(k, d - 1) * 0.5**k  # P(B <= d - 1)
        if below > tail:
            break
        depth = d
    middle = statistics.median(ordered)
    if depth == 0:
        return Interval(None, middle, None)
    return Interval(ordered[depth - 1], middle, ordered[k - depth])


def fewest_for_interval(confidence: float = 0.95) -> int:
    """The fewest values that give `median_interval` both ends (6 at 95 %)."""
    k = 1
    while 2.0 * 0.5**k > 1.0 - confidence:
        k += 1
    return k


def pairs_needed(pairs: int, interval: Interval, limit: float) -> Optional[int]:
    """About how many pairs would shrink `interval` until it no longer straddles `limit`.

    The interval's half-width shrinks as 1/sqrt(pairs); with the median where it is now, the side
    facing the limit must become shorter than the distance to it. None when the median sits on
    the limit itself (no count settles that); MAX_PAIRS_ESTIMATE + 1 means "more than that".
    """
    distance = abs(interval.median - limit)
    if distance == 0:
        return None
    if interval.lower is None or interval.upper is None:
        return max(pairs + 1, fewest_for_interval())
    width = interval.median - interval.lower if interval.median > limit else interval.upper - interval.median
    try:
        needed = pairs * (width / distance) ** 2
    except OverflowError:
        return MAX_PAIRS_ESTIMATE + 1
    return min(MAX_PAIRS_ESTIMATE + 1, max(pairs + 1, math.ceil(needed)))
