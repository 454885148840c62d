"""`readiness matrix`: the cells CI should run, as a plan document or a GitHub Actions matrix.

The CI matrix is every hosted runner (Linux and Windows on x86_64, macOS on arm64) times the
policy's `pythons`, kept to the cells the profile's `required_cells` globs name when it has any.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from readiness.cell import fingerprint
from readiness.judge import policy
from readiness.model.errors import UsageError
from readiness.model.ids import CellId
from readiness.model.plan import Plan, PlannedCell
from readiness.run.install import InstallRequest, supports

DEFAULT_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")


@dataclass(frozen=True)
class Runner:
    """A hosted runner label and the OS and architecture its cells get."""

    label: str
    os: str
    arch: str


# GitHub's hosted runners: macos-latest is Apple silicon, the other two are x86_64.
RUNNERS = (
    Runner("ubuntu-latest", "linux", "x86_64"),
    Runner("windows-latest", "windows", "x86_64"),
    Runner("macos-latest", "macos", "arm64"),
)


@dataclass(frozen=True)
class CiCell:
    """One job of the CI matrix: where it runs, which Python, and the cell it produces."""

    runner: str
    python: str
    cell: str

    def to_include(self) -> Dict[str, str]:
        return {"os": self.runner, "python": self.python, "cell": self.cell}


def ci_cells(rules: policy.Policy, runners: Sequence[Runner] = RUNNERS, requires_python: Optional[str] = None,
             ) -> List[CiCell]:
    """Every runner x Python of the policy that the target's requires-python allows, kept to the
    profile's required cells when it names any."""
    pythons = [p for p in rules.pythons or DEFAULT_PYTHONS if supports(requires_python, p)]
    cells = [CiCell(r.label, p, _cell_id(r, p)) for r in runners for p in pythons]
    if rules.required_cells is None:
        return cells
    kept = [c for c in cells if _required(c.cell, rules.required_cells)]
    if not kept:
        raise UsageError(
            f"{rules.label}: required_cells {list(rules.required_cells)} match none of the CI "
            f"cells ({', '.join(c.cell for c in cells)})"
        )
    return kept


def _cell_id(runner: Runner, python: str) -> str:
    # A "t" suffix (3.13t) is the free-threaded build, spelt the same way in the cell id.
    return str(CellId(runner.os, runner.arch, "cpython", python.rstrip("t"), free_threaded=python.endswith("t")))


def _required(cell: str, patterns: Tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(cell, pattern) for pattern in patterns)


def github_matrix(cells: Sequence[CiCell]) -> Dict[str, List[Dict[str, str]]]:
    """A value for `strategy.matrix`: one `include` entry (os, python, cell) per job."""
    return {"include": [cell.to_include() for cell in cells]}


def plan_document(cells: Sequence[CiCell], run_id: str, profile: Optional[str]) -> Dict[str, Any]:
    """The cells as a `readiness/plan` document, the `plan.json` of the CI run."""
    planned = [PlannedCell(c.cell, c.python) for c in cells]
    return Plan(run_id, planned, profile=profile).to_dict()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `readiness matrix`."""
    parser.add_argument("--profile", metavar="NAME",
                        help="a profile of the policy ([tool.readiness.profiles.NAME])")
    parser.add_argument("--config", metavar="FILE",
                        help="a pyproject.toml or bare TOML policy (default: ./pyproject.toml)")
    parser.add_argument("--github", action="store_true",
                        help="print a GitHub Actions matrix (include: os, python, cell) "
                        "instead of a plan")


def command(args: argparse.Namespace) -> int:
    """Print the planned CI matrix; 0, or a UsageError/PolicyError for the CLI to report."""
    rules = policy.load_policy(args.config, args.profile)
    project = Path(rules.source).parent if Path(rules.source).is_file() else Path.cwd()
    requires = InstallRequest.from_policy(project, rules).requires_python()
    for python in rules.pythons or DEFAULT_PYTHONS:
        if not supports(requires, python):
            sys.stderr.write(f"readiness: no {python} jobs: the target requires Python {requires}\n")
    cells = ci_cells(rules, requires_python=requires)
    if args.github:
        text = json.dumps(github_matrix(cells), separators=(",", ":"))
    else:
        text = json.dumps(plan_document(cells, fingerprint.run_id(), args.profile), indent=1)
    sys.stdout.write(text + "\n")
    return 0
