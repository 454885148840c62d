"""`nox -s validate`: plan the cells of every lane, run them, merge what they wrote and judge it.

Every step works on the run folder (`reports/runs/<run_id>/`), so a run can be inspected,
re-merged or re-judged afterwards with the `readiness` command (README, "Options of
`nox -s validate`"). The exit code is the verdict's (0, 1, 3), 2 for bad input, 130 when
interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from readiness.cell import fingerprint
from readiness.judge import policy
from readiness.model.document import CellState
from readiness.model.errors import ReadinessError, UsageError
from readiness.model.output import write_text
from readiness.model.plan import Plan, PlannedCell
from readiness.model.plan import write as write_plan
from readiness.run import preflight, runlock
from readiness.run.board import Board, read_json
from readiness.run.fallback import Missing, fill_missing, record
from readiness.run.folder import BASELINE_TREES, CELL_TIMEOUT, SCENARIO, RunFolder, latest, relative
from readiness.run.install import InstallRequest
from readiness.run.lanes.base import Lane, PlanRequest, RunContext, suite_args
from readiness.run.lanes.native import NativeLane
from readiness.run.lanes.wine import WineLane
from readiness.run.options import ValidateOptions
from readiness.run.pool import Admission, CellPool, ordered

if TYPE_CHECKING:  # --baseline-ref's code is loaded only by a run that asks for it
    from readiness.run.baseref import BaselineInstall


@dataclass
class Run:
    """One validation: its folder, its plan, the lanes that run its cells."""

    project: Path
    rules: policy.Policy
    options: ValidateOptions
    folder: RunFolder
    lanes: Tuple[Lane, ...]
    request: InstallRequest  # what every cell installs, built once from the policy
    plan: Plan = field(init=False)
    unplanned: List[PlannedCell] = field(default_factory=list)
    owner: Dict[str, Lane] = field(default_factory=dict)  # cell id -> its lane
    started: float = field(default_factory=time.monotonic)  # readiness's own time is what the cells leave
    cells_s: float = 0.0
    base: Optional["BaselineInstall"] = None  # --baseline-ref: the target at that ref, installed beside


def validate(project: Path, rules: policy.Policy, pythons: Sequence[str], options: ValidateOptions) -> int:
    """The whole run; returns the exit code."""
    started = time.monotonic()
    if options.profile or options.config:
        rules = policy.load_policy(options.config, options.profile, cwd=project)
    if options.cell_timeout is None:
        options = options._replace(cell_timeout=rules.cell_timeout)
    request = InstallRequest.from_policy(project, rules)
    preflight.check(project, rules, request)  # before anything is built
    base = None
    if options.baseline_ref is not None:  # a ref that names no commit exits 2 now, before anything is built
        from readiness.run import baseref

        base = baseref.prepare(project, options.baseline_ref, request, project / BASELINE_TREES)
    if options.baseline:  # a wrong name fails now, not after every cell has run
        from readiness.judge import baseline

        baseline.resolve(options.baseline, root=project)
    run_id = latest(project / "reports") if options.rerun else (options.run_id or fingerprint.run_id())
    from readiness.model.ids import check_run_id

    check_run_id(run_id, "reports/latest" if options.rerun else "--run-id" if options.run_id else "the run id")
    folder = RunFolder.of(project, run_id)
    run = Run(project, rules, options, folder, (NativeLane(), WineLane()), request, started=started, base=base)
    with runlock.claim_run(folder.path, run_id), sigterm_is_interrupt():  # a second run with this id is refused
        return _validate_run(run, pythons)


def _validate_run(run: Run, pythons: Sequence[str]) -> int:
    _plan(run, pythons)
    done = finished_cells(run.folder) if run.options.rerun else set()
    for cell in run.plan.cells:
        if cell.id not in done:  # a cell about to run again leaves no stale document
            run.folder.document(cell.id).unlink(missing_ok=True)
    board = Board(run.folder, run.plan)
    interrupted = False
    try:
        turn: Optional[runlock.HeldLock] = _take_turn(run)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while waiting: nothing ran, the cells are not_run
        turn, interrupted = None, True
    with turn or contextlib.nullcontext():  # the OS releases it if this process dies
        if turn is not None:
            cells_started = time.monotonic()
            interrupted = _run_cells(run, board, done)
            run.cells_s = time.monotonic() - cells_started
            _combine_coverage(run)  # may use a cell's interpreter
        _record_missing(run, interrupted)
        board.refresh()
        code = judge(run.folder, run.project, run.options, interrupted)
        # Only now, with the verdict and reports written: `latest` names the run that finished last.
        run.folder.mark_latest()
    own = time.monotonic() - run.started - run.cells_s
    print(f"readiness: run {run.folder.run_id}: reports in {relative(run.folder.path, run.project)}/ "
          f"(cells {run.cells_s:.1f} s, readiness's own work around them {own:.2f} s)")
    return 130 if interrupted else code


def _plan(run: Run, pythons: Sequence[str]) -> None:
    only = run.options.pythons or None
    request = PlanRequest(run.rules, tuple(pythons), tuple(only) if only else None,
                          run.request.requires_python())
    run.plan = Plan(run.folder.run_id, profile=run.options.profile)
    for lane in run.lanes:
        planned = lane.plan(request)
        run.plan.cells += planned.cells
        run.plan.excluded += planned.excluded
        run.unplanned += planned.unplanned
        run.owner.update({cell.id: lane for cell in planned.cells + planned.unplanned})
    if run.options.cells:
        _refuse_unplanned(run)
        run.plan.cells = [c for c in run.plan.cells if c.id in run.options.cells]
        run.unplanned = [c for c in run.unplanned if c.id in run.options.cells]
    write_plan(run.plan, run.folder.plan)
    print(f"readiness: run {run.plan.run_id}: {len(run.plan.cells)} cell(s) planned")
    for line in run.plan.excluded:
        print(f"  left out of the plan: {line}")


def _run_cells(run: Run, board: Board, done: Set[str]) -> bool:
    """Every lane's cells through the run's cell pool (`-j` slots shared by the lanes), the longest
    first by the last run's durations. Timed checks of every lane take turns through the run's
    timing lock. Returns whether the run was interrupted; then every cell has stopped what it started."""
    before = _durations_before(run.project)
    threading.Thread(target=_load_judging, name="load-judging", daemon=True).start()
    with _services(run.rules) as redis_url:
        context = _context(run, board, {"REDIS_URL": redis_url} if redis_url else {})
        tasks = ordered([(run.owner[c.id], c) for c in run.plan.cells if c.id not in done and not c.skip_reason],
                        before)
        if run.options.jobs:
            cells = CellPool(tasks, context, run.options.jobs)
        else:
            admission = Admission.by_use()  # one cell per core, two while cells wait
            cells = CellPool(tasks, context, 2 * admission.cores, admission)
        interrupted = cells.run()
    # The cells this run did not run keep the time they took before.
    write_text(run.folder.durations, json.dumps(dict(before, **cells.took), indent=1, sort_keys=True) + "\n")
    return interrupted


def _load_judging() -> None:
    """Import what judging the run needs while its cells run (mostly waiting on them), so the
    verdict follows the last cell sooner."""
    from readiness import render  # noqa: F401
    from readiness.run import coverage  # noqa: F401


def _durations_before(project: Path) -> Dict[str, float]:
    """How long each cell took in the run that finished last; none before a first run."""
    try:
        data = read_json(RunFolder.of(project, latest(project / "reports")).durations)
    except ReadinessError:  # no run yet, or `latest` names none
        return {}
    return {cell: float(s) for cell, s in data.items() if isinstance(s, (int, float)) and not isinstance(s, bool)}


def _context(run: Run, board: Board, services: Dict[str, str]) -> RunContext:
    environ = dict(os.environ, **run.folder.child_environ(), **services)
    if run.options.cell_timeout:
        environ[CELL_TIMEOUT] = str(run.options.cell_timeout)
    if run.options.scenario:
        environ[SCENARIO] = run.options.scenario
    from readiness.run.lanes.native import budgets_environ, target_environ

    environ.update(target_environ(run.project, run.rules), **budgets_environ(run.rules))
    reuse = "-R" in sys.argv or "--reuse-existing-virtualenvs" in sys.argv  # nox does not pass -R on
    return RunContext(run.project, run.folder, run.request, suite_args(run.rules), run.options.pytest_args,
                      environ, board, timeout=run.options.cell_timeout, jobs=run.options.jobs,
                      coverage_source=tuple(run.rules.coverage.source), reuse=reuse, baseline=run.base)


def _record_missing(run: Run, interrupted: bool) -> None:
    """Every cell ends with a document: the lanes say why a cell has none, or the interrupt does."""
    for cell in run.unplanned:
        record(run.folder.document(cell.id), run.folder.run_id, cell, run.owner[cell.id].why_missing(cell, run.folder))

    def why(cell: PlannedCell) -> Missing:
        if interrupted and not cell.skip_reason:
            return _interrupted(run.folder, cell)
        return run.owner[cell.id].why_missing(cell, run.folder)

    fill_missing(run.plan, run.folder.envs, why)


def _interrupted(folder: RunFolder, cell: PlannedCell) -> Missing:
    """A cell the interrupt caught: `interrupted` if it had begun (building or running), else `not_run`."""
    progress = read_json(folder.progress(cell.id))
    if progress.get("phase") == "building":
        return Missing(CellState.INTERRUPTED, "the run was interrupted while the cell's environment was being built")
    if progress:
        return Missing(CellState.INTERRUPTED, "the run was interrupted before the cell finished")
    return Missing(CellState.NOT_RUN, "interrupted before start: the run was stopped before this cell began")


def _refuse_unplanned(run: Run) -> None:
    """`--cells` naming a cell this machine's plan does not hold: exit 2, saying why it is left out."""
    known = {c.id for c in run.plan.cells + run.unplanned}
    for cell in run.options.cells:
        if cell in known:
            continue
        why = [line for line in run.plan.excluded if fnmatch.fnmatchcase(cell, line.split(":", 1)[0])]
        planned = ", ".join(sorted(known)) or "none"
        raise UsageError(f"--cells {cell}: not in this run's plan: "
                         + (why[0] if why else f"the planned cells are {planned}"))


def finished_cells(folder: RunFolder) -> Set[str]:
    """Cells of a run whose document says complete with nothing failed: a rerun keeps them."""
    kept = set()
    for path in sorted(folder.envs.glob("*.json")):
        data = read_json(path)
        summary = data.get("summary") or {}
        if data.get("state") == "complete" and not summary.get("failed") and not summary.get("error"):
            kept.add(path.stem)
    return kept


def _take_turn(run: Run) -> runlock.HeldLock:
    """This repository to this run alone, from its first cell to its verdict: runs share the cell
    environments (.nox/) and would skew each other's timings. Another run's turn is waited for."""
    where = runlock.REPOSITORY_LOCK.parent.as_posix()
    run_id = run.folder.run_id

    def waiting(found: Dict[str, Any]) -> None:
        print(f"readiness: run {run_id} waits for {runlock.describe(found)}: runs in one repository take "
              f"turns (they share the cell environments in {where}/ and would skew each other's timings)",
              flush=True)

    def going_on() -> None:
        print(f"readiness: run {run_id}: its turn; the cells start now", flush=True)

    return runlock.hold(run.project / runlock.REPOSITORY_LOCK, run_id, waiting, going_on)


def _combine_coverage(run: Run) -> None:
    """Archive and combine the cells' coverage data before any report is written."""
    rules = run.rules
    if not rules.coverage.enabled:
        return
    from readiness.run import coverage

    summary = coverage.combine_run(run.folder.path, root=run.project, source=rules.coverage.source,
                                   target_path=rules.target.path, mixed_from=run.options.mixed_from)
    if summary is None:
        print("readiness: coverage: no cell recorded a coverage data file")
    elif summary["percent"] is None:
        print(f"readiness: coverage: {summary['note']}")
    else:
        print(f"readiness: coverage of {', '.join(rules.coverage.source)} over {len(summary['inputs'])} "
              f"data file(s): {summary['percent']:.1f}% (coverage/{coverage.COMBINED})")


def judge(folder: RunFolder, project: Path, options: ValidateOptions, interrupted: bool = False) -> int:
    """Merge the run's documents, apply the policy (against the baseline, when given), write every
    report and print the terminal one; return the verdict's exit code."""
    from readiness import render
    from readiness.judge import merge, verdict
    from readiness.run import coverage

    rules = policy.load_policy(options.config, options.profile, cwd=project)
    matrix = merge.merge_paths([relative(folder.envs)], mixed_from=options.mixed_from)
    matrix.coverage = coverage.read_summary(folder.path)
    base = None
    if options.baseline is not None:
        from readiness.judge import baseline as baselines

        base = baselines.resolve(options.baseline, root=project)
    result = verdict.decide(matrix, rules, today=verdict.today_from_environment(),
                            baseline=None if base is None else base.matrix,
                            baseline_label=None if base is None else base.label)
    result = dataclasses.replace(result, interrupted=interrupted)
    formats = list(render.FILE_FORMATS) + (["github"] if os.environ.get("GITHUB_STEP_SUMMARY") else [])
    render.write_reports(matrix, result, folder.path, formats)
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    render.write_reports(matrix, result, "-", ["terminal"], color=color)
    return int(result.exit_code)


@contextlib.contextmanager
def _services(rules: policy.Policy) -> Iterator[Optional[str]]:
    """The services the policy asks for (`services = ["redis"]`), and only those: a Redis for the run
    is REDIS_URL as given, else a throwaway server; None if none can start."""
    if "redis" not in rules.services:
        yield None
        return
    from readiness.run import services

    with contextlib.ExitStack() as stack:
        try:
            url: Optional[str] = stack.enter_context(services.redis_service())
        except Exception as exc:
            print(f"readiness: no Redis for this run ({exc}); checks that need it will not run")
            url = None
        yield url


@contextlib.contextmanager
def sigterm_is_interrupt() -> Iterator[None]:
    """While validate runs, SIGTERM (how CI cancels) stops it like Ctrl-C, so the cells are stopped too."""
    if os.name == "nt":
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
