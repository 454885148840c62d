"""The native lane: one uv environment per Python on this machine, that of its `checks-X.Y` nox session.

validate builds each cell's environment and runs its suite itself, under `readiness.run.cellrun`
(which guarantees a document), a thread per cell within `-j` (README, "Options of `nox -s
validate`"); `nox -s checks-3.12` alone does the same through `run_session`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence

from readiness.cell import fingerprint
from readiness.cell import target as target_facts
from readiness.judge.policy import Policy
from readiness.model.document import CellState
from readiness.model.ids import CellId, normalise_arch, os_family, version_key
from readiness.model.plan import Plan, PlannedCell
from readiness.platform import process
from readiness.run import cellrun
from readiness.run.board import Board
from readiness.run.fallback import Missing, log_tail, planned_fingerprint, record
from readiness.run.folder import BASELINE_TREES, BUDGETS, CELL_TIMEOUT, RunFolder
from readiness.run.install import BuildFailed, InstallRequest, supports
from readiness.run.lanes import venv
from readiness.run.lanes.base import LanePlan, PlanRequest, RunContext, suite_args

if TYPE_CHECKING:  # --baseline-ref's code is loaded only by a run that asks for it
    from readiness.run.baseref import BaselineInstall

MIN_PYTHON = (3, 9)


def host_cell(python: str) -> str:
    """The cell id a native Python X.Y gets on this machine, before its interpreter is asked: the
    fingerprint's os and arch, without the rest of it (`platform.platform()` runs `uname -p`)."""
    return str(CellId(os_family(), normalise_arch(platform.machine()), "cpython", python.rstrip("t"),
                      free_threaded=python.endswith("t")))


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

        found = interpreters.discover(include_wine=False)  # the Wine lane's are not native cells
        return {i.minor: i.executable for i in found.chosen if i.lane == "native"}
    except Exception:  # discovery must never stop a run: fall back on PATH
        import shutil

        return {p: shutil.which(f"python{p}") for p in pythons}


class NativeLane:
    """Cells in uv environments on this machine (those of the `checks-X.Y` sessions), each run
    straight from validate: no nox process per cell."""

    name = "native"
    heavy = False

    def __init__(self, found: Optional[Mapping[str, Optional[str]]] = None) -> None:
        self.found = found

    def plan(self, request: PlanRequest) -> LanePlan:
        wanted = list(request.only or request.pythons)
        found = dict(self.found if self.found is not None else discovered(wanted))
        return plan_pythons({p: found.get(p) for p in wanted if p in found}, wanted, request.requires_python)

    def run_cell(self, cell: PlannedCell, context: RunContext) -> None:
        folder = context.folder
        log = folder.log(cell.id)
        log.unlink(missing_ok=True)
        folder.mark_building(cell.id)
        env = venv.location(context.project, cell.python)
        try:
            created = venv.ensure(env, cell.python, cell.interpreter, log, context.environ)
            if created or not context.reuse:  # nox -R: an environment that exists is used as it is
                venv.install(env, context.install, log, context.environ, ignore=(folder.reports,))
        except (BuildFailed, process.ProcessTimeout) as exc:
            record(folder.document(cell.id), folder.run_id, cell,
                   Missing(CellState.CRASHED, f"the cell's environment could not be built: {exc}; "
                           f"last lines of logs/{log.name}:\n{log_tail(log, 30)}"))
            return
        base = {**context.environ, **context.folder.cell_environ(cell.id),
                **baseline_environ(context, cell.python, cell.interpreter, log)}
        command = cell_command(context, cell.id, venv.interpreter(env), environ=venv.environ(env, base))
        cellrun.run_cell(command, lambda: planned_fingerprint(cell))

    def why_missing(self, cell: PlannedCell, folder: RunFolder) -> Missing:
        if cell.skip_reason:
            return Missing(CellState.NOT_RUN, cell.skip_reason)
        return Missing(CellState.NOT_RUN, "the cell never started (the run stopped before it)")


def baseline_environ(context: RunContext, python: str, interpreter: Optional[str], log: Path) -> Dict[str, str]:
    """--baseline-ref: the target at the ref in an environment of its own beside the cell's
    (`.nox/checks-X-Y-baseline`), and what the checks are told of it; a baseline that cannot be
    built is the checks' to report (their budget against it cannot be judged), not the cell's."""
    if context.baseline is None:
        return {}
    cell_env = venv.location(context.project, python)
    env = cell_env.with_name(cell_env.name + "-baseline")
    cellrun.log_note(log, f"readiness: the baseline, {context.baseline.base.label()}, in {env.name}")
    try:
        if venv.ensure(env, python, interpreter, log, context.environ) or not context.reuse:
            venv.install(env, context.baseline.request, log, context.environ,
                         ignore=(context.folder.reports,))
    except (BuildFailed, process.ProcessTimeout) as exc:
        return context.baseline.failed(f"{exc} (logs/{log.name} has the whole output)")
    return context.baseline.environ(str(venv.interpreter(env)))


def cell_command(context: RunContext, cell: str, python: Path, environ: Mapping[str, str],
                 echo: bool = False) -> cellrun.CellCommand:
    """How a native cell runs its suite: the same for validate's cells and a `checks-X.Y` session."""
    folder = context.folder
    coverage = folder.coverage_data(cell) if context.coverage_source else None
    return cellrun.CellCommand(
        python=str(python), document=folder.document(cell), log=folder.log(cell),
        pytest_args=(*context.suite, "-p", "no:cacheprovider", *context.pytest_args), run_id=folder.run_id,
        timeout=context.timeout, coverage_data=coverage, coverage_source=context.coverage_source,
        environ=environ, echo=echo,
    )


# --- a `checks-X.Y` session on its own (`nox -s checks-3.12`) ------------------------------


def run_session(session: "object", project: Path, rules: Policy) -> None:
    """Install the request into this session's environment and run the suite, as validate runs a
    native cell; the cell's document is guaranteed by cellrun."""
    import nox

    assert isinstance(session, nox.Session)
    request = InstallRequest.from_policy(project, rules)
    _preflight(project, rules, request)
    folder = RunFolder.from_environment(project)
    cell = host_cell(str(session.python))
    folder.mark_building(cell)
    env = Path(str(session.virtualenv.location))
    base = dict(os.environ, **cell_environ(project, rules, folder, cell))
    try:
        venv.install(env, request, folder.log(cell), base, ignore=(folder.reports,))
    except BuildFailed as exc:
        session.error(f"{exc}; see {folder.log(cell)}")
    timeout = os.environ.get(CELL_TIMEOUT)
    pytest_args, ref = _baseline_option(list(session.posargs))
    context = RunContext(project, folder, request, suite_args(rules), tuple(pytest_args), base,
                         Board(folder, Plan(folder.run_id)), timeout=float(timeout) if timeout else None,
                         coverage_source=tuple(rules.coverage.source) if rules.coverage.enabled else (),
                         baseline=_prepare_baseline(project, ref, request))
    base.update(baseline_environ(context, str(session.python), None, folder.log(cell)))
    code = cellrun.run_cell(cell_command(context, cell, venv.interpreter(env), venv.environ(env, base), echo=True),
                            fingerprint.fingerprint)
    if code not in (0, 1):
        session.error(f"the cell ended with code {code}; its document says why")


def _baseline_option(args: List[str]) -> "tuple[List[str], Optional[str]]":
    """`--baseline-ref REF` (or `--baseline-ref=REF`) taken out of the session's arguments; the rest go to pytest."""
    rest: List[str] = []
    ref = None
    items = iter(args)
    for arg in items:
        if arg == "--baseline-ref":
            ref = next(items, "")
        elif arg.startswith("--baseline-ref="):
            ref = arg.partition("=")[2]
        else:
            rest.append(arg)
    return rest, ref


def _prepare_baseline(project: Path, ref: Optional[str], request: InstallRequest) -> "Optional[BaselineInstall]":
    from readiness.model.errors import UsageError
    from readiness.run import baseref

    if ref is None:
        return None
    try:
        return baseref.prepare(project, ref, request, project / BASELINE_TREES)
    except UsageError as exc:  # as validate does: the message and 2, before anything is built
        print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _preflight(project: Path, rules: Policy, request: InstallRequest) -> None:
    from readiness.model.errors import UsageError
    from readiness.run import preflight

    try:
        preflight.check(project, rules, request)
    except UsageError as exc:  # as validate does: the message and 2, before anything is built
        print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


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
