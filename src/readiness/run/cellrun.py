"""The wrapper a cell's check suite runs under: it guarantees the cell ends with a document.

`python -m readiness.run.cellrun --out ENVS --log-dir LOGS [--timeout S] -- PYTEST_ARGS...` runs pytest in
its own process group, copies its output into the cell's log through a pipe, and when pytest
dies without writing the env document (a crash, `os.abort()`, a hang past the timeout, an
interrupt) writes one itself, in the state that explains why, with the tail of the log.

With `--coverage-data FILE --coverage-source PKG` pytest runs under `coverage run` (relative
file names, so cells from other machines combine) and the document's `coverage` field gets the
cell's figures. `{cell}` in FILE becomes the cell id.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from readiness.cell import fingerprint
from readiness.cell.redact import Redactor
from readiness.model import ids, reader
from readiness.model.document import CellState
from readiness.model.errors import DocumentError
from readiness.model.output import write_text
from readiness.platform import process
from readiness.run import fallback
from readiness.run.fallback import Missing

LOG_TAIL_LINES = 40
INTERRUPT_GRACE_S = 5.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m readiness.run.cellrun", description=__doc__)
    parser.add_argument("--out", required=True, help="the run's envs/ folder")
    parser.add_argument("--log-dir", required=True, help="the run's logs/ folder: <cell>.log goes there")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before the cell is killed")
    parser.add_argument("--coverage-data", default=None,
                        help="run pytest under coverage, its data in this file ({cell}: the cell id)")
    parser.add_argument("--coverage-source", action="append", default=[],
                        help="a package to measure (repeatable; needs --coverage-data)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    return parser


def cell_document_path(out: Path) -> Path:
    return ids.cell_file(out, ids.cell_id(fingerprint.fingerprint()), ".json")


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class CellCommand(NamedTuple):
    """One cell's pytest run: which interpreter, where its document and log go, how it is bounded."""

    python: str  # the interpreter of the cell's environment
    document: Path
    log: Path
    pytest_args: Tuple[str, ...]
    run_id: str
    timeout: Optional[float] = None
    coverage_data: Optional[Path] = None  # run under `coverage run`, its data in this file
    coverage_source: Tuple[str, ...] = ()
    environ: Optional[Mapping[str, str]] = None  # None: this process's
    echo: bool = False  # also copy pytest's output to this process's stdout


def run_cell(command: CellCommand, fallback_print: Callable[[], Mapping[str, Any]]) -> int:
    """Run the cell's pytest; if it wrote no document, write one whose state says why (its
    fingerprint from `fallback_print`). Returns pytest's exit code (124 timeout, 130 interrupt)."""
    command.document.unlink(missing_ok=True)  # a rerun into the same run id replaces this cell's result
    command.log.parent.mkdir(parents=True, exist_ok=True)
    started_at, started = ids.utc_now(), time.monotonic()
    coverage = _coverage_run(command)
    argv = [command.python, "-m", *coverage, "pytest", *command.pytest_args, "--readiness-out", str(command.document)]
    log_note(command.log, "readiness: " + " ".join(argv))  # what ran
    state, code = _run(argv, command)
    if not command.document.is_file():
        if state is CellState.COMPLETE:
            state = CellState.CRASHED
        fallback.write(command.document, command.run_id, fallback_print(),
                       Missing(state, _why(state, code, command.log), started_at, time.monotonic() - started))
    elif coverage:
        _record_coverage(command)
    return code


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    pytest_args = [a for a in args.pytest_args if a != "--"] if args.pytest_args[:1] == ["--"] else args.pytest_args
    document = cell_document_path(Path(args.out))
    if args.coverage_data and not args.coverage_source:
        raise SystemExit("cellrun: --coverage-data needs at least one --coverage-source PKG")
    command = CellCommand(
        python=sys.executable, document=document, log=ids.cell_file(args.log_dir, document.stem, ".log"),
        pytest_args=tuple(pytest_args), run_id=fingerprint.run_id(), timeout=args.timeout,
        coverage_data=coverage_data_path(args.coverage_data, document.stem) if args.coverage_data else None,
        coverage_source=tuple(args.coverage_source), echo=True,
    )
    return run_cell(command, fingerprint.fingerprint)


# --- coverage of the target ----------------------------------------------------------------

# The cell's own coverage settings, so the project's [tool.coverage] (say, `branch` or
# `parallel`) cannot change what a cell records or where.
CELL_RCFILE = "[run]\nrelative_files = True\nbranch = False\nparallel = False\n"


def coverage_data_path(template: str, cell: str) -> Path:
    return Path(template.replace("{cell}", ids.check_cell_id(cell)))


def _coverage_run(command: CellCommand) -> List[str]:
    """`coverage run ... -m` for the pytest command line, or nothing when coverage is off."""
    data = command.coverage_data
    if data is None:
        return []
    data.unlink(missing_ok=True)  # a rerun measures afresh
    rcfile = data.parent / "cell.coveragerc"
    write_text(rcfile, CELL_RCFILE)
    return ["coverage", "run", f"--rcfile={rcfile}", f"--data-file={data}",
            f"--source={','.join(command.coverage_source)}", "-m"]


def _record_coverage(command: CellCommand) -> None:
    """Fill the document's `coverage` field from the cell's data file (null when there is none)."""
    data = command.coverage_data
    assert data is not None
    summary = None
    if data.is_file():
        argv = [command.python, "-m", "coverage", *coverage_json_args(data, data.parent / "cell.coveragerc")]
        report, shown = process.Capture(raw=True), process.Capture()  # parsed unredacted, logged redacted
        process.run(argv, process.Options(env=command.environ), [report, shown])
        summary = coverage_totals(_last_json_line(report.text()))
        if summary is None:
            log_note(command.log, "readiness: `coverage json` failed; coverage not recorded:\n" + shown.text()[-2000:])
    if summary is not None:
        summary.update(data_file=_relative_to_run(data, command.document.parent.parent),
                       source=list(command.coverage_source))
    set_document_coverage(command.document, summary, command.log)


def coverage_json_args(data: "Path | str", rcfile: "Path | str") -> List[str]:
    """`coverage` arguments printing one data file's JSON report (errors in sources ignored)."""
    return ["json", f"--rcfile={rcfile}", f"--data-file={data}", "-i", "-q", "-o", "-"]


def _last_json_line(output: str) -> str:
    """The report among what `coverage json` printed (a warning shares its pipe)."""
    return next((line for line in reversed(output.splitlines()) if line.startswith("{")), "")


def coverage_totals(report: str) -> Optional[Dict[str, Any]]:
    """percent, covered_lines and num_statements from a `coverage json` report; None if unreadable."""
    try:
        totals = json.loads(report)["totals"]
        return {"percent": round(float(totals["percent_covered"]), 2),
                "covered_lines": int(totals["covered_lines"]), "num_statements": int(totals["num_statements"])}
    except (ValueError, KeyError, TypeError):
        return None


def set_document_coverage(doc_path: Path, coverage: Optional[Dict[str, Any]], log: Path) -> None:
    """Write `coverage` into the document pytest wrote, atomically, keeping everything else as is."""
    try:
        raw = reader.read_json(doc_path)
        reader.validate(str(doc_path), raw, reader.ENV_KIND)
    except DocumentError as exc:
        log_note(log, f"readiness: coverage not recorded, the document is unreadable: {exc}")
        return
    raw["coverage"] = coverage
    write_text(doc_path, json.dumps(raw, ensure_ascii=False, allow_nan=False) + "\n")


def log_note(log: Path, text: str) -> None:
    """A line of readiness's own in a cell's log, redacted (a requirement or an argument may hold a credential)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        sink.write(f"{Redactor.from_environment().text(text)}\n".encode())


def _relative_to_run(path: Path, run_dir: Path) -> str:
    try:
        return path.resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _run(argv: List[str], command: CellCommand) -> "tuple[CellState, int]":
    # Redacted on the way: what a check prints outside pytest's capture (an atexit handler,
    # the warnings summary, `-s`) reaches the log (and the console, when echoed) as well.
    # On an interrupt pytest gets SIGINT and a moment to write its document with what it saw.
    # What the cell leaves running when pytest ends (a server a check forgot) is killed with it.
    options = process.Options(env=command.environ, timeout=command.timeout, interrupt_grace=INTERRUPT_GRACE_S,
                              kill_leftovers=True)
    with command.log.open("ab") as sink:
        sinks = [process.file_sink(sink)] + ([process.file_sink(sys.stdout.buffer)] if command.echo else [])
        try:
            code = process.run(argv, options, sinks)
        except process.ProcessTimeout:
            _note(sink, f"readiness: the cell ran past its {command.timeout:g} s timeout and was killed")
            return CellState.TIMED_OUT, 124
        except KeyboardInterrupt:
            return CellState.INTERRUPTED, 130
    if code == 2:  # an interrupt, or pytest ending the session itself (collection errors, pytest.exit())
        return (CellState.INTERRUPTED, 130) if _interrupted_in_log(command.log) else (CellState.COMPLETE, code)
    return (CellState.COMPLETE if code in (0, 1) else CellState.CRASHED), code


def _note(sink: IO[bytes], text: str) -> None:
    sink.write(f"\n{text}\n".encode())
    sink.flush()


def _interrupted_in_log(log: Path) -> bool:
    # pytest's "KeyboardInterrupt" banner, or xdist's "<worker> received keyboard-interrupt".
    tail = process.tail(log, 20)
    return "KeyboardInterrupt" in tail or "keyboard-interrupt" in tail


def _why(state: CellState, code: int, log: Path) -> str:
    why = {
        CellState.CRASHED: f"pytest exited with code {code}{_signal_name(code)} without writing its document",
        CellState.TIMED_OUT: "the cell ran past its timeout; its process group was killed",
        CellState.INTERRUPTED: "the run was interrupted before the cell finished",
    }[state]
    return f"{why}; last lines of {log.name}:\n{process.tail(log, LOG_TAIL_LINES)}"


def _signal_name(code: int) -> str:
    if code < 0:
        try:
            return f" (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f" (signal {-code})"
    return ""


if __name__ == "__main__":
    sys.exit(main())
