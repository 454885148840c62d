"""The values of `[tool.readiness]`: one parser per kind of value, each taking (value, where) and
returning typed data, or raising a PolicyError that names the key path (`where`) and the fix."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import sys
from typing import Any, Callable, Dict, List, Mapping, Tuple, Union

from readiness.judge.settings import (
    SERVICES,
    STATISTICS,
    Budget,
    CoverageSettings,
    FlakySettings,
    SuiteSettings,
    TargetSettings,
    Waiver,
    WineSettings,
)
from readiness.model.document import Severity
from readiness.model.errors import PolicyError


def check_keys(table: Mapping[str, Any], allowed: Tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise PolicyError(f"{where}: unknown key {key!r}{did_you_mean(key, list(allowed))}")


def did_you_mean(word: str, options: List[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(options))})"


def as_table(value: Any, where: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a table, found {kind_of(value)}")
    return value


def kind_of(value: Any) -> str:
    return {bool: "a boolean", str: "a string", int: "an integer", float: "a number", list: "an array",
            dict: "a table", dt.date: "a date", dt.datetime: "a date-time", dt.time: "a time of day",
            }.get(type(value), type(value).__name__)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHOWN_CHARS = 60


def shown_key(name: str) -> str:
    """A key as it appears in a key path: bare if TOML allows, else quoted with escapes (never raw control bytes)."""
    return name if _BARE_KEY.fullmatch(name) else repr(name)


def _shown(value: Any) -> str:
    """A value as a message shows it: short scalars as written, long ones cut, anything else by its kind."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {len(format(value, 'x'))} hex digits"
    if not isinstance(value, (str, int, float)):
        return kind_of(value)
    text = repr(value)
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS - 5]}...{text[-1]} ({len(str(value))} characters)"


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{where}: expected a non-empty string, found {kind_of(value)}")
    if not value.strip():
        raise PolicyError(f"{where}: expected a non-empty string, found {_shown(value)}")
    return value


def _str_list(value: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected an array of strings, found {kind_of(value)}")
    return tuple(_str(item, f"{where}[{index}]") for index, item in enumerate(value))


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: expected true or false, found {kind_of(value)}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{where}: expected a number of at least 0, found {kind_of(value)}")
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)) or value > sys.float_info.max:
        raise PolicyError(f"{where}: expected a finite number of at least 0, found {_shown(value)}")
    return float(value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: expected a whole number of at least 0, found {kind_of(value)}")
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
    for pattern, name in as_table(value, where).items():
        if name not in names:
            hint = did_you_mean(name, names) if isinstance(name, str) else f" (known: {', '.join(sorted(names))})"
            raise PolicyError(f"{where}.{shown_key(pattern)}: {_shown(name)} is not a severity{hint}")
        result.append((pattern, Severity(name)))
    return tuple(result)


def _fields(value: Any, where: str, spec: Mapping[str, Callable[[Any, str], Any]],
            required: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """A sub-table checked against `spec` (key -> parser); `required` keys must be present."""
    table = as_table(value, where)
    check_keys(table, tuple(spec), where)
    for key in required:
        if key not in table:
            raise PolicyError(f"{where}.{key}: is required (give {', '.join(required)})")
    return {key: spec[key](item, f"{where}.{key}") for key, item in table.items()}


def _target(value: Any, where: str) -> TargetSettings:
    return TargetSettings(**_fields(value, where, {
        "path": _str, "extras": _str_list, "dependency_groups": _str_list, "requirements": _requirements,
        "constraints": _str, "name": _str, "editable": _bool}))


def _requirements(value: Any, where: str) -> Union[str, Tuple[str, ...]]:
    """A requirements file (a string), or requirement strings (an array)."""
    if isinstance(value, list):
        return _str_list(value, where)
    if not isinstance(value, str):
        raise PolicyError(f"{where}: expected a requirements file (a string) or requirement strings "
                          f"(an array), found {kind_of(value)}")
    return _str(value, where)


def _services(value: Any, where: str) -> Tuple[str, ...]:
    names = _str_list(value, where)
    for index, name in enumerate(names):
        if name not in SERVICES:
            raise PolicyError(f"{where}[{index}]: {_shown(name)} is not a service readiness starts"
                              f"{did_you_mean(name, list(SERVICES))}")
    return names


def _suite(value: Any, where: str) -> SuiteSettings:
    return SuiteSettings(**_fields(value, where, {"path": _str, "pytest_args": _str_list}))


def _wine(value: Any, where: str) -> WineSettings:
    return WineSettings(**_fields(value, where, {"enabled": _bool, "pythons": _str_list}))


def _coverage(value: Any, where: str) -> CoverageSettings:
    return CoverageSettings(**_fields(value, where, {"source": _str_list}, required=("source",)))


def _flaky(value: Any, where: str) -> FlakySettings:
    return FlakySettings(**_fields(value, where, {"blocks": _bool, "reruns": _count}))


def _statistic(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in STATISTICS:
        hint = did_you_mean(value, list(STATISTICS)) if isinstance(value, str) else f" (known: {', '.join(STATISTICS)})"
        raise PolicyError(f"{where}: {_shown(value)} is not a statistic a budget can limit{hint}")
    return str(value)


_BUDGET_FIELDS: Dict[str, Callable[[Any, str], Any]] = {
    "max": _number, "max_increase_pct": _number, "min_effect": _number,
    "required": _bool, "check": _str, "unit": _str, "statistic": _statistic,
}


def _budgets(value: Any, where: str) -> Tuple[Budget, ...]:
    budgets = []
    for name, body in as_table(value, where).items():
        fields = _fields(body, f"{where}.{shown_key(name)}", _BUDGET_FIELDS)
        if "max" not in fields and "max_increase_pct" not in fields:
            raise PolicyError(f"{where}.{shown_key(name)}: give max (absolute) and/or max_increase_pct (relative)")
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


# The parser of each key of [tool.readiness] (and of a profile, which takes the same keys).
PARSERS: Dict[str, Callable[[Any, str], Any]] = {
    "required_cells": _str_list,
    "required_checks": _str_list,
    "severity": _severity_map,
    "budgets": _budgets,
    "flaky": _flaky,
    "only_new_failures_block": _bool,
    "accept_own_skips": _bool,
    "waivers": _waivers,
    "pythons": _str_list,
    "cell_timeout": _timeout,
    "target": _target,
    "suite": _suite,
    "wine": _wine,
    "coverage": _coverage,
    "services": _services,
}
