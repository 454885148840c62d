"""The lane protocol: a lane plans its cells, provisions an interpreter, installs the target and runs
the suite, and always leaves one env document per cell (README, "The Windows lane under Wine").

Native (uv environments, those of the `checks-X.Y` nox sessions) and Wine are the two lanes; a
new one (a container, a remote runner) is a new module beside them implementing `Lane`. validate's
cell pool (`run/pool.py`) runs every lane's cells through one set of `-j` slots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Protocol, Tuple

from readiness.judge.policy import Policy
from readiness.model.plan import PlannedCell
from readiness.run.board import Board
from readiness.run.fallback import Missing
from readiness.run.folder import RunFolder
from readiness.run.install import InstallRequest

if TYPE_CHECKING:  # --baseline-ref's code is loaded only by a run that asks for it
    from readiness.run.baseref import BaselineInstall


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class PlanRequest(NamedTuple):
    """What the cells are planned from: the policy, the Pythons asked for, the target's requires-python."""

    rules: Policy
    pythons: Tuple[str, ...]
    only: Optional[Tuple[str, ...]] = None  # `--python`: these Pythons alone
    requires_python: Optional[str] = None


@dataclass
class LanePlan:
    """A lane's cells (those that cannot run carry their skip_reason) and what it left out, one line each."""

    cells: List[PlannedCell] = field(default_factory=list)
    excluded: List[str] = field(default_factory=list)
    # Cells of a lane that cannot run on this machine at all (no wine): recorded as not_run with
    # the command that enables them, and not required.
    unplanned: List[PlannedCell] = field(default_factory=list)


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class RunContext(NamedTuple):
    """Everything a lane needs to run its cells of one run."""

    project: Path
    folder: RunFolder
    install: InstallRequest
    suite: Tuple[str, ...]  # the suite path and the policy's pytest arguments (see `suite_args`)
    pytest_args: Tuple[str, ...]  # the user's, after `--`
    environ: Dict[str, str]  # the cells' environment: the caller's, the run's, the services'
    board: Board
    timeout: Optional[float] = None
    jobs: Optional[int] = None  # cells at once, every lane's together
    coverage_source: Tuple[str, ...] = ()
    reuse: bool = False  # nox -R: reuse environments without installing
    baseline: Optional[BaselineInstall] = None  # --baseline-ref: installed beside the target in every cell


class Lane(Protocol):
    """One way of running cells."""

    name: str
    heavy: bool  # its cells take longest: the pool starts them first

    def plan(self, request: PlanRequest) -> LanePlan:
        """The cells this lane would run for `request` on this machine."""

    def run_cell(self, cell: PlannedCell, context: RunContext) -> None:
        """Build `cell`'s environment and run its suite (never a cell with a skip_reason); called from a
        worker thread of the run's cell pool, several cells at once. KeyboardInterrupt (the run is
        stopping) propagates once the cell has stopped everything it started."""

    def why_missing(self, cell: PlannedCell, folder: RunFolder) -> Missing:
        """Why `cell` has no document after `run` (crashed build, never started, ...)."""


def suite_args(rules: Policy) -> Tuple[str, ...]:
    """pytest's arguments in every cell: the suite, the policy's arguments, its reruns of failing checks."""
    reruns = ("--reruns", str(rules.flaky.reruns)) if rules.flaky.reruns else ()
    return (rules.suite.path, *rules.suite.pytest_args, *reruns)
