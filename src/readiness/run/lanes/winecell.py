"""A Wine cell's run: its Windows CPython provisioned, the install request carried out into a
target folder of Windows wheels, the suite run under Wine, and always one document (README,
"The Windows lane under Wine"); the lane itself, and its planning, are in `wine`.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Dict, List, Sequence

from readiness.model.document import CellState
from readiness.model.ids import utc_now
from readiness.model.output import write_text
from readiness.model.plan import PlannedCell
from readiness.platform import process, wine
from readiness.run import cellrun, ownwheel
from readiness.run.fallback import Missing, log_tail, record
from readiness.run.install import BuildFailed, InstallRequest, Warmth, check_install
from readiness.run.lanes.base import RunContext

INSTALL_TIMEOUT_S = 900
STAMP = ".readiness-install"
_PROVISIONING = threading.Lock()


def run_cell(cell: PlannedCell, context: RunContext) -> None:
    """Provision the cell's Windows CPython (one at a time), then install and run its suite under Wine."""
    try:
        with _PROVISIONING:  # one at a time: they share the Wine prefix and its first start
            py = wine.provision(cell.python, context.environ, progress=None)
    except wine.WineError as exc:
        cell.skip_reason = str(exc)  # a not_run document, with the reason
        return
    try:
        run_under_wine(cell, py, context)
    except wine.WineError as exc:
        _record(context, cell, Missing(CellState.CRASHED, f"the Wine cell failed to run: {exc}"))


def site_folder(context: RunContext, cell: PlannedCell) -> Path:
    return context.project / ".nox" / f"wine-{cell.python}" / "site"


def run_under_wine(cell: PlannedCell, py: wine.WinePython, context: RunContext) -> None:
    """Install, run the suite under Wine, and make sure the cell ends with a document.

    With coverage sources the suite runs under `coverage run` as in a native cell (coverage's
    Windows wheel loads its C tracer under Wine) and the document gets the cell's figures.
    """
    folder = context.folder
    doc, log = folder.document(cell.id), folder.log(cell.id)
    doc.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    folder.mark_building(cell.id)
    started = utc_now()
    try:
        install(py, site_folder(context, cell), context.install, log, ignore=(folder.reports,))
    except wine.WineError as exc:
        _record(context, cell, Missing(CellState.CRASHED, f"the cell's packages could not be installed: {exc}"))
        return
    launch_env = dict(context.environ, **folder.cell_environ(cell.id), READINESS_OUT=wine.to_windows_path(doc))
    launch_env.update(_baseline(py, cell, context, log))
    launch_env["READINESS_PROGRESS"] = wine.to_windows_path(folder.progress(cell.id))
    # The run's timing lock, as a Windows path: Wine's file locks are POSIX record locks on Linux,
    # so a timed check under Wine and one in a native cell take turns.
    launch_env["READINESS_LOCK"] = wine.to_windows_path(folder.timing_lock)
    measure = _coverage_run(context, cell)
    argv = ["-m", *measure, "pytest", *context.suite, *context.pytest_args, "-p", "no:cacheprovider"]
    cellrun.log_note(log, f"readiness: {py.executable} {' '.join(argv)}")  # what ran
    try:
        code = wine.run(py, argv,
                        wine.Launch(env=launch_env, cwd=context.project, timeout=context.timeout,
                                    pythonpath=[site_folder(context, cell)]), log_path=log)
    except wine.WineTimeout:
        _record(context, cell, Missing(CellState.TIMED_OUT, f"the cell ran past its {context.timeout:g} s timeout; "
                                       "everything it started was killed", started))
        return
    except KeyboardInterrupt:
        _record(context, cell, Missing(CellState.INTERRUPTED, "the run was interrupted before the cell finished",
                                       started))
        raise
    if not doc.is_file():
        _record(context, cell, Missing(CellState.CRASHED, f"pytest under Wine exited with code {code} without "
                                       f"writing its document; last lines of {log.name}:\n{log_tail(log)}", started))
    elif context.coverage_source:
        _record_coverage(py, cell, context, log)


def install(py: wine.WinePython, site: Path, request: InstallRequest, log: Path,
            ignore: Sequence[Path] = ()) -> None:
    """Carry out the install request into a target folder of the cell, unless it holds it already.

    A target folder keeps what it has, so one whose request changed (a requirement or extra
    added or removed, a constraints or requirements file edited) is emptied first. The local
    projects (the target, readiness) are copies here, rebuilt when their files changed, so a warm
    cell never judges yesterday's sources and an unchanged one installs nothing.
    """
    stamp = site.parent / f"{site.name}{STAMP}"
    state = check_install(stamp, request, live=False, ignore=ignore)
    if state.warmth is Warmth.CURRENT:
        cellrun.log_note(log, f"readiness: {site} already has this install")
        return
    if state.warmth is Warmth.REQUEST and site.exists():
        cellrun.log_note(log, f"readiness: the install request changed since {site} was filled; installing afresh")
        shutil.rmtree(site)
    elif state.warmth is Warmth.SOURCES:
        cellrun.log_note(log, state.rebuild_note())
    try:
        own = ownwheel.wheel(request.readiness, log, os.environ)
    except (BuildFailed, process.ProcessTimeout) as exc:  # the lane's own error, which its cell records
        raise wine.WineError(str(exc)) from None
    stamp.unlink(missing_ok=True)  # an install that stops half way leaves no stamp
    wine.install_packages(py, site, [*request.arguments(live=False, wheel=own), *state.reinstall_arguments()],
                          None, log_path=log, timeout=INSTALL_TIMEOUT_S)
    write_text(stamp, state.stamp)


def _baseline(py: wine.WinePython, cell: PlannedCell, context: RunContext, log: Path) -> Dict[str, str]:
    """--baseline-ref: the target at the ref in a target folder of its own beside the cell's; the
    same Windows interpreter runs it with that folder on PYTHONPATH instead."""
    if context.baseline is None:
        return {}
    site = site_folder(context, cell).with_name("site-baseline")
    cellrun.log_note(log, f"readiness: the baseline, {context.baseline.base.label()}, in {site}")
    try:
        install(py, site, context.baseline.request, log, ignore=(context.folder.reports,))
    except wine.WineError as exc:
        return context.baseline.failed(f"{exc} (logs/{log.name} has the whole output)")
    return context.baseline.environ(wine.to_windows_path(py.executable), pythonpath=wine.to_windows_path(site))


def _coverage_data(context: RunContext, cell: PlannedCell) -> "tuple[Path, Path]":
    return context.folder.coverage_data(cell.id), context.folder.coverage / "cell.coveragerc"


def _coverage_run(context: RunContext, cell: PlannedCell) -> List[str]:
    if not context.coverage_source:
        return []
    data, rcfile = _coverage_data(context, cell)
    data.unlink(missing_ok=True)
    write_text(rcfile, cellrun.CELL_RCFILE)
    return ["coverage", "run", f"--rcfile={wine.to_windows_path(rcfile)}",
            f"--data-file={wine.to_windows_path(data)}", f"--source={','.join(context.coverage_source)}", "-m"]


def _record_coverage(py: wine.WinePython, cell: PlannedCell, context: RunContext, log: Path) -> None:
    data, rcfile = _coverage_data(context, cell)
    summary = None
    if data.is_file():
        argv = ["-m", "coverage", *cellrun.coverage_json_args(wine.to_windows_path(data), wine.to_windows_path(rcfile))]
        # coverage json reads the measured sources; relative file names need the cell's folder.
        _code, out = wine.capture(py, argv, wine.Launch(pythonpath=[site_folder(context, cell)], timeout=300, raw=True,
                                                        cwd=context.project))
        reports = [line for line in out.splitlines() if line.startswith("{")]  # Wine may add noise
        summary = cellrun.coverage_totals(reports[-1]) if reports else None
    if summary is not None:
        summary.update(data_file=f"coverage/{data.name}", source=list(context.coverage_source))
    cellrun.set_document_coverage(context.folder.document(cell.id), summary, log)


def _record(context: RunContext, cell: PlannedCell, missing: Missing) -> None:
    record(context.folder.document(cell.id), context.folder.run_id, cell, missing)
