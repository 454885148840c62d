"""The `evidence` fixture: facts and measurements a check records for the cell's env document."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, Iterable, Iterator, MutableMapping, Optional

import pytest

from readiness.model.document import Measurement
from readiness.model.reader import MAX_DEPTH


class Evidence(MutableMapping[str, Any]):
    """Facts and measurements a check records about what it saw.

    `evidence["secret_key_length"] = 69` records a JSON-safe fact (nested lists and dicts are
    fine); `evidence.measure("startup_s", samples, unit="s")` records repeated samples.
    """

    def __init__(self) -> None:
        self._facts: Dict[str, Any] = {}
        self.measurements: Dict[str, Measurement] = {}

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
        values = [float(s) for s in samples]
        if not values:
            raise ValueError(f"measurement {name!r} needs at least one sample")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"measurement {name!r} has a sample that is not a finite number")
        self.measurements[name] = Measurement(unit=unit, samples=values, load=_load_average())

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


# Where the recorder collects each running check's evidence, by node id; absent when the plugin
# records nothing (the fixture then still works, and its evidence goes nowhere).
EVIDENCE_BY_NODE = pytest.StashKey[Dict[str, Evidence]]()


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record facts and measurements for the readiness env document of this cell."""
    record = Evidence()
    by_node = request.config.stash.get(EVIDENCE_BY_NODE, None)
    if by_node is not None:
        by_node[request.node.nodeid] = record
    return record
