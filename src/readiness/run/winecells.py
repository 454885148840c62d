"""The Wine lane inside `nox -s validate`: plan `windows-x86_64-wine-cpython3.X` cells and run them.

Nothing on Linux builds a Windows venv, so a Wine cell is not a nox session: its packages are
installed from Linux into a target folder (Windows wheels) and the Windows interpreter runs the
same check suite with that folder on PYTHONPATH, every launch through pipes.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Optional, Sequence

from readiness.cell import target
from readiness.model import document, ids
from readiness.model.document import CellState
from readiness.model.output import write_text
from readiness.platform import wine
from readiness.run import cellrun, orchestrate

DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")


def plan_cells(pythons: Sequence[str], environ: Mapping[str, str]) -> "tuple[List[orchestrate.PlannedCell], List[orchestrate.PlannedCell]]":
    """(planned, unplanned): cells where wine runs, and cells recorded as not_run where it does not."""
    unavailable = wine.wine_available(environ)
    cells = [
        orchestrate.PlannedCell(f"windows-x86_64-wine-cpython{p}", p, None, lane="wine",
                                skip_reason=unavailable)
        for p in pythons
    ]
    return ([], cells) if unavailable else (cells, [])


def provision(cell: orchestrate.PlannedCell, environ: Mapping[str, str]) -> Optional[wine.WinePython]:
    """The cell's Windows interpreter, set up on first use; None (and skip_reason set) if it fails."""
    try:
        return wine.provision(cell.python, environ, progress=None)
    except wine.WineError as exc:
        cell.skip_reason = str(exc)
        return None


def run_cell(cell: orchestrate.PlannedCell, py: wine.WinePython, *, root: Path, run_dir: Path,
             requirements: Sequence[str], constraints: Optional[str], suite: Sequence[str],
             env: Mapping[str, str], timeout: Optional[float], coverage_source: Sequence[str] = ()) -> None:
    """Install, run the suite under Wine, and make sure the cell ends with a document.

    With `coverage_source` the suite runs under `coverage run` as in a native cell (coverage's
    Windows wheel loads its C tracer under Wine) and the document gets the cell's figures.
    """
    doc = ids.cell_file(run_dir / "envs", cell.id, ".json")
    log = ids.cell_file(run_dir / "logs", cell.id, ".log")
    progress = run_dir / "progress" / f"{cell.python}-wine.json"
    doc.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    write_text(progress, '{"phase": "building"}')
    site = root / ".nox" / f"wine-{cell.python}" / "site"
    started = ids.utc_now()
    try:
        wine.install_packages(py, site, [*requirements, *(["coverage>=7.10"] if coverage_source else []),
                                         "--reinstall-package", "readiness",
                                         *_reinstall_target(requirements)],
                              constraints, log_path=log, timeout=900)
    except wine.WineError as exc:
        _fallback(run_dir, cell, CellState.CRASHED, f"the cell's packages could not be installed: {exc}")
        return
    launch_env = dict(env, READINESS_OUT=wine.to_windows_path(doc),
                      READINESS_PROGRESS=wine.to_windows_path(progress), READINESS_RUNNER="nox")
    launch_env.pop("READINESS_LOCK", None)  # a Linux lock file means nothing under Wine
    try:
        measure = _coverage_run(run_dir, cell, coverage_source)
        code = wine.run(py, ["-m", *measure, "pytest", *suite, "-p", "no:cacheprovider"], env=launch_env,
                        cwd=root, timeout=timeout, log_path=log, pythonpath=[site])
    except wine.WineTimeout:
        _fallback(run_dir, cell, CellState.TIMED_OUT,
                  f"the cell ran past its {timeout:g} s timeout; everything it started was killed")
        return
    except KeyboardInterrupt:
        _fallback(run_dir, cell, CellState.INTERRUPTED, "the run was interrupted before the cell finished")
        raise
    if not doc.is_file():
        _fallback(run_dir, cell, CellState.CRASHED,
                  f"pytest under Wine exited with code {code} without writing its document; "
                  f"last lines of {log.name}:\n{orchestrate._tail(log, 40)}", started)
    elif coverage_source:
        _record_coverage(py, run_dir, cell, coverage_source, root=root, log=log, pythonpath=[site])


def _coverage_data(run_dir: Path, cell: orchestrate.PlannedCell) -> "tuple[Path, Path]":
    return ids.cell_file(run_dir / "coverage", cell.id, ".coverage"), run_dir / "coverage" / "cell.coveragerc"


def _coverage_run(run_dir: Path, cell: orchestrate.PlannedCell, source: Sequence[str]) -> List[str]:
    if not source:
        return []
    data, rcfile = _coverage_data(run_dir, cell)
    data.unlink(missing_ok=True)
    write_text(rcfile, cellrun.CELL_RCFILE)
    return ["coverage", "run", f"--rcfile={wine.to_windows_path(rcfile)}",
            f"--data-file={wine.to_windows_path(data)}", f"--source={','.join(source)}", "-m"]


def _record_coverage(py: wine.WinePython, run_dir: Path, cell: orchestrate.PlannedCell, source: Sequence[str],
                     *, root: Path, log: Path, pythonpath: Sequence[Path]) -> None:
    data, rcfile = _coverage_data(run_dir, cell)
    summary = None
    if data.is_file():
        argv = ["-m", "coverage", *cellrun.coverage_json_args(wine.to_windows_path(data), wine.to_windows_path(rcfile))]
        # coverage json reads the measured sources; relative file names need the cell's folder.
        _code, out = wine.capture(py, argv, pythonpath=pythonpath, timeout=300, cwd=root)
        reports = [line for line in out.splitlines() if line.startswith("{")]  # Wine may add noise
        summary = cellrun.coverage_totals(reports[-1]) if reports else None
    if summary is not None:
        summary.update(data_file=f"coverage/{data.name}", source=list(source))
    cellrun.set_document_coverage(ids.cell_file(run_dir / "envs", cell.id, ".json"), summary, log)


def _reinstall_target(requirements: Sequence[str]) -> List[str]:
    # A target folder keeps what it has: force the project's own packages to be rebuilt, so a
    # warm cell never judges yesterday's sources.
    names = []
    for requirement in requirements:
        pyproject = Path(requirement.split("[", 1)[0]) / "pyproject.toml"
        if pyproject.is_file():
            name = target.project_table(pyproject).get("name")
            if name:
                names += ["--reinstall-package", str(name)]
    return names


def _fallback(run_dir: Path, cell: orchestrate.PlannedCell, state: CellState, reason: str,
              started: Optional[str] = None) -> None:
    placeholder = orchestrate.placeholder(run_dir.name, cell, state, reason[:20000])
    if started:
        placeholder.started_at = started
    document.dump(placeholder, ids.cell_file(run_dir / "envs", cell.id, ".json"))


def record_crash(run_dir: Path, cell: orchestrate.PlannedCell, reason: str) -> None:
    _fallback(run_dir, cell, CellState.CRASHED, reason)


def record_unavailable(run_dir: Path, run_id: str, cells: Sequence[orchestrate.PlannedCell]) -> None:
    """Cells of a lane that cannot run here: not_run documents naming the command that enables it."""
    for cell in cells:
        document.dump(orchestrate.placeholder(run_id, cell, CellState.NOT_RUN, cell.skip_reason or "not run"),
                      ids.cell_file(run_dir / "envs", cell.id, ".json"))


def target_requirements(root: Path, path: Optional[str], extras: Sequence[str], readiness_source: Sequence[str]) -> List[str]:
    """What a Wine cell installs: the target (not editable: it is copied into the target folder)."""
    spec: List[str] = []
    if path:
        extra = f"[{','.join(extras)}]" if extras else ""
        spec.append(f"{(root / path).as_posix()}{extra}")
    return spec + list(readiness_source)
