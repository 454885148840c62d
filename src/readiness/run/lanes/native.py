"""The native lane: one uv environment per Python on this machine, each a `checks-X.Y` nox session.

validate runs the cells through one child `nox -j N -s checks-X.Y ...` (README, "Options of
`nox -s validate`"); inside it, `run_session` installs the request into the session's
environment and runs the suite under `readiness.run.cellrun`, which guarantees a document.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from readiness.cell import fingerprint
from readiness.cell import target as target_facts
from readiness.judge.policy import Policy
from readiness.model.document import CellState
from readiness.model.ids import CellId, version_key
from readiness.model.plan import PlannedCell
from readiness.platform import process
from readiness.run.board import Board
from readiness.run.fallback import Missing, log_tail
from readiness.run.folder import BUDGETS, CELL_TIMEOUT, RUN_DIR, RunFolder
from readiness.run.install import InstallRequest, supports
from readiness.run.lanes.base import LanePlan, PlanRequest, RunContext, suite_args

MIN_PYTHON = (3, 9)
STAMP = ".readiness-install"


def host_cell(python: str) -> str:
    """The cell id a native Python X.Y gets on this machine, before its interpreter is asked."""
    print_ = fingerprint.fingerprint({})
    return str(CellId(print_["os"], print_["arch"], "cpython", python.rstrip("t"), free_threaded=python.endswith("t")))


def plan_pythons(found: Mapping[str, Optional[str]], wanted: Sequence[str], requires_python: Optional[str],
                 ) -> LanePlan:
    """Cells for every wanted Python: found ones run, missing ones are planned as not_run."""
    plan = LanePlan()
    for python in sorted(set(wanted) | set(found), key=version_key):
        if version_key(python) < MIN_PYTHON:
            continue
        if not supports(requires_python, python):
            plan.excluded.append(f"{host_cell(python)}: the target requires Python {requires_python} "
                                 "(its requires-python)")
            continue
        interpreter = found.get(python)
        reason = None if interpreter else f"Python {python} is not installed on this machine"
        plan.cells.append(PlannedCell(host_cell(python), python, interpreter, skip_reason=reason))
    return plan


def discovered(pythons: Sequence[str]) -> Dict[str, Optional[str]]:
    """X.Y -> the interpreter each native cell uses (`readiness interpreters` lists them)."""
    try:
        from readiness.platform import interpreters

        found = interpreters.discover()
        return {i.minor: i.executable for i in found.chosen if i.lane == "native"}
    except Exception:  # discovery must never stop a run: fall back on PATH
        import shutil

        return {p: shutil.which(f"python{p}") for p in pythons}


class NativeLane:
    """Cells in uv environments on this machine, run by a child nox in parallel."""

    name = "native"

    def __init__(self, found: Optional[Mapping[str, Optional[str]]] = None) -> None:
        self.found = found
        self.results: Dict[str, str] = {}

    def plan(self, request: PlanRequest) -> LanePlan:
        wanted = list(request.only or request.pythons)
        found = dict(self.found if self.found is not None else discovered(wanted))
        return plan_pythons({p: found.get(p) for p in wanted if p in found}, wanted, request.requires_python)

    def run(self, cells: Sequence[PlannedCell], context: RunContext) -> None:
        runnable = [cell.python for cell in cells if not cell.skip_reason]
        if not runnable:
            return
        try:
            run_child(self.argv(runnable, context), context.environ, context.folder.nox_log,
                                  context.board)
        finally:
            self.results = session_results(context.folder.nox_report)

    def argv(self, pythons: Sequence[str], context: RunContext) -> List[str]:
        """The child nox: every runnable cell's `checks-X.Y` session, N at once."""
        # Cells mostly wait (interpreter start, I/O-bound checks): two per core keeps both
        # cores busy without thrashing a small machine.
        jobs = context.jobs or max(1, min(len(pythons), 2 * (os.cpu_count() or 1)))
        argv = [sys.executable, "-m", "nox", "-f", str(context.project / "noxfile.py"),
                "--report", str(context.folder.nox_report), "-s", *[f"checks-{p}" for p in pythons],
                *(["-j", str(jobs)] if jobs > 1 else []), *(["-R"] if context.reuse else [])]
        return argv + (["--", *context.pytest_args] if context.pytest_args else [])

    def why_missing(self, cell: PlannedCell, folder: RunFolder) -> Missing:
        if cell.skip_reason:
            return Missing(CellState.NOT_RUN, cell.skip_reason)
        result = self.results.get(cell.python)
        if result == "skipped":
            return Missing(CellState.NOT_RUN,
                           f"nox skipped the cell: the interpreter for Python {cell.python} was not found")
        if result is None:
            return Missing(CellState.NOT_RUN, "the cell never started (the run stopped before it)")
        return Missing(CellState.CRASHED, f"the cell's environment could not be built (nox: {result}); "
                       f"last lines of logs/nox.log:\n{log_tail(folder.nox_log, 30)}")


# --- the child nox: its output in the run's log, the board shown while it runs ---------------


def session_results(report: Path) -> Dict[str, str]:
    """Python X.Y -> nox's result for its checks session, read conservatively (missing: none)."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    results = {}
    for session in data.get("sessions", []):
        for signature in session.get("signatures") or [session.get("name", "")]:
            python = str(signature).rpartition("-")[2]  # checks-3.12 -> 3.12
            results[python] = str(session.get("result", "failed"))
    return results


def run_child(argv: Sequence[str], env: Mapping[str, str], log: Path, board: Board) -> int:
    """Run the child nox with its output in `log` (redacted), showing the board until it ends.

    On Ctrl-C the child and its cells are interrupted first, and killed after a grace period.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    options = process.Options(env=env, interrupt_grace=5.0)
    with log.open("ab") as sink:
        code = process.start(argv, options, [process.file_sink(sink)]).wait(tick=board.refresh)
    board.refresh()
    return code


# --- inside the child nox: one `checks-X.Y` session ---------------------------------------


def run_session(session: "object", project: Path, rules: Policy) -> None:
    """Install the request into this session's environment and run the suite; the cell's document
    is guaranteed by cellrun."""
    import nox

    assert isinstance(session, nox.Session)
    request = InstallRequest.from_policy(project, rules)
    if RUN_DIR not in os.environ:  # on its own, not as one of validate's cells (validate checked already)
        _preflight(project, rules, request)
    folder = RunFolder.from_environment(project)
    os.environ.setdefault("READINESS_RUN_ID", folder.run_id)
    cell = host_cell(str(session.python))
    folder.mark_building(cell)
    install(session, request, folder.log(cell))
    timeout = os.environ.get(CELL_TIMEOUT)
    session.run(
        "python", "-m", "readiness.run.cellrun", "--out", str(folder.envs), "--log-dir", str(folder.logs),
        *(["--timeout", timeout] if timeout else []), *coverage_args(rules, folder),
        "--", *suite_args(rules), "-p", "no:cacheprovider", *session.posargs,
        env=cell_environ(project, rules, folder, cell), success_codes=[0, 1],
    )


def _preflight(project: Path, rules: Policy, request: InstallRequest) -> None:
    from readiness.model.errors import UsageError
    from readiness.run import preflight

    try:
        preflight.check(project, rules, request)
    except UsageError as exc:  # as validate does: the message and 2, before anything is built
        print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def install(session: "object", request: InstallRequest, log: Path) -> None:
    """Install the request, unless this reused environment already has exactly this install.

    The target (when editable) and readiness are installed in place, so their sources are live;
    what needs a reinstall is a change to the install itself: the request, or a file it names.
    A fresh environment has no stamp and always installs.
    """
    import nox

    assert isinstance(session, nox.Session)
    digest = request.digest(live=True)
    stamp = Path(str(session.virtualenv.location)) / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
        session.log("readiness: the environment already has this install; skipping it")
        return
    exact: List[str] = []
    if stamp.is_file():  # a package the target no longer asks for must not make a check pass
        why = ("readiness: the install request changed since this environment was built (an extra, group, "
               "requirement or a file it names); syncing it exactly, removing what is no longer asked for")
        session.log(why)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as sink:  # the cell's own log says why, too
            sink.write(why + "\n")
        exact = ["--exact"]
    session.install(*request.arguments(live=True), *exact)
    stamp.write_text(digest, encoding="utf-8")


def coverage_args(rules: Policy, folder: RunFolder) -> List[str]:
    """cellrun's options for coverage of the target: one data file per cell in the run folder."""
    if not rules.coverage.enabled:
        return []
    args = ["--coverage-data", str(folder.coverage / "{cell}.coverage")]
    for package in rules.coverage.source:
        args += ["--coverage-source", package]
    return args


def cell_environ(project: Path, rules: Policy, folder: RunFolder, cell: str) -> Dict[str, str]:
    """The run's `READINESS_*` variables and what the plugin records about the target."""
    env = folder.cell_environ(cell)
    env.update(target_environ(project, rules))
    if BUDGETS not in os.environ:  # validate's own (its profile's) budgets win over this session's policy
        env.update(budgets_environ(rules))
    return env


def budgets_environ(rules: Policy) -> Dict[str, str]:
    """READINESS_BUDGETS: each budget (name -> max, statistic, unit, max_increase_pct), for sampling to settle:
    `max` (absolute, null when there is none) and `max_increase_pct` (paired against --baseline-ref)."""
    table = {b.measurement: {"max": b.max, "statistic": b.statistic, "unit": b.unit,
                             "max_increase_pct": b.max_increase_pct}
             for b in rules.budgets if b.max is not None or b.max_increase_pct is not None}
    return {BUDGETS: json.dumps(table, sort_keys=True)}


def target_environ(project: Path, rules: Policy) -> Dict[str, str]:
    """READINESS_TARGET_*: the target's name, folder, commit, dirty flag and source hash."""
    env: Dict[str, str] = {}
    if rules.target.name:
        env["READINESS_TARGET"] = rules.target.name
    if rules.target.path:
        source = project / rules.target.path
        env["READINESS_TARGET_ROOT"] = str(source)
        commit, dirty = target_facts.git_commit(source), target_facts.git_dirty(source)
        if commit:
            env["READINESS_TARGET_COMMIT"] = commit
        if dirty is not None:
            env["READINESS_TARGET_DIRTY"] = "1" if dirty else "0"
        env["READINESS_TARGET_SOURCE_HASH"] = target_facts.source_hash_of(source) or ""
    return env
