"""Everything `target` and `suite` mean, checked before any cell is built (README, "Validate your own project").

A key that names something that is not there (a folder, a file, an extra the target does not
declare) ends the run with exit 2 and a message naming the key and the fix, instead of a cell
that fails to build or a check suite that fails to import minutes later.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List, Optional, Set

from readiness.cell import target as target_facts
from readiness.judge.policy import Policy
from readiness.model.errors import UsageError
from readiness.platform import process
from readiness.platform.tools import pip_command
from readiness.run.install import InstallRequest

KEY = "[tool.readiness]"


def check(project: Path, rules: Policy, request: InstallRequest) -> None:
    """Raise a UsageError listing every problem of the install request and the suite; None when all is well."""
    problems = _target_problems(project, rules, request) + _file_problems(project, request)
    suite = project / rules.suite.path
    if not suite.exists():
        problems.append(f"{KEY}.suite.path: {rules.suite.path!r} does not exist in {project}; set it to the "
                        "folder (or file) of the checks pytest should run")
    if problems:
        raise UsageError("\n".join(problems) if len(problems) == 1 else
                         "the policy names what is not there:\n" + "\n".join(f"  - {p}" for p in problems))


def _target_problems(project: Path, rules: Policy, request: InstallRequest) -> List[str]:
    if request.target is None:
        return []
    given = rules.target.path
    if not request.target.is_dir():
        return [f"{KEY}.target.path: {given!r} is not a folder in {project}; set it to the folder of the "
                "target's pyproject.toml (\".\" for this project)"]
    if not any((request.target / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")):
        return [f"{KEY}.target.path: {given!r} has no pyproject.toml or setup.py, so it cannot be installed"]
    problems = []
    declared = declared_extras(request.target)
    unknown = [e for e in request.extras if declared is not None and normalise(e) not in declared]
    if unknown:
        offered = ", ".join(sorted(declared or ())) or "none"
        problems.append(f"{KEY}.target.extras: {', '.join(repr(e) for e in unknown)} not declared by the target "
                        f"(its extras: {offered}); name one of its [project.optional-dependencies], or install "
                        "the test dependencies through target.dependency_groups or target.requirements")
    groups = declared_groups(request.target)
    missing = [g for g in request.groups if normalise(g) not in groups]
    if missing:
        offered = ", ".join(sorted(groups)) or "none"
        problems.append(f"{KEY}.target.dependency_groups: {', '.join(repr(g) for g in missing)} not declared by "
                        f"the target (its [dependency-groups]: {offered}); name one of them, or install the test "
                        "dependencies through target.extras or target.requirements")
    return problems


def _file_problems(project: Path, request: InstallRequest) -> List[str]:
    problems = []
    for key, path in (("requirements", request.requirements), ("constraints", request.constraints)):
        if path is not None and not path.is_file():
            problems.append(f"{KEY}.target.{key}: the file {_shown(path, project)!r} does not exist; give a "
                            "path relative to the pyproject.toml holding the policy")
    return problems


def declared_extras(target: Path) -> Optional[Set[str]]:
    """The extras the target declares (normalised names), from [project] or, when they are dynamic,
    from its metadata, built once; None when they cannot be known (the cells will tell)."""
    table = target_facts.project_table(target / "pyproject.toml")
    dynamic = table.get("dynamic")
    dynamic = dynamic if isinstance(dynamic, list) else []
    if table and "optional-dependencies" not in dynamic:
        extras = table.get("optional-dependencies") or {}
        return {normalise(name) for name in extras} if isinstance(extras, dict) else set()
    return _built_extras(target)


def declared_groups(target: Path) -> Set[str]:
    """The PEP 735 dependency groups of the target's pyproject.toml (normalised names)."""
    groups = target_facts.pyproject_tables(target / "pyproject.toml").get("dependency-groups")
    return {normalise(name) for name in groups} if isinstance(groups, dict) else set()


def _built_extras(target: Path) -> Optional[Set[str]]:
    """`Provides-Extra` of the target's metadata, as pip's install report gives it."""
    argv = [*pip_command(), "install", "--dry-run", "--no-deps", "--ignore-installed", "--quiet",
            "--disable-pip-version-check", "--report", "-", str(target)]
    try:
        _code, output = process.capture(argv, process.Options(timeout=600, what="pip's metadata of the target"),
                                        raw=True)
        report = json.loads(output[output.index("{"):output.rindex("}") + 1])
        metadata = report["install"][0]["metadata"]
    except (OSError, process.ProcessTimeout, ValueError, KeyError, IndexError, TypeError):
        return None
    return {normalise(name) for name in metadata.get("provides_extra") or []}


def normalise(name: str) -> str:
    """PEP 685 / PEP 503: extras and groups compare lowercased, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _shown(path: Path, project: Path) -> str:
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return str(path)
