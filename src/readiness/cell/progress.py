"""The progress file of a running cell (`READINESS_PROGRESS`): counts so far, which validate's
live board reads while the cell runs."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Dict, Optional

from readiness.cell.handoff import replace_text
from readiness.model.document import Outcome
from readiness.model.output import write_text

# At most one write a second while checks run (the board polls every half second), and one at
# the end: a fast suite must not spend its time here.
_INTERVAL_S = 1.0


class Progress:
    """A small file the live board reads while the cell runs: counts so far, updated often."""

    def __init__(self, path: Optional[str], cell_id: str) -> None:
        self.path = Path(path) if path else None
        self.cell_id = cell_id
        self.total = 0
        self.counts: Dict[str, int] = {}
        self.done = 0
        self.last_write = 0.0

    def finished(self, outcome: Optional[Outcome]) -> None:
        """Count one finished check (None: its outcome is not known yet)."""
        key = outcome.value if outcome is not None else "unknown"
        self.counts[key] = self.counts.get(key, 0) + 1
        self.done += 1
        if self.path is None:
            return
        if self.done == self.total or time.monotonic() - self.last_write >= _INTERVAL_S:
            self.write(final=False)

    def write(self, final: bool) -> None:
        if self.path is None:
            return
        self.last_write = time.monotonic()
        text = json.dumps({
            "cell": self.cell_id, "total": self.total, "done": self.done,
            "counts": self.counts, "final": final,
        })
        try:
            replace_text(self.path, text)
        except OSError:  # Windows refuses to replace a file the board has open: once more, waiting
            with contextlib.suppress(OSError):  # the board is a convenience; the document is what counts
                if final:
                    write_text(self.path, text)
