"""The one writer of env documents for cells that wrote none: `crashed`, `timed_out`, `interrupted`,
`not_run`, each with the reason, never a pass (README, "What readiness guarantees")."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional

from readiness.cell import fingerprint
from readiness.cell.redact import Redactor
from readiness.model import document
from readiness.model.document import CellState, EnvDocument
from readiness.model.ids import CellId, utc_now
from readiness.model.plan import Plan, PlannedCell
from readiness.platform import process

REASON_LIMIT = 20000
LOG_TAIL_LINES = 40


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class Missing(NamedTuple):
    """Why a cell has no document of its own, and when it started, if it did."""

    state: CellState
    reason: str
    started_at: Optional[str] = None
    duration_s: Optional[float] = None


def write(path: Path, run_id: str, print_: Mapping[str, Any], missing: Missing) -> Path:
    """Write the document of the cell `print_` describes; the reason is redacted (it may quote a
    tool's output or a log tail that named a credential) and bounded."""
    now = utc_now()
    doc = EnvDocument(
        run_id=run_id, cell_id=str(CellId.of(print_)), fingerprint=dict(print_), state=missing.state,
        reason=Redactor.from_environment().text(missing.reason)[:REASON_LIMIT],
        started_at=missing.started_at or now, finished_at=now,
        duration_s=0.0 if missing.duration_s is None else round(missing.duration_s, 3),
    )
    document.dump(doc, path)
    return path


def planned_fingerprint(cell: PlannedCell) -> Dict[str, Any]:
    """What is known of a cell that never reported: this host, and the cell's own OS, lane and Python."""
    parts = cell.parts
    return dict(fingerprint.fingerprint({}), os=parts.os, arch=parts.arch, python_version=cell.python,
                executable=cell.interpreter or "", implementation=parts.implementation,
                free_threaded=parts.free_threaded, lane=cell.lane)


def record(path: Path, run_id: str, cell: PlannedCell, missing: Missing) -> Path:
    """The document of a planned cell that produced none."""
    return write(path, run_id, planned_fingerprint(cell), missing)


def fill_missing(plan: Plan, envs: Path, why: Callable[[PlannedCell], Missing]) -> List[str]:
    """Write a document for every planned cell that has none; return the cells written."""
    written = []
    for cell in plan.cells:
        path = envs / f"{cell.id}.json"
        if not path.is_file():
            record(path, plan.run_id, cell, why(cell))
            written.append(cell.id)
    return written


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log (redacted), for a document's reason."""
    return process.tail(log, lines)
