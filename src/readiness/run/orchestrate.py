"""What `nox -s validate` does around the cells: plan, services, the child nox, the board, the verdict.

Every step is a function over the run folder (`reports/runs/<run_id>/`), so a run can be
inspected, re-merged or re-judged afterwards with the `readiness` command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from readiness.cell import fingerprint
from readiness.model import document, ids
from readiness.model.document import CellState, EnvDocument
from readiness.model.output import write_text

PLAN_KIND = "readiness/plan"
MIN_PYTHON = (3, 9)


@dataclass
class PlannedCell:
    id: str
    python: str
    interpreter: Optional[str]
    lane: str = "native"
    skip_reason: Optional[str] = None  # planned but cannot run: becomes a not_run document

    def __post_init__(self) -> None:
        ids.check_cell_id(self.id)  # it names envs/<id>.json, logs/<id>.log, ...


@dataclass
class Plan:
    run_id: str
    cells: List[PlannedCell]
    excluded: List[str] = field(default_factory=list)  # "3.8: target requires >=3.9", shown

    def to_dict(self) -> Dict[str, Any]:
        from readiness import __version__

        return {
            "kind": PLAN_KIND, "schema": 1, "tool_version": __version__, "run_id": self.run_id,
            "created_at": ids.utc_now(), "profile": None,
            "cells": [
                {"id": c.id, "python": c.python, "interpreter": c.interpreter, "lane": c.lane}
                for c in self.cells
            ],
        }


def host_cell(python: str, lane: str = "native") -> str:
    """The cell id a Python X.Y gets on this machine, before its interpreter is asked."""
    print_ = fingerprint.fingerprint({})
    os_name = "windows" if lane == "wine" else print_["os"]
    return ids.cell_id(dict(print_, os=os_name, lane=lane, python_version=python,
                                    implementation="cpython", free_threaded=False))


def supports(requires_python: Optional[str], python: str) -> bool:
    """Whether X.Y satisfies a `requires-python` specifier (None: everything does)."""
    if not requires_python:
        return True
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(requires_python).contains(f"{python}.0", prereleases=True) or SpecifierSet(
        requires_python
    ).contains(f"{python}.99", prereleases=True)


def make_plan(run_id: str, found: Mapping[str, Optional[str]], wanted: Sequence[str],
              requires_python: Optional[str]) -> Plan:
    """Cells for every wanted Python: found ones run, missing ones are planned as not_run."""
    plan = Plan(run_id, [])
    for python in sorted(set(wanted) | set(found), key=_version_key):
        if _version_key(python) < MIN_PYTHON:
            continue
        if not supports(requires_python, python):
            plan.excluded.append(f"{python}: the target requires Python {requires_python}")
            continue
        interpreter = found.get(python)
        reason = None if interpreter else f"Python {python} is not installed on this machine"
        plan.cells.append(PlannedCell(host_cell(python), python, interpreter, skip_reason=reason))
    return plan


def _version_key(python: str) -> "tuple[int, ...]":
    return tuple(int(part) for part in python.rstrip("t").split(".")[:2])


def write_plan(run_dir: Path, plan: Plan) -> Path:
    path = run_dir / "plan.json"
    write_text(path, json.dumps(plan.to_dict(), indent=1) + "\n")
    return path


def placeholder(run_id: str, cell: PlannedCell, state: CellState, reason: str) -> EnvDocument:
    """The document of a cell that produced none: what happened instead, never a pass."""
    print_ = dict(fingerprint.fingerprint({}), python_version=cell.python, executable=cell.interpreter or "",
                       implementation="cpython", free_threaded=False, lane=cell.lane)
    if cell.lane == "wine":
        print_["os"] = "windows"
    now = ids.utc_now()
    from readiness.cell.redact import Redactor

    # A reason may quote a tool's output (uv's error, a log tail) that named a credential.
    return EnvDocument(run_id=run_id, cell_id=cell.id, fingerprint=print_, state=state,
                       reason=Redactor.from_environment().text(reason), started_at=now, finished_at=now)


def finished_cells(run_dir: Path) -> "set[str]":
    """Cells of a run whose document says complete with nothing failed: a rerun keeps them."""
    kept = set()
    for path in sorted((run_dir / "envs").glob("*.json")):
        data = _read_json(path)
        summary = data.get("summary") or {}
        if data.get("state") == "complete" and not summary.get("failed") and not summary.get("error"):
            kept.add(path.stem)
    return kept


def clear_cells(run_dir: Path, cells: Sequence[str]) -> None:
    """Remove the documents of cells about to run again, so none of them survives stale."""
    for cell in cells:
        ids.cell_file(run_dir / "envs", cell, ".json").unlink(missing_ok=True)


def fill_missing(run_dir: Path, plan: Plan, session_results: Mapping[str, str]) -> List[str]:
    """Write a document for every planned cell that has none; return the cells written."""
    written = []
    for cell in plan.cells:
        path = ids.cell_file(run_dir / "envs", cell.id, ".json")
        if path.is_file():
            continue
        state, reason = _why_missing(run_dir, cell, session_results.get(cell.python))
        document.dump(placeholder(plan.run_id, cell, state, reason), path)
        written.append(cell.id)
    return written


def _why_missing(run_dir: Path, cell: PlannedCell, result: Optional[str]) -> "tuple[CellState, str]":
    if cell.skip_reason:
        return CellState.NOT_RUN, cell.skip_reason
    if result == "skipped":
        return CellState.NOT_RUN, f"nox skipped the cell: the interpreter for Python {cell.python} was not found"
    if result is None:
        return CellState.NOT_RUN, "the cell never started (the run stopped before it)"
    tail = _tail(run_dir / "logs" / "nox.log", 30)
    return CellState.CRASHED, f"the cell's environment could not be built (nox: {result}); last lines of logs/nox.log:\n{tail}"


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_bytes()[-65536:].decode("utf-8", errors="replace")
    except OSError:
        return ""
    from readiness.cell.redact import Redactor

    return Redactor.from_environment().text("\n".join(text.splitlines()[-lines:]))


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


# --- the child nox and the board ------------------------------------------------------


def run_child(argv: Sequence[str], env: Mapping[str, str], log: Path, board: Board) -> int:
    """Run the child nox with its output in `log` (redacted), showing the board until it ends."""
    import threading

    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, **_new_group())
    copier = threading.Thread(target=_copy_redacted, args=(process.stdout, log, env), daemon=True)
    copier.start()
    try:
        while process.poll() is None:
            board.refresh()
            time.sleep(0.5)
    except KeyboardInterrupt:
        _stop(process)
        copier.join(5)
        raise
    copier.join(10)  # a process the cells left behind may hold the pipe: the log is kept anyway
    board.refresh()
    return process.returncode


def _copy_redacted(stream: Any, log: Path, env: Mapping[str, str]) -> None:
    """Copy the child's output into `log` as it arrives, with every secret it knows of masked."""
    from readiness.cell.redact import Redactor, StreamRedactor

    scrub = StreamRedactor(Redactor.from_environment(env))
    with log.open("ab") as sink:
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.write(scrub.feed(chunk))
            sink.flush()
        sink.write(scrub.flush())
    stream.close()


def _new_group() -> Dict[str, Any]:
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


def _stop(process: "subprocess.Popen[bytes]") -> None:
    """Interrupt the child nox and its cells; kill what is left after a grace period."""
    if os.name == "nt":
        process.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    else:
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        if os.name == "nt":
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True, check=False)
        else:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class Board:
    """One line per cell: queued, building, running n/m, done with counts. Prints on change."""

    def __init__(self, run_dir: Path, plan: Plan, stream: Any = None) -> None:
        self.run_dir = run_dir
        self.plan = plan
        self.stream = stream or sys.stdout
        self.shown: Dict[str, str] = {}

    def status(self, cell: PlannedCell) -> str:
        doc = self.run_dir / "envs" / f"{cell.id}.json"
        if doc.is_file():
            return "done " + _counts(doc)
        if cell.skip_reason:
            return "not run: " + cell.skip_reason
        key = f"{cell.python}-wine" if cell.lane == "wine" else cell.python
        progress = _read_json(self.run_dir / "progress" / f"{key}.json")
        if progress.get("phase") == "building":
            return "building"
        if "total" in progress:
            return f"running {progress.get('done', 0)}/{progress['total']} checks"
        return "queued"

    def refresh(self) -> None:
        for cell in self.plan.cells:
            status = self.status(cell)
            if self.shown.get(cell.id) != status:
                self.shown[cell.id] = status
                self.stream.write(f"  {cell.id:<34} {status}\n")
                self.stream.flush()


def _counts(path: Path) -> str:
    data = _read_json(path)
    summary = data.get("summary") or {}
    shown = ", ".join(f"{n} {k}" for k, n in summary.items() if n)
    return f"({data.get('state', '?')}{': ' + shown if shown else ''})"


def _read_json(path: Path) -> Dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --- judging --------------------------------------------------------------------------


def judge(run_dir: Path, *, mixed_from: Sequence[str], config: Optional[str], profile: Optional[str],
          root: Path, color: bool, baseline: Optional[str] = None) -> int:
    """Merge the run's documents, apply the policy (against `baseline`, a saved name or a path,
    when given), write every report; return the exit code."""
    from readiness import render
    from readiness.judge import baseline as baselines
    from readiness.judge import merge, policy, verdict
    from readiness.run import coverage as coverage_merge

    rules = policy.load_policy(config, profile, cwd=root)
    matrix = merge.merge_paths([_shown(run_dir / "envs")], mixed_from=mixed_from)
    matrix.coverage = coverage_merge.read_summary(run_dir)
    base = None if baseline is None else baselines.resolve(baseline, root=root)
    result = verdict.decide(matrix, rules, today=verdict.today_from_environment(),
                            baseline=None if base is None else base.matrix,
                            baseline_label=None if base is None else base.label)
    formats = list(render.FILE_FORMATS) + (["github"] if os.environ.get("GITHUB_STEP_SUMMARY") else [])
    render.write_reports(matrix, result, run_dir, formats)
    render.write_reports(matrix, result, "-", ["terminal"], color=color)
    return int(result.exit_code)


def _shown(path: Path) -> str:
    """`path` relative to the working folder when inside it, so the matrix names no home folder
    and the same run judged in another checkout gives the same files."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def mark_latest(reports: Path, run_id: str) -> None:
    """`reports/latest` names this run, replaced in one step (readers see the old or the new id)."""
    write_text(reports / "latest", run_id + "\n")
