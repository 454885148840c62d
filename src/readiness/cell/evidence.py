"""What the `evidence` fixture (cell/plugin.py) gives a check: facts and measurements for the cell's env document."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, Mapping, MutableMapping, Optional, Sequence

from readiness.cell.baseline_env import Baseline, baseline_from
from readiness.cell.measure import Turns, sample_command, time_command
from readiness.cell.paired import MAX_PAIRS, Pace, PairBudgets, ratio_interval, take_pairs
from readiness.cell.sampling import Sampled, increases_for, limits_for, sample_until_settled
from readiness.model.document import Measurement, Paired, Sampling
from readiness.model.reader import MAX_DEPTH


class Evidence(MutableMapping[str, Any]):
    """Facts and measurements a check records about what it saw.

    `evidence["secret_key_length"] = 69` records a JSON-safe fact (nested lists and dicts are
    fine); `evidence.measure("startup_s", samples, unit="s")` records repeated samples;
    `evidence.sample("startup_s", argv, n=15)` takes them, stopping once the budget is settled;
    `evidence.sample_paired("startup_s", argv)` takes them in pairs against the baseline ref's
    target when validate gave the cell one (`evidence.baseline`), and as `sample` does otherwise.
    """

    def __init__(self, root: Optional[Path] = None) -> None:
        self._facts: Dict[str, Any] = {}
        self.measurements: Dict[str, Measurement] = {}
        self._root = root  # where a pyproject.toml with budgets may be, when validate set none

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"evidence keys must be strings, not {type(key).__name__}")
        self._facts[key] = json_safe(value, f"evidence[{key!r}]")

    def __getitem__(self, key: str) -> Any:
        return self._facts[key]

    def __delitem__(self, key: str) -> None:
        del self._facts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)

    def measure(self, name: str, samples: Iterable[float], unit: str = "s") -> None:
        """Record repeated samples of one quantity, with the machine's load at this moment."""
        self._record(name, samples, unit, None)

    def sample(self, name: str, argv: Sequence[str], n: int = 15, unit: str = "s",
               env: Optional[Mapping[str, str]] = None) -> Sampled:
        """Time `argv` in fresh processes, each under the run's timing lock, at most `n` times, stopping
        once every absolute budget on `name` is settled (at least 5 samples); record the samples
        and how sampling went. Seconds only: the samples are wall-clock times."""
        limits = limits_for(name, self._root)
        turns = Turns()

        def take() -> float:
            with turns.turn():
                return sample_command(argv, n=1, env=env)[0]

        samples, sampling = sample_until_settled(take, n, limits, name, unit)
        self._record(name, samples, unit, sampling)
        return Sampled(samples, sampling, turns.waited_s)

    @property
    def baseline(self) -> Optional[Baseline]:
        """The target at the baseline ref that validate gave this cell (`--baseline-ref`), or None."""
        return baseline_from(os.environ)

    def sample_paired(self, name: str, current_argv: Sequence[str], baseline_argv: Optional[Sequence[str]] = None,
                      n: int = MAX_PAIRS, unit: str = "s", env: Optional[Mapping[str, str]] = None) -> Sampled:
        """Time `current_argv` and the baseline's command alternately (A B / B A) under the run's timing
        lock, at most `n` pairs, stopping once the interval of the median ratio current/baseline settles
        every relative budget on `name` and the current samples every absolute one (at least 6 pairs).

        The baseline's command defaults to `current_argv` with argv[0] replaced by the baseline's
        interpreter (`evidence.baseline.argv`). With no baseline this is `sample`; with a baseline
        that failed to build in this cell, `sample` with the error recorded, for the verdict to name.
        """
        baseline = self.baseline
        if baseline is None:
            return self.sample(name, current_argv, n=n, unit=unit, env=env)
        if baseline.error is not None:
            taken = self.sample(name, current_argv, n=n, unit=unit, env=env)
            paired = Paired(baseline.ref, baseline.sha, [], None,
                            f"no pairs: the target at {baseline.ref} was not built in this cell", baseline.error)
            self.measurements[name].paired = paired
            return replace(taken, paired=paired)
        other = baseline.argv(current_argv) if baseline_argv is None else list(baseline_argv)
        other_env = baseline.env(env)
        budgets = PairBudgets(increases_for(name, self._root), limits_for(name, self._root))
        turns = Turns()
        pairs, sampling = take_pairs(lambda: time_command(current_argv, env=env),
                                     lambda: time_command(other, env=other_env), n, budgets, unit,
                                     Pace(turn=turns.turn))
        paired = Paired(baseline.ref, baseline.sha, pairs, ratio_interval(pairs), sampling.reason)
        self._record(name, [pair.current for pair in pairs], unit, sampling, paired)
        return Sampled([pair.current for pair in pairs], sampling, turns.waited_s, paired)

    def _record(self, name: str, samples: Iterable[float], unit: str, sampling: Optional[Sampling],
                paired: Optional[Paired] = None) -> None:
        values = [float(s) for s in samples]
        if not values:
            raise ValueError(f"measurement {name!r} needs at least one sample")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"measurement {name!r} has a sample that is not a finite number")
        self.measurements[name] = Measurement(unit=unit, samples=values, load=_load_average(), sampling=sampling,
                                              paired=paired)

    def facts(self) -> Dict[str, Any]:
        return dict(self._facts)


def json_safe(value: Any, where: str, depth: int = 1) -> Any:
    """`value` as plain JSON data (tuples become lists), or TypeError naming where it failed.

    Lists and dicts nest at most `MAX_DEPTH` deep: readers refuse deeper evidence.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value}, which JSON cannot hold")
        return value
    if isinstance(value, (list, tuple, dict)) and depth > MAX_DEPTH:
        raise TypeError(f"{where} nests more than {MAX_DEPTH} lists and dicts deep; record flatter evidence")
    if isinstance(value, (list, tuple)):
        return [json_safe(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where} has a key that is not a string")
        return {k: json_safe(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}
    raise TypeError(
        f"{where} is a {type(value).__name__}; evidence holds str, int, float, bool, None, "
        "and lists or dicts of those"
    )


def _load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
