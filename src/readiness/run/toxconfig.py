"""`readiness tox`: a `tox.toml` made from `[tool.readiness]`, so teams that run tox get the same cells
from the same keys (README, "tox"): one environment per Python the target supports, each installing
the same request (target, extras, dependency groups, requirements, constraints) and writing its env
document where validate's cells do.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List

from readiness.judge import policy
from readiness.model.errors import UsageError
from readiness.run.install import COVERAGE, InstallRequest, supports
from readiness.run.matrix import DEFAULT_PYTHONS

HEADER = ("# Made by `readiness tox` from [tool.readiness] in {source}: make it again when the policy\n"
          "# changes. `tox p` runs every Python at once; `readiness verdict reports/runs/<id>/envs` judges.\n")
OUT = "{tox_root}{/}reports{/}runs{/}{env:READINESS_RUN_ID:tox}"


def tox_toml(project: Path, rules: policy.Policy) -> str:
    """The tox.toml text for the policy of `project`."""
    request = InstallRequest.from_policy(project, rules)
    requires = request.requires_python()
    pythons = [p for p in rules.pythons or DEFAULT_PYTHONS if supports(requires, p)]
    base = {**_install(project, request), **_run(project, rules)}
    lines = [HEADER.format(source=rules.source), 'requires = ["tox>=4.22", "tox-uv>=1.11"]',
             f"env_list = {_toml(pythons)}", "", "[env_run_base]"]
    lines += [f"{key} = {_toml(value)}" for key, value in base.items() if key != "set_env"]
    lines += ["", "[env_run_base.set_env]"] + [f"{k} = {_toml(v)}" for k, v in base["set_env"].items()]
    # The environment that builds the target finds pyenv's Pythons only when they are active, too.
    lines += ["", "[env_pkg_base]", 'pass_env = ["PYENV_VERSION"]']
    return "\n".join(lines) + "\n"


def _install(project: Path, request: InstallRequest) -> Dict[str, Any]:
    """How tox carries out the install request: the target as tox's own package when it is the tox
    root (so extras and dependency groups are tox's), else installed by path through deps."""
    deps: List[str] = []
    if request.constraints is not None:
        deps.append(f"-c {_rooted(project, request.constraints)}")
    if request.requirements is not None:
        deps.append(f"-r {_rooted(project, request.requirements)}")
    deps += list(request.requirement_specs) + [tool for tool in request.tools if tool != COVERAGE]  # no coverage run
    deps += [" ".join(request.readiness.requirement())]
    settings: Dict[str, Any] = {}
    if request.target is not None and request.target.resolve() == project.resolve():
        settings["package"] = "editable" if request.editable else "wheel"
        if request.extras:
            settings["extras"] = list(request.extras)
        if request.groups:
            settings["dependency_groups"] = list(request.groups)
    else:
        if request.groups:
            raise UsageError("[tool.readiness].target.dependency_groups: tox installs the dependency groups of "
                             "the tox root's pyproject.toml only; give target.path = \".\" or use nox")
        settings["skip_install"] = True
        if request.target is not None:
            extras = f"[{','.join(request.extras)}]" if request.extras else ""
            deps.append(("-e " if request.editable else "") + _rooted(project, request.target) + extras)
    return {**settings, "deps": deps}


def _run(project: Path, rules: policy.Policy) -> Dict[str, Any]:
    suite = [rules.suite.path, *rules.suite.pytest_args]
    reruns = ["--reruns", str(rules.flaky.reruns)] if rules.flaky.reruns else []
    set_env = {"READINESS_RUNNER": "tox", "READINESS_RUN_ID": "{env:READINESS_RUN_ID:tox}",
               "READINESS_LOCK": OUT + "{/}timing.lock"}
    if rules.target.name:
        set_env["READINESS_TARGET"] = rules.target.name
    if rules.target.path:
        set_env["READINESS_TARGET_ROOT"] = "{tox_root}{/}" + rules.target.path
    return {
        "description": "the check suite in this Python's cell, writing its env document",
        "runner": "uv-venv-runner",
        "uv_python_preference": "only-system",  # a missing Python is a finding, never a download
        "pass_env": ["REDIS_URL", "READINESS_SCENARIO", "PYENV_VERSION"],
        "commands": [["python", "-m", "pytest", *suite, *reruns, "-p", "no:cacheprovider",
                      "--readiness-out", OUT + "{/}envs", {"replace": "posargs", "extend": True}]],
        "set_env": set_env,
    }


def _rooted(project: Path, path: Path) -> str:
    try:
        return "{tox_root}{/}" + path.relative_to(project).as_posix()
    except ValueError:
        return path.as_posix()


def _toml(value: Any) -> str:
    """A TOML value: JSON spells strings, booleans, arrays and inline tables the way TOML takes them."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="a pyproject.toml or bare TOML policy (default: ./pyproject.toml)")


def command(args: argparse.Namespace) -> int:
    """Print the tox.toml; 0, or a UsageError/PolicyError for the CLI to report."""
    rules = policy.load_policy(args.config)
    if rules.is_default:
        raise UsageError("readiness tox: there is no [tool.readiness] policy to make a tox.toml from")
    project = Path(rules.source).resolve().parent
    sys.stdout.write(tox_toml(project, rules))
    return 0
