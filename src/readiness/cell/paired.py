"""Paired sampling: the current target and the target at a baseline ref timed alternately in one cell
(A B, then B A, so an order effect cancels and the machine's drift hits both alike), until the
interval of the median ratio current/baseline is settled against every budget, or `n` pairs.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, ContextManager, List, Sequence, Tuple

from readiness.cell.measure import Timed
from readiness.cell.sampling import CONFIDENCE, Limit, absolute_settled
from readiness.model.document import Pair, RatioInterval, Sampling
from readiness.model.statistics import PAIRED_METHOD, fewest_for_interval, median_interval

# The most pairs a timed check takes by default: the smallest count at which the power benchmark
# (benchmarks/stats_power.py, README "Paired measurement") decides a +10 % change against a +5 %
# budget, and passes an unchanged target, often enough.
MAX_PAIRS = 120
MIN_PAIRS = fewest_for_interval(CONFIDENCE)  # 6: the fewest pairs with a two-sided 95 % interval


@dataclass(frozen=True)
class PairBudgets:
    """What paired sampling settles: relative budgets (per cent over the baseline) on the ratio, and
    absolute budgets on the current samples."""

    increases: Sequence[float] = ()
    limits: Sequence[Limit] = ()


def utc_now() -> str:
    """Now, as a pair's timestamp: ISO 8601 in UTC to the millisecond."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Pace:
    """How pairs are taken: each within one turn of the run's timing lock, stamped by a clock."""

    turn: Callable[[], ContextManager[None]] = nullcontext
    now: Callable[[], str] = utc_now


def take_pairs(current: Callable[[], Timed], baseline: Callable[[], Timed], n: int, budgets: PairBudgets,
               unit: str, pace: Pace = Pace()) -> Tuple[List[Pair], Sampling]:
    """Take up to `n` pairs, current first in the 1st, 3rd, ... pair and baseline first in the others,
    each pair within one turn of the timing lock; stop once `paired_settled` says so (never before
    MIN_PAIRS). The pairs and why it stopped."""
    if n < 1:
        raise ValueError(f"need at least one pair, got n={n}")
    pairs: List[Pair] = []
    while len(pairs) < n:
        with pace.turn():
            pairs.append(_one_pair(current, baseline, len(pairs) % 2 == 1, pace.now))
        settled = paired_settled(pairs, budgets, unit)
        if settled:
            return pairs, Sampling(len(pairs), n, settled)
    return pairs, Sampling(n, n, _unsettled(budgets, n, unit))


def _one_pair(current: Callable[[], Timed], baseline: Callable[[], Timed], baseline_first: bool,
              now: Callable[[], str]) -> Pair:
    if baseline_first:
        baseline_at = now()
        b = baseline()
        current_at = now()
        c = current()
    else:
        current_at = now()
        c = current()
        baseline_at = now()
        b = baseline()
    return Pair(c.wall_s, b.wall_s, current_at, baseline_at, "baseline" if baseline_first else "current",
                c.waited_s, b.waited_s)


def ratio_interval(pairs: Sequence[Pair]) -> RatioInterval:
    """The interval of the median ratio current/baseline of `pairs`, as the document records it."""
    interval = median_interval([pair.ratio for pair in pairs], CONFIDENCE)
    return RatioInterval(interval.lower, interval.median, interval.upper, CONFIDENCE, PAIRED_METHOD)


def paired_settled(pairs: Sequence[Pair], budgets: PairBudgets, unit: str) -> str:
    """Why `pairs` settle every budget, in words, or "" while one is unsettled (or there is none).

    A relative budget is settled when the ratio's two-sided interval lies entirely within
    1 + max_increase_pct / 100 or entirely over it; an absolute one as `evidence.sample` settles it.
    """
    if len(pairs) < MIN_PAIRS or not (budgets.increases or budgets.limits):
        return ""
    interval = ratio_interval(pairs)
    reasons = [_relative_settled(interval, pct, len(pairs)) for pct in budgets.increases]
    if budgets.limits:
        reasons.append(absolute_settled([pair.current for pair in pairs], budgets.limits, unit))
    return "; ".join(reasons) if all(reasons) else ""


def _relative_settled(interval: RatioInterval, pct: float, pairs: int) -> str:
    lower, upper, limit = interval.lower, interval.upper, 1.0 + pct / 100.0
    if lower is None or upper is None:
        return ""
    shown = f"the median ratio's {CONFIDENCE * 100:g} % interval {lower:.4g} to {upper:.4g}"
    if upper <= limit:
        return f"settled: {shown} is within +{pct:g} % after {pairs} pairs"
    if lower > limit:
        return f"settled: {shown} is over +{pct:g} % after {pairs} pairs"
    return ""


def _unsettled(budgets: PairBudgets, n: int, unit: str) -> str:
    if not (budgets.increases or budgets.limits):
        return f"no budget: all {n} pairs taken"
    budgets_text = [f"+{pct:g} %" for pct in budgets.increases] + [f"{lim.max:g} {unit}" for lim in budgets.limits]
    return f"n reached: {n} pairs did not settle the {', '.join(budgets_text)} budget(s)"
