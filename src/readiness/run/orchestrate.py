"""The native lane's child nox: run `nox -j N -s checks-X.Y ...` with its output in the run's
log, show the board while it runs, and read nox's own report of its sessions conservatively."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Mapping, Sequence

from readiness.platform import process
from readiness.run.board import Board


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
    """Run the child nox with its output in `log` (redacted), showing the board until it ends.

    On Ctrl-C the child and its cells are interrupted first, and killed after a grace period.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    options = process.Options(env=env, interrupt_grace=5.0)
    with log.open("ab") as sink:
        code = process.start(argv, options, [process.file_sink(sink)]).wait(tick=board.refresh)
    board.refresh()
    return code
