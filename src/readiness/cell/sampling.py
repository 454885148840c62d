"""Sampling that stops when settled: timed runs until the sign-test bound of the budgeted statistic is
on one side of every absolute budget of the measurement, or the maximum is reached.

The budgets come from `READINESS_BUDGETS` (set by validate's lanes from the policy), else from
`[tool.readiness.budgets]` of the pyproject.toml in pytest's rootdir.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from readiness.model.document import Paired, Sampling
from readiness.model.statistics import sign_test_bounds

# JSON: measurement name -> {"max": .. or null, "statistic": .., "unit": .., "max_increase_pct": .. or null}
BUDGETS_ENV = "READINESS_BUDGETS"
CONFIDENCE = 0.95
_QUANTILE = {"median": 0.5, "p95": 0.95}


@dataclass(frozen=True)
class Limit:
    """An absolute budget on one measurement: `statistic` of the samples at most `max`."""

    max: float
    statistic: str = "median"
    unit: Optional[str] = None


def limits_for(name: str, root: Optional[Path], environ: Mapping[str, str] = os.environ) -> List[Limit]:
    """The absolute budgets on `name`: from the environment when validate set it, else the pyproject."""
    body = _budget_table(root, environ).get(name)
    if not isinstance(body, dict) or not isinstance(body.get("max"), (int, float)):
        return []  # no budget, or only a relative one: nothing a cell can settle alone
    statistic = body.get("statistic", "median")
    if statistic not in _QUANTILE:
        return []
    return [Limit(float(body["max"]), statistic, body.get("unit"))]


def increases_for(name: str, root: Optional[Path], environ: Mapping[str, str] = os.environ) -> List[float]:
    """The relative budgets on `name` (`max_increase_pct`, in per cent), which paired sampling settles."""
    body = _budget_table(root, environ).get(name)
    if not isinstance(body, dict):
        return []
    pct = body.get("max_increase_pct")
    return [float(pct)] if isinstance(pct, (int, float)) and not isinstance(pct, bool) else []


def _budget_table(root: Optional[Path], environ: Mapping[str, str]) -> Dict[str, Any]:
    return _from_environ(environ) if BUDGETS_ENV in environ else _from_pyproject(root)


def _from_environ(environ: Mapping[str, str]) -> Dict[str, Any]:
    try:
        table = json.loads(environ[BUDGETS_ENV])
    except ValueError:
        raise ValueError(f"{BUDGETS_ENV} is not JSON: {environ[BUDGETS_ENV][:200]!r}") from None
    return table if isinstance(table, dict) else {}


def _from_pyproject(root: Optional[Path]) -> Dict[str, Any]:
    """`[tool.readiness.budgets]` of rootdir's pyproject.toml; {} when there is none or it is unreadable."""
    path = None if root is None else root / "pyproject.toml"
    if path is None or not path.is_file():
        return {}
    from readiness.cell.target import pyproject_tables

    data = pyproject_tables(path)  # unreadable: {}, so no budget, and all n samples
    budgets = data.get("tool", {}).get("readiness", {}).get("budgets", {})
    return budgets if isinstance(budgets, dict) else {}


def sample_until_settled(take: Callable[[], float], n: int, limits: Sequence[Limit],
                         name: str, unit: str) -> Tuple[List[float], Sampling]:
    """Call `take` up to `n` times; stop early once every limit is settled. The samples and why it stopped."""
    if n < 1:
        raise ValueError(f"need at least one sample, got n={n}")
    samples: List[float] = []
    while len(samples) < n:
        samples.append(take())
        settled = absolute_settled(samples, limits, unit)
        if settled:
            return samples, Sampling(len(samples), n, settled)
    if not limits:
        return samples, Sampling(n, n, f"no budget on {name}: all {n} samples taken")
    statistics = " and ".join(sorted({limit.statistic for limit in limits}))
    budgets = ", ".join(f"{limit.max:g} {unit}" for limit in limits)
    return samples, Sampling(n, n, f"n reached: {n} samples did not settle the {statistics} "
                                   f"against the {budgets} budget")


def absolute_settled(samples: Sequence[float], limits: Sequence[Limit], unit: str) -> str:
    """Why `samples` settle every limit, in words; "" while one is unsettled, or there is none."""
    settled = [_settled(samples, limit, unit) for limit in limits]
    return "; ".join(settled) if settled and all(settled) else ""


def _settled(samples: Sequence[float], limit: Limit, unit: str) -> str:
    """Why `samples` settle `limit`, in words, or "" while they do not yet."""
    bounds = sign_test_bounds(samples, _QUANTILE[limit.statistic], CONFIDENCE)
    level = f"the {limit.statistic}'s {CONFIDENCE * 100:g} %"
    after = f"the {limit.max:g} {unit} budget after {len(samples)} samples"
    if bounds.upper is not None and bounds.upper <= limit.max:
        return f"settled: {level} upper bound {bounds.upper:.3g} {unit} is under {after}"
    if bounds.lower is not None and bounds.lower > limit.max:
        return f"settled: {level} lower bound {bounds.lower:.3g} {unit} is over {after}"
    return ""


@dataclass(frozen=True)
class Sampled:
    """What `evidence.sample` took: the samples, how sampling went, how long it waited for the lock;
    from `evidence.sample_paired`, the pairs too (the samples are then the current side's)."""

    samples: List[float]
    sampling: Sampling
    lock_waited_s: float
    paired: Optional[Paired] = None
