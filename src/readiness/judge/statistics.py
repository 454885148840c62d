"""Measured changes: a measurement against its baseline, judged with a stated test.

    measured_change(base, new, max_increase_pct, min_effect, same_machine, why) -> MeasuredChange
    ratio_interval(base, new) -> (estimate %, low %, high %)   (Hodges-Lehmann)
    mann_whitney_p(a, b) -> two-sided p-value;  samples_to_settle(...) -> samples per run

A measured change is judged with a stated test: a two-sided Mann-Whitney U test (normal
approximation with tie correction) at p < 0.05 with the Hodges-Lehmann 95 % interval of the
ratio new/baseline, plus a minimum effect. A relative budget passes only when the whole interval
is within it, fails only when the whole interval is beyond it, and is INCONCLUSIVE otherwise.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

ALPHA = 0.05
MIN_SAMPLES = 3
CONFIDENCE = 0.95
RELATIVE_TEST = ("Mann-Whitney U (two-sided, normal approximation with tie correction) with a "
                 "Hodges-Lehmann 95 % interval of the ratio new/baseline")
# Beyond this, "how many samples would settle it" is given as "more than".
MAX_SAMPLES_ESTIMATE = 10000


@dataclass(frozen=True)
class MeasuredChange:
    """A measurement against its baseline: medians, change, test, interval and judgement.

    `status` is "pass" (the whole interval is within the budget), "fail" (the whole interval is
    beyond it), "inconclusive" (the interval straddles it, or no test was possible) or
    "measured" (no relative budget applies: the change is only reported).
    """

    base_median: float
    new_median: float
    change_pct: float
    p_value: Optional[float]
    ci_low_pct: Optional[float]
    ci_high_pct: Optional[float]
    judged: bool
    exceeds: bool
    note: str = ""
    test: str = RELATIVE_TEST
    status: str = "inconclusive"
    estimate_pct: Optional[float] = None
    samples: Tuple[int, int] = (0, 0)
    samples_needed: Optional[int] = None
    max_increase_pct: Optional[float] = None

    def describe(self) -> str:
        text = f"median {self.base_median:g} -> {self.new_median:g} ({self.change_pct:+.1f} %"
        if self.estimate_pct is not None:
            text += f"; Hodges-Lehmann change {self.estimate_pct:+.1f} %"
        if self.ci_low_pct is not None and self.ci_high_pct is not None:
            text += f", 95 % interval {self.ci_low_pct:+.1f} % to {self.ci_high_pct:+.1f} %"
        if self.p_value is not None:
            text += f", Mann-Whitney p = {self.p_value:.3f}"
        if self.samples != (0, 0):
            text += f", {self.samples[0]} baseline + {self.samples[1]} new samples"
        return text + ")"

    def to_dict(self) -> Dict[str, Any]:
        return {"base_median": self.base_median, "new_median": self.new_median,
                "change_pct": self.change_pct if math.isfinite(self.change_pct) else None, "p_value": self.p_value,
                "ci_low_pct": self.ci_low_pct, "ci_high_pct": self.ci_high_pct,
                "judged": self.judged, "exceeds": self.exceeds, "note": self.note, "test": self.test,
                "status": self.status, "estimate_pct": self.estimate_pct, "samples": list(self.samples),
                "samples_needed": self.samples_needed, "max_increase_pct": self.max_increase_pct}


def measured_change(base: Sequence[float], new: Sequence[float], max_increase_pct: Optional[float],
                    min_effect: float = 0.0, same_machine: bool = True, why: str = "") -> MeasuredChange:
    """Judge whether `new` is slower than `base` by more than `max_increase_pct` percent.

    The change is the Hodges-Lehmann estimate of the ratio new/baseline with its distribution-free
    95 % interval (the Mann-Whitney order statistics of all pairwise log ratios). The budget passes
    only when the interval's upper bound is within it and fails only when its lower bound is
    beyond it (and Mann-Whitney p < 0.05 and the change is at least `min_effect`, in the
    measurement's unit); in between it is INCONCLUSIVE, with the samples that would settle it.
    A change whose whole interval is smaller than `min_effect` passes: it is too small to matter.
    """
    b, n = statistics.median(base), statistics.median(new)
    unjudged = MeasuredChange(b, n, _pct(b, n), None, None, None, False, False,
                              samples=(len(base), len(new)), max_increase_pct=max_increase_pct)
    if not same_machine:
        return replace(unjudged, note="the baseline was measured on another machine (fingerprint differs"
                       + (f": {why})" if why else ")"))
    if len(base) < MIN_SAMPLES or len(new) < MIN_SAMPLES:
        return replace(unjudged, note=f"fewer than {MIN_SAMPLES} samples on a side: no test is possible")
    shift = ratio_interval(base, new)
    if shift is None:
        return replace(unjudged, note="the samples are not all above 0, or span absurd magnitudes: "
                       "no ratio can be formed")
    estimate, low, high = shift
    p = mann_whitney_p(base, new)
    judged = replace(unjudged, p_value=p, ci_low_pct=low, ci_high_pct=high, judged=True, estimate_pct=estimate)
    if max_increase_pct is None:
        return replace(judged, status="measured")
    return _judge_budget(judged, b, max_increase_pct, min_effect)


def _judge_budget(change: MeasuredChange, base_median: float, limit: float, min_effect: float) -> MeasuredChange:
    estimate, low, high = change.estimate_pct, change.ci_low_pct, change.ci_high_pct
    assert estimate is not None and change.p_value is not None
    effect = base_median * estimate / 100.0
    if low is not None and low > limit and change.p_value < ALPHA and effect >= min_effect:
        return replace(change, status="fail", exceeds=True)
    if high is not None and (high <= limit or base_median * high / 100.0 < min_effect):
        return replace(change, status="pass")
    needed = samples_to_settle(change.samples, estimate, low, high, limit)
    if low is None or high is None:
        note = "too few samples for a 95 % interval"
    elif low > limit:
        note = f"the interval lies beyond +{limit:g} %, but the change is below the minimum effect of {min_effect:g}"
    else:
        note = f"the 95 % interval straddles +{limit:g} %"
    return replace(change, status="inconclusive", samples_needed=needed, note=note)


def ratio_interval(base: Sequence[float], new: Sequence[float],
                   confidence: float = CONFIDENCE) -> Optional[Tuple[float, Optional[float], Optional[float]]]:
    """Hodges-Lehmann change of new over base, in percent, with its distribution-free interval.

    The estimate is the median of all pairwise log ratios log(y / x); the interval's ends are the
    order statistics the Mann-Whitney U distribution (normal approximation) puts at the
    confidence level. An end is None when there are too few samples for it. None when a
    sample is not above 0, or the ratios span absurd magnitudes (no ratio can be formed).
    """
    if min(base) <= 0 or min(new) <= 0:
        return None
    logs_new = [math.log(y) for y in new]
    diffs = sorted(ly - math.log(x) for x in base for ly in logs_new)
    if diffs[-1] - diffs[0] > _MAX_LOG_RATIO:
        return None
    cut = _order_statistic_cut(len(base), len(new), confidence)
    estimate = _as_pct(statistics.median(diffs))
    if cut < 1:
        return estimate, None, None
    return estimate, _as_pct(diffs[cut - 1]), _as_pct(diffs[len(diffs) - cut])


# Samples whose ratios span more than e**200 are not timings of one thing: no ratio is formed.
_MAX_LOG_RATIO = 200.0


def _order_statistic_cut(n1: int, n2: int, confidence: float) -> int:
    """How many pairwise differences fall outside the interval at each end."""
    z = statistics.NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    return math.floor(n1 * n2 / 2 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12))


def _as_pct(log_ratio: float) -> float:
    return math.expm1(log_ratio) * 100.0


def samples_to_settle(samples: Tuple[int, int], estimate: float, low: Optional[float],
                      high: Optional[float], limit: float) -> Optional[int]:
    """Samples per run that would shrink the interval until it no longer straddles `limit`.

    The interval's half-width shrinks as sqrt(1/n1 + 1/n2); with the estimate where it is now,
    the side facing the limit must become shorter than the distance to it. None when the
    estimate sits on the limit itself (no sample count settles that).
    """
    n1, n2 = samples
    distance = abs(estimate - limit)
    if distance == 0:
        return None
    if low is None or high is None:
        return _smallest_with_interval(n1, n2)
    width = (estimate - low) if estimate > limit else (high - estimate)
    if width <= 0:
        return max(n1, n2) + 1
    try:
        needed = 2.0 / ((1.0 / n1 + 1.0 / n2) * (distance / width) ** 2)
    except (ZeroDivisionError, OverflowError):  # a limit next to the estimate: beyond any count
        return MAX_SAMPLES_ESTIMATE + 1
    return min(MAX_SAMPLES_ESTIMATE + 1, max(max(n1, n2) + 1, math.ceil(needed)))


def _smallest_with_interval(n1: int, n2: int) -> int:
    n = max(n1, n2, MIN_SAMPLES)
    while _order_statistic_cut(n, n, CONFIDENCE) < 1:
        n += 1
    return n


def _pct(base: float, new: float) -> float:
    if base == 0:
        return 0.0 if new == 0 else math.inf
    return (new - base) / base * 100.0


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected)."""
    ranks = _ranks(list(a) + list(b))
    n1, n2 = len(a), len(b)
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    ties = _tie_term(list(a) + list(b))
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    return max(0.0, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))


def _ranks(values: List[float]) -> List[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _tie_term(values: List[float]) -> float:
    counts: Dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return float(sum(t ** 3 - t for t in counts.values()))
