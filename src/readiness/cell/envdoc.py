"""This cell's env document: where it goes, and the document itself, built from the check records
and how the session ended (`readiness.cell.sessionend`) at the end of the session."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

from readiness.cell import fingerprint, target
from readiness.cell.sessionend import SessionEnd
from readiness.model import ids
from readiness.model.document import CheckRecord, EnvDocument


class CellRun(NamedTuple):  # not a frozen dataclass: defining one costs each recording process ~2 ms
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


def build(run: CellRun, records: List[CheckRecord], end: SessionEnd, target_name: Optional[str]) -> EnvDocument:
    """The env document of this cell, its checks sorted by id."""
    state, reason = end.state(records)
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
