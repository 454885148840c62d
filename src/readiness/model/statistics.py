"""Statistics over samples, shared by the cells that take them and the verdict that judges them."""

from __future__ import annotations

import math
import statistics
from typing import Optional, Sequence, TypedDict


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
