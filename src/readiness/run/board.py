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
        shown = self.shown.get(cell.id, "")
        if shown.startswith("done "):  # a cell's document is final: read once, not at every refresh
            return shown
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

