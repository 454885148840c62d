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

import fnmatch
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from readiness.judge.policy_values import PARSERS, as_table, check_keys, did_you_mean, kind_of, shown_key
from readiness.judge.settings import (
    EXPIRY_WARNING_DAYS,
    STATISTICS,
    Budget,
    CoverageSettings,
    FlakySettings,
    ProjectSettings,
    SuiteSettings,
    TargetSettings,
    Waiver,
    WineSettings,
)
from readiness.model.document import Severity
from readiness.model.errors import PolicyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9 and 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

# The settings records live in judge/settings.py; these names stay importable from here.
__all__ = ["DEFAULT_LABEL", "EXPIRY_WARNING_DAYS", "STATISTICS", "Budget", "CoverageSettings", "FlakySettings",
           "Policy", "ProjectSettings", "SuiteSettings", "TargetSettings", "Waiver", "WineSettings", "default_policy",
           "load_policy",
           "parse_policy"]

DEFAULT_LABEL = "default policy"


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
    accept_own_skips: bool = False  # the project's own skips, deselections and xfails are facts, not missing evidence
    waivers: Tuple[Waiver, ...] = ()
    pythons: Tuple[str, ...] = ()
    cell_timeout: Optional[float] = None
    target: TargetSettings = field(default_factory=TargetSettings)
    suite: SuiteSettings = field(default_factory=SuiteSettings)
    wine: WineSettings = field(default_factory=WineSettings)
    coverage: CoverageSettings = field(default_factory=CoverageSettings)
    services: Tuple[str, ...] = ()  # started by validate for the run (README, "Validate your own project")
    profiles: Tuple[str, ...] = ()
    project: ProjectSettings = field(default_factory=ProjectSettings)

    @property
    def label(self) -> str:
        if self.is_default:
            return DEFAULT_LABEL
        return f"{self.source} (profile {self.profile})" if self.profile else self.source

    def severity_of(self, check_id: str, declared: Severity) -> Severity:
        """The severity the verdict uses: a policy pattern, else the check's declared one (the
        plugin records `major` for a check that declares none), with or without a policy."""
        for pattern, severity in self.severity:
            if fnmatch.fnmatchcase(check_id, pattern):
                return severity
        return declared

    def blocks(self, severity: Severity) -> bool:
        return severity in (Severity.CRITICAL, Severity.MAJOR)


def default_policy() -> Policy:
    """The policy when a project has none: planned (or present) cells, declared severities."""
    return Policy()


# --- reading ------------------------------------------------------------------------------


def load_policy(config: Optional[str] = None, profile: Optional[str] = None,
                *, cwd: Optional[Path] = None) -> Policy:
    """The policy from `config`, or from ./pyproject.toml, or the default policy."""
    if config is not None:
        path = Path(config)
        data = _read_toml(path)
        table = _tool_table(data, path, required=True)
    else:
        path = Path("pyproject.toml") if cwd is None else cwd / "pyproject.toml"
        data = _read_toml(path) if path.is_file() else {}
        table = _tool_table(data, path, required=False) if data else None
    if table is None:
        if profile is not None:
            raise PolicyError(f"--profile {profile}: there is no policy ([tool.readiness]) to take it from")
        return replace(default_policy(), project=_project(data))
    return replace(parse_policy(table, path.as_posix(), profile), project=_project(data))


def _project(data: Mapping[str, Any]) -> ProjectSettings:
    """The name and version of `[project]`, where they are plain strings (a dynamic version is not)."""
    project = data.get("project")
    if not isinstance(project, dict):
        return ProjectSettings()
    name, version = project.get("name"), project.get("version")
    return ProjectSettings(name if isinstance(name, str) and name.strip() else None,
                           version if isinstance(version, str) and version.strip() else None)


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
        raise PolicyError(f"{path.as_posix()}: tool must be a table, found {kind_of(tool)}")
    table = tool.get("readiness")
    if table is None and required:
        raise PolicyError(f"{path.as_posix()}: has no [tool.readiness] table")
    if table is not None and not isinstance(table, dict):
        raise PolicyError(f"{path.as_posix()}: tool.readiness must be a table, found {kind_of(table)}")
    return table


def parse_policy(table: Mapping[str, Any], source: str, profile: Optional[str] = None) -> Policy:
    """Check a `[tool.readiness]` table and turn it into a Policy; PolicyError names the key."""
    where = f"{source} [tool.readiness]"
    values = _values(table, where, _TOP_KEYS)
    profiles = as_table(table.get("profiles", {}), f"{where}.profiles")
    # Every profile is checked, chosen or not, and its errors name the profile's own keys.
    chosen = {}
    for name, body in profiles.items():
        at = f"{where}.profiles.{shown_key(name)}"
        chosen[name] = _values(as_table(body, at), at, _PROFILE_KEYS)
    if profile is not None:
        if profile not in profiles:
            raise PolicyError(f"{where}: no profile {profile!r}{did_you_mean(profile, list(profiles))}")
        values.update(chosen[profile])
    return Policy(source=source, is_default=False, profile=profile,
                  profiles=tuple(sorted(profiles)), **values)


def _values(table: Mapping[str, Any], where: str, allowed: Tuple[str, ...]) -> Dict[str, Any]:
    """The typed values of the policy keys in `table`, each checked under its key path."""
    check_keys(table, allowed, where)
    return {key: PARSERS[key](value, f"{where}.{key}") for key, value in table.items() if key in PARSERS}


_TOP_KEYS = (*PARSERS, "profiles")
_PROFILE_KEYS = tuple(PARSERS)
