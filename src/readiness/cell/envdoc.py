"""This cell's env document: where it goes, the state the run ended in, and the document itself
built from the check records at the end of the session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from readiness.cell import fingerprint, target
from readiness.model import ids
from readiness.model.document import CellState, CheckRecord, EnvDocument, Outcome


@dataclass(frozen=True)
class CellRun:
    """This cell and when its run began: what the document says besides the checks."""

    fingerprint: Dict[str, Any]
    cell_id: str
    run_id: str
    started_at: str
    started: float  # time.monotonic() at the start, for the duration

    @classmethod
    def start(cls) -> CellRun:
        found = fingerprint.fingerprint()
        return cls(found, ids.cell_id(found), fingerprint.run_id(), ids.utc_now(), time.monotonic())

    @property
    def os(self) -> str:
        """The platform a check's `platforms=` is matched against: a Wine cell is Windows."""
        return "windows" if self.fingerprint["lane"] == "wine" else str(self.fingerprint["os"])


def document_path(base: Path, out: str, cell_id: str) -> Path:
    """`out` (relative to `base`) as given when it ends in .json, else `<out>/<cell>.json`."""
    path = Path(out)
    if not path.is_absolute():
        path = base / path
    return path if path.suffix == ".json" else ids.cell_file(path, cell_id, ".json")


@dataclass(frozen=True)
class SessionEnd:
    """How the pytest session ended, as far as the document's state is concerned."""

    exitstatus: int
    interrupted: bool = False
    collection_errors: int = 0


def cell_state(end: SessionEnd, records: List[CheckRecord]) -> Tuple[CellState, Optional[str]]:
    """`complete`, or why the evidence of this cell is short, and by how much."""
    unrun = sum(1 for r in records if r.attempts == 0 and r.outcome is Outcome.SKIPPED)
    if end.interrupted:
        return CellState.INTERRUPTED, f"interrupted (Ctrl-C); {unrun} check(s) did not run"
    if end.exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return CellState.CRASHED, "pytest stopped with an internal error"
    if end.exitstatus == pytest.ExitCode.USAGE_ERROR:
        return CellState.CRASHED, "pytest could not run the suite (usage error, exit 4): see the cell's log"
    if end.collection_errors:
        return CellState.INTERRUPTED, f"{end.collection_errors} module(s) failed to collect"
    if unrun:
        return CellState.INTERRUPTED, f"the session stopped early; {unrun} check(s) did not run"
    return CellState.COMPLETE, None


def build(run: CellRun, records: List[CheckRecord], end: SessionEnd, target_name: Optional[str]) -> EnvDocument:
    """The env document of this cell, its checks sorted by id."""
    state, reason = cell_state(end, records)
    return EnvDocument(
        run_id=run.run_id,
        cell_id=run.cell_id,
        fingerprint=run.fingerprint,
        state=state,
        reason=reason,
        started_at=run.started_at,
        finished_at=ids.utc_now(),
        duration_s=round(time.monotonic() - run.started, 3),
        target=target.describe(target_name),
        installed=target.installed_packages(),
        collected=sorted(record.id for record in records),
        checks=sorted(records, key=lambda record: record.id),
    )
