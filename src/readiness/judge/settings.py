"""The settings a policy holds, typed: the target's install, the suite, Wine, coverage, flaky checks,
budgets and waivers (read and checked by judge/policy.py).

Named tuples, immutable as frozen dataclasses would be: every readiness command (and every noxfile
that registers readiness's sessions) defines them, and a frozen dataclass costs about four times
as much to define.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import NamedTuple, Optional, Tuple, Union

EXPIRY_WARNING_DAYS = 14  # a waiver this close to its expiry date is reported
STATISTICS = ("median", "p95")  # what a budget's `max` can limit
SERVICES = ("redis",)  # what `services` can ask validate to start for a run


class TargetSettings(NamedTuple):
    """How the project under check is installed into each cell."""

    path: Optional[str] = None
    extras: Tuple[str, ...] = ()
    dependency_groups: Tuple[str, ...] = ()  # PEP 735 groups of the target's pyproject.toml
    requirements: Union[str, Tuple[str, ...], None] = None  # a requirements file, or requirement strings
    constraints: Optional[str] = None  # one file pinning the target's dependencies in every cell
    name: Optional[str] = None  # its distribution name, recorded in every env document
    editable: bool = True  # installed in place, so a warm cell sees source edits at once


class ProjectSettings(NamedTuple):
    """The `[project]` table of the pyproject.toml the policy came from: it names the target when
    the cells could not."""

    name: Optional[str] = None
    version: Optional[str] = None


class SuiteSettings(NamedTuple):
    """Where the check suite lives and what pytest is given."""

    path: str = "checks"
    pytest_args: Tuple[str, ...] = ()


class WineSettings(NamedTuple):
    """The Windows lane under Wine: planned wherever wine is installed, unless `enabled = false`."""

    enabled: Optional[bool] = None  # None: on where wine is installed
    pythons: Tuple[str, ...] = ()


class CoverageSettings(NamedTuple):
    """Coverage of the target: the packages (import names) measured in every cell; none: off."""

    source: Tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.source)


class FlakySettings(NamedTuple):
    """What a check that passed only on a retry means for the verdict."""

    blocks: bool = False
    reruns: int = 0


class Budget(NamedTuple):
    """A limit on one measurement: absolute (`max`) and/or relative to a baseline."""

    measurement: str
    max: Optional[float] = None
    max_increase_pct: Optional[float] = None
    min_effect: float = 0.0
    required: bool = False
    check: str = "*"
    unit: Optional[str] = None
    statistic: str = "median"  # what `max` limits: the median of the samples, or their p95


class Waiver(NamedTuple):
    """An accepted problem: a check (pattern), optionally only in some cells, until a date."""

    check: str
    reason: str
    owner: str
    expires: dt.date
    cells: Tuple[str, ...] = ()

    def covers(self, check_id: str, cell: str) -> bool:
        if not fnmatch.fnmatchcase(check_id, self.check):
            return False
        return not self.cells or any(fnmatch.fnmatchcase(cell, c) for c in self.cells)

    def days_left(self, today: dt.date) -> int:
        return (self.expires - today).days
