"""The live board of `nox -s validate`: one line per cell (queued, building, running n/m, done with
counts), printed when a cell's status changes, read from the run folder while the cells run."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO, Any, Dict, Optional

from readiness.model.plan import Plan, PlannedCell
from readiness.run.folder import RunFolder


class Board:
    """Prints each cell's status when it changes."""

    def __init__(self, folder: RunFolder, plan: Plan, stream: Optional[IO[str]] = None) -> None:
        self.folder = folder
        self.plan = plan
        self.stream = stream or sys.stdout
        self.shown: Dict[str, str] = {}
        self._lock = threading.Lock()  # lanes run side by side, each refreshing the board

    def status(self, cell: PlannedCell) -> str:
        doc = self.folder.document(cell.id)
        if doc.is_file():
            return "done " + _counts(doc)
        if cell.skip_reason:
            return "not run: " + cell.skip_reason
        progress = read_json(self.folder.progress(cell.id))
        if progress.get("phase") == "building":
            return "building"
        if "total" in progress:
            return f"running {progress.get('done', 0)}/{progress['total']} checks"
        return "queued"

    def refresh(self) -> None:
        with self._lock:
            for cell in self.plan.cells:
                status = self.status(cell)
                if self.shown.get(cell.id) != status:
                    self.shown[cell.id] = status
                    self.stream.write(f"  {cell.id:<34} {status}\n")
                    self.stream.flush()

    def ticking(self, every_s: float = 0.5) -> "_Ticker":
        """A context in which the board refreshes itself from a thread (for lanes that block)."""
        return _Ticker(self, every_s)


class _Ticker:
    def __init__(self, board: Board, every_s: float) -> None:
        self.board = board
        self.every_s = every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        while not self.stop.wait(self.every_s):
            self.board.refresh()

    def __enter__(self) -> "_Ticker":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(2)
        self.board.refresh()


def _counts(path: Path) -> str:
    data = read_json(path)
    summary = data.get("summary") or {}
    shown = ", ".join(f"{n} {k}" for k, n in summary.items() if n)
    return f"({data.get('state', '?')}{': ' + shown if shown else ''})"


def read_json(path: Path) -> Dict[str, Any]:
    """A small JSON object written by another process, read conservatively: unreadable is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

