"""The policy: `[tool.readiness]` read into typed data, checked at the edge, with typo hints.

Library API:

    load_policy(config=None, profile=None, *, cwd=None) -> Policy
        config: a pyproject.toml or a bare TOML file with the same keys; without it
        ./pyproject.toml is read, and with no `[tool.readiness]` there the default policy applies.
    parse_policy(table, source, profile=None) -> Policy   (the same, from a parsed table)
    default_policy() -> Policy

Keys (every one is parsed and type-checked here, also those other commands act on):

    required_cells = ["linux-*", "windows-x86_64-cpython3.12"]   # globs over cell ids
    required_checks = ["health", "db/*"]                          # must run in every required cell
    severity = {"perf/*" = "minor"}                              # first matching pattern wins
    only_new_failures_block = false                              # needs --baseline
    pythons = ["3.11", "3.12"]; cell_timeout = 900               # orchestration
    target = {path = ".", extras = ["test"], requirements = "constraints.txt"}
    suite = {path = "checks", pytest_args = ["-q"]}
    wine = {enabled = true, pythons = ["3.11"]}
    flaky = {blocks = false, reruns = 2}
    coverage = {source = ["readiness_demo"]}                     # measure these packages in every cell
    [budgets.startup_s]  max = 15.0, max_increase_pct = 5.0, min_effect = 0.1, required = false,
                         check = "perf/*", unit = "s", statistic = "median"   # or "p95"
    [[waivers]]          check = "db", cells = ["windows-*"], reason = "...", owner = "...",
                         expires = 2026-12-31
    [profiles.ci]        any of the keys above except `profiles`; they replace the top level.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from readiness.model.document import Severity
from readiness.model.errors import PolicyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9 and 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT_LABEL = "default policy"
EXPIRY_WARNING_DAYS = 14


@dataclass(frozen=True)
class TargetSettings:
    """How the project under check is installed into each cell."""

    path: Optional[str] = None
    extras: Tuple[str, ...] = ()
    requirements: Optional[str] = None
    constraints: Optional[str] = None  # one file pinning the target's dependencies in every cell
    name: Optional[str] = None  # its distribution name, recorded in every env document
    editable: bool = True  # installed in place, so a warm cell sees source edits at once


@dataclass(frozen=True)
class SuiteSettings:
    """Where the check suite lives and what pytest is given."""

    path: str = "checks"
    pytest_args: Tuple[str, ...] = ()


@dataclass(frozen=True)
class WineSettings:
    """The Windows lane under Wine."""

    enabled: bool = False
    pythons: Tuple[str, ...] = ()


@dataclass(frozen=True)
class CoverageSettings:
    """Coverage of the target: the packages (import names) measured in every cell; none: off."""

    source: Tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.source)


@dataclass(frozen=True)
class FlakySettings:
    """What a check that passed only on a retry means for the verdict."""

    blocks: bool = False
    reruns: int = 0


@dataclass(frozen=True)
class Budget:
    """A limit on one measurement: absolute (`max`) and/or relative to a baseline."""

    measurement: str
    max: Optional[float] = None
    max_increase_pct: Optional[float] = None
    min_effect: float = 0.0
    required: bool = False
    check: str = "*"
    unit: Optional[str] = None
    statistic: str = "median"  # what `max` limits: the median of the samples, or their p95

    def applies_to(self, check_id: str) -> bool:
        return fnmatch.fnmatchcase(check_id, self.check)


@dataclass(frozen=True)
class Waiver:
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


@dataclass(frozen=True)
class Policy:
    """Everything the verdict and the orchestration need from `[tool.readiness]`."""

    source: str = DEFAULT_LABEL
    is_default: bool = True
    profile: Optional[str] = None
    required_cells: Optional[Tuple[str, ...]] = None
    required_checks: Tuple[str, ...] = ()
    severity: Tuple[Tuple[str, Severity], ...] = ()
    budgets: Tuple[Budget, ...] = ()
    flaky: FlakySettings = field(default_factory=FlakySettings)
    only_new_failures_block: bool = False
    waivers: Tuple[Waiver, ...] = ()
    pythons: Tuple[str, ...] = ()
    cell_timeout: Optional[float] = None
    target: TargetSettings = field(default_factory=TargetSettings)
    suite: SuiteSettings = field(default_factory=SuiteSettings)
    wine: WineSettings = field(default_factory=WineSettings)
    coverage: CoverageSettings = field(default_factory=CoverageSettings)
    profiles: Tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.is_default:
            return DEFAULT_LABEL
        return f"{self.source} (profile {self.profile})" if self.profile else self.source

    def severity_of(self, check_id: str, declared: Severity) -> Severity:
        """The severity the verdict uses: a policy pattern, else the declared one.

        With no policy at all every check counts as major (README, "Policy").
        """
        for pattern, severity in self.severity:
            if fnmatch.fnmatchcase(check_id, pattern):
                return severity
        return Severity.MAJOR if self.is_default else declared

    def blocks(self, severity: Severity) -> bool:
        return severity in (Severity.CRITICAL, Severity.MAJOR)


def default_policy() -> Policy:
    """The policy when a project has none: planned (or present) cells, every check major."""
    return Policy()


# --- reading ------------------------------------------------------------------------------


def load_policy(config: Optional[str] = None, profile: Optional[str] = None,
                *, cwd: Optional[Path] = None) -> Policy:
    """The policy from `config`, or from ./pyproject.toml, or the default policy."""
    if config is not None:
        path = Path(config)
        table = _tool_table(_read_toml(path), path, required=True)
    else:
        path = Path("pyproject.toml") if cwd is None else cwd / "pyproject.toml"
        table = _tool_table(_read_toml(path), path, required=False) if path.is_file() else None
    if table is None:
        if profile is not None:
            raise PolicyError(f"--profile {profile}: there is no policy ([tool.readiness]) to take it from")
        return default_policy()
    return parse_policy(table, path.as_posix(), profile)


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: Dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise PolicyError(f"{path.as_posix()}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path.as_posix()}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path.as_posix()}: not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise PolicyError(f"{path.as_posix()}: not valid TOML: {str(exc).split(';')[0]}") from None
    except RecursionError:
        raise PolicyError(f"{path.as_posix()}: not valid TOML: arrays or tables nested too deeply") from None


def _tool_table(data: Dict[str, Any], path: Path, *, required: bool) -> Optional[Dict[str, Any]]:
    """`[tool.readiness]` of a pyproject.toml, or the whole of a bare policy file."""
    if "tool" not in data and "project" not in data and "build-system" not in data:
        return data if required else None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise PolicyError(f"{path.as_posix()}: tool must be a table, found {_kind(tool)}")
    table = tool.get("readiness")
    if table is None and required:
        raise PolicyError(f"{path.as_posix()}: has no [tool.readiness] table")
    if table is not None and not isinstance(table, dict):
        raise PolicyError(f"{path.as_posix()}: tool.readiness must be a table, found {_kind(table)}")
    return table


def parse_policy(table: Mapping[str, Any], source: str, profile: Optional[str] = None) -> Policy:
    """Check a `[tool.readiness]` table and turn it into a Policy; PolicyError names the key."""
    where = f"{source} [tool.readiness]"
    values = _values(table, where, _TOP_KEYS)
    profiles = _table(table.get("profiles", {}), f"{where}.profiles")
    # Every profile is checked, chosen or not, and its errors name the profile's own keys.
    chosen = {}
    for name, body in profiles.items():
        at = f"{where}.profiles.{_key(name)}"
        chosen[name] = _values(_table(body, at), at, _PROFILE_KEYS)
    if profile is not None:
        if profile not in profiles:
            raise PolicyError(f"{where}: no profile {profile!r}{_hint(profile, list(profiles))}")
        values.update(chosen[profile])
    return Policy(source=source, is_default=False, profile=profile,
                  profiles=tuple(sorted(profiles)), **values)


def _values(table: Mapping[str, Any], where: str, allowed: Tuple[str, ...]) -> Dict[str, Any]:
    """The typed values of the policy keys in `table`, each checked under its key path."""
    _check_keys(table, allowed, where)
    return {key: _PARSERS[key](value, f"{where}.{key}") for key, value in table.items() if key in _PARSERS}


def _check_keys(table: Mapping[str, Any], allowed: Tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise PolicyError(f"{where}: unknown key {key!r}{_hint(key, list(allowed))}")


def _hint(word: str, options: List[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(options))})"


# --- value parsers: each takes (value, where) and returns typed data -----------------------


def _table(value: Any, where: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a table, found {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {bool: "a boolean", str: "a string", int: "an integer", float: "a number", list: "an array",
            dict: "a table", dt.date: "a date", dt.datetime: "a date-time", dt.time: "a time of day",
            }.get(type(value), type(value).__name__)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHOWN_CHARS = 60


def _key(name: str) -> str:
    """A key as it appears in a key path: bare if TOML allows, else quoted with escapes (never raw control bytes)."""
    return name if _BARE_KEY.fullmatch(name) else repr(name)


def _shown(value: Any) -> str:
    """A value as a message shows it: short scalars as written, long ones cut, anything else by its kind."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {len(format(value, 'x'))} hex digits"
    if not isinstance(value, (str, int, float)):
        return _kind(value)
    text = repr(value)
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS - 5]}...{text[-1]} ({len(str(value))} characters)"


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{where}: expected a non-empty string, found {_kind(value)}")
    if not value.strip():
        raise PolicyError(f"{where}: expected a non-empty string, found {_shown(value)}")
    return value


def _str_list(value: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected an array of strings, found {_kind(value)}")
    return tuple(_str(item, f"{where}[{index}]") for index, item in enumerate(value))


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: expected true or false, found {_kind(value)}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{where}: expected a number of at least 0, found {_kind(value)}")
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)) or value > sys.float_info.max:
        raise PolicyError(f"{where}: expected a finite number of at least 0, found {_shown(value)}")
    return float(value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: expected a whole number of at least 0, found {_kind(value)}")
    if value < 0:
        raise PolicyError(f"{where}: expected a whole number of at least 0, found {_shown(value)}")
    return value


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(f"{where}: expected a date such as 2026-12-31, found {_shown(value)}")


def _severity_map(value: Any, where: str) -> Tuple[Tuple[str, Severity], ...]:
    names = [s.value for s in Severity]
    result = []
    for pattern, name in _table(value, where).items():
        if name not in names:
            hint = _hint(name, names) if isinstance(name, str) else f" (known: {', '.join(sorted(names))})"
            raise PolicyError(f"{where}.{_key(pattern)}: {_shown(name)} is not a severity{hint}")
        result.append((pattern, Severity(name)))
    return tuple(result)


def _fields(value: Any, where: str, spec: Mapping[str, Callable[[Any, str], Any]],
            required: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """A sub-table checked against `spec` (key -> parser); `required` keys must be present."""
    table = _table(value, where)
    _check_keys(table, tuple(spec), where)
    for key in required:
        if key not in table:
            raise PolicyError(f"{where}.{key}: is required (give {', '.join(required)})")
    return {key: spec[key](item, f"{where}.{key}") for key, item in table.items()}


def _target(value: Any, where: str) -> TargetSettings:
    return TargetSettings(**_fields(value, where, {"path": _str, "extras": _str_list, "requirements": _str,
                                                   "constraints": _str, "name": _str, "editable": _bool}))


def _suite(value: Any, where: str) -> SuiteSettings:
    return SuiteSettings(**_fields(value, where, {"path": _str, "pytest_args": _str_list}))


def _wine(value: Any, where: str) -> WineSettings:
    return WineSettings(**_fields(value, where, {"enabled": _bool, "pythons": _str_list}))


def _coverage(value: Any, where: str) -> CoverageSettings:
    return CoverageSettings(**_fields(value, where, {"source": _str_list}, required=("source",)))


def _flaky(value: Any, where: str) -> FlakySettings:
    return FlakySettings(**_fields(value, where, {"blocks": _bool, "reruns": _count}))


STATISTICS = ("median", "p95")


def _statistic(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in STATISTICS:
        hint = _hint(value, list(STATISTICS)) if isinstance(value, str) else f" (known: {', '.join(STATISTICS)})"
        raise PolicyError(f"{where}: {_shown(value)} is not a statistic a budget can limit{hint}")
    return str(value)


_BUDGET_FIELDS: Dict[str, Callable[[Any, str], Any]] = {
    "max": _number, "max_increase_pct": _number, "min_effect": _number,
    "required": _bool, "check": _str, "unit": _str, "statistic": _statistic,
}


def _budgets(value: Any, where: str) -> Tuple[Budget, ...]:
    budgets = []
    for name, body in _table(value, where).items():
        fields = _fields(body, f"{where}.{_key(name)}", _BUDGET_FIELDS)
        if "max" not in fields and "max_increase_pct" not in fields:
            raise PolicyError(f"{where}.{_key(name)}: give max (absolute) and/or max_increase_pct (relative)")
        budgets.append(Budget(measurement=name, **fields))
    return tuple(budgets)


_WAIVER_FIELDS: Dict[str, Callable[[Any, str], Any]] = {
    "check": _str, "cells": _str_list, "reason": _str, "owner": _str, "expires": _date,
}


def _waivers(value: Any, where: str) -> Tuple[Waiver, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected an array of tables ([[tool.readiness.waivers]])")
    required = ("check", "reason", "owner", "expires")
    return tuple(
        Waiver(**_fields(body, f"{where}[{index}]", _WAIVER_FIELDS, required))
        for index, body in enumerate(value)
    )


def _timeout(value: Any, where: str) -> float:
    seconds = _number(value, where)
    if seconds == 0:
        raise PolicyError(f"{where}: a cell timeout must be more than 0 seconds")
    return seconds


_PARSERS: Dict[str, Callable[[Any, str], Any]] = {
    "required_cells": _str_list,
    "required_checks": _str_list,
    "severity": _severity_map,
    "budgets": _budgets,
    "flaky": _flaky,
    "only_new_failures_block": _bool,
    "waivers": _waivers,
    "pythons": _str_list,
    "cell_timeout": _timeout,
    "target": _target,
    "suite": _suite,
    "wine": _wine,
    "coverage": _coverage,
}
_TOP_KEYS = (*_PARSERS, "profiles")
_PROFILE_KEYS = tuple(_PARSERS)
