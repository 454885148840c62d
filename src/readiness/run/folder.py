"""The run folder, `reports/runs/<run_id>/`, and the `READINESS_*` variables that tell a cell where it is.

Every path of a run is named here and nowhere else (README, "Set-up and the two commands", and
reports/README.md): plan, envs, logs, coverage, progress, the reports, `reports/latest`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional

from readiness.cell import fingerprint
from readiness.model.errors import UsageError
from readiness.model.ids import cell_file, check_run_id
from readiness.model.output import write_text

# The contract between validate (or tox, or CI) and the cells it starts.
RUN_ID = "READINESS_RUN_ID"  # ties the cells of one validation together
RUN_DIR = "READINESS_RUN_DIR"  # the run folder, set by validate for its child nox
PROGRESS = "READINESS_PROGRESS"  # the file the plugin writes its progress to
RUNNER = "READINESS_RUNNER"  # nox, tox or plain: recorded in the fingerprint
TIMING_LOCK = "READINESS_LOCK"  # the lock timed checks of one run share
CELL_TIMEOUT = "READINESS_CELL_TIMEOUT"  # seconds before a cell is killed
SCENARIO = "READINESS_SCENARIO"  # passed through to the checks
BASELINE_TREES = ".nox/readiness-baseline"  # --baseline-ref: the project's tree per commit, relative to it
BUDGETS = "READINESS_BUDGETS"  # the policy's absolute budgets (JSON), so sampling can stop when settled


@dataclass(frozen=True)
class RunFolder:
    """One run's folder; `reports` is the folder holding `runs/` and `latest`."""

    reports: Path
    run_id: str

    def __post_init__(self) -> None:
        check_run_id(self.run_id, "the run id")

    @classmethod
    def of(cls, project: Path, run_id: str) -> "RunFolder":
        return cls(project / "reports", run_id)

    @classmethod
    def from_environment(cls, project: Path, environ: Mapping[str, str] = os.environ) -> "RunFolder":
        """The run a `checks-X.Y` session belongs to: validate's (READINESS_RUN_DIR), else its own."""
        explicit = environ.get(RUN_DIR)
        if explicit:
            path = Path(explicit)
            return cls(path.parent.parent, path.name)
        return cls.of(project, fingerprint.run_id(environ))

    @property
    def path(self) -> Path:
        return self.reports / "runs" / self.run_id

    @property
    def plan(self) -> Path:
        return self.path / "plan.json"

    @property
    def envs(self) -> Path:
        return self.path / "envs"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def coverage(self) -> Path:
        return self.path / "coverage"

    @property
    def durations(self) -> Path:
        """`durations.json`: how long each cell took, so the next run starts the longest first."""
        return self.path / "durations.json"

    @property
    def timing_lock(self) -> Path:
        return self.path / "timing.lock"

    @property
    def nox_log(self) -> Path:
        return self.logs / "nox.log"

    @property
    def nox_report(self) -> Path:
        return self.path / "nox-report.json"

    def document(self, cell: str) -> Path:
        """`envs/<cell>.json`: the cell's env document."""
        return cell_file(self.envs, cell, ".json")

    def log(self, cell: str) -> Path:
        return cell_file(self.logs, cell, ".log")

    def coverage_data(self, cell: str) -> Path:
        return cell_file(self.coverage, cell, ".coverage")

    def progress(self, cell: str) -> Path:
        """`progress/<cell>.json`: what the cell's plugin says while it runs (the live board reads it)."""
        return cell_file(self.path / "progress", cell, ".json")

    def mark_building(self, cell: str) -> None:
        write_text(self.progress(cell), '{"phase": "building"}')

    def cell_environ(self, cell: str, runner: str = "nox") -> Dict[str, str]:
        """The `READINESS_*` variables a cell of this run is started with."""
        return {RUN_ID: self.run_id, PROGRESS: str(self.progress(cell)), RUNNER: runner,
                TIMING_LOCK: str(self.timing_lock)}

    def child_environ(self) -> Dict[str, str]:
        """What validate gives its child nox: which run its `checks-X.Y` sessions belong to."""
        return {RUN_ID: self.run_id, RUN_DIR: str(self.path)}

    def mark_latest(self) -> None:
        """`reports/latest` names this run, replaced in one step (readers see the old or the new id)."""
        write_text(self.reports / "latest", self.run_id + "\n")


def latest(reports: Path) -> str:
    """The run id `reports/latest` names (the run that finished last)."""
    try:
        run_id = (reports / "latest").read_text(encoding="utf-8").strip()
    except OSError:
        raise UsageError("--rerun: there is no earlier run (reports/latest is missing)") from None
    return check_run_id(run_id, "reports/latest")


def relative(path: Path, base: Optional[Path] = None) -> str:
    """`path` relative to `base` (default: the working folder) when inside it, so outputs name no home folder."""
    try:
        return path.resolve().relative_to((base or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(path)
