"""The scope of a verdict: the platforms and Pythons it covers and the evidence it rests on, counted
(cells required, planned, present, run and missing; checks and results run and collected)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter
from typing import Any, Dict, List, Optional, Tuple

from readiness.judge.context import RAN
from readiness.judge.matrix import Matrix
from readiness.model.document import CellState, EnvDocument
from readiness.model.errors import UsageError
from readiness.model.ids import CellId, cell_sort_key


@dataclass(frozen=True)
class Scope:
    """What the verdict covers: the evidence it rests on, counted."""

    platforms: Tuple[str, ...]
    pythons: Tuple[str, ...]
    cells_required: Tuple[str, ...]
    cells_planned: Optional[Tuple[str, ...]]
    cells_present: Tuple[str, ...]
    cells_run: Tuple[str, ...]
    cells_missing: Tuple[str, ...]
    required_basis: str
    checks_run: int
    checks_collected: int
    results_run: int
    results_collected: int

    def to_dict(self) -> Dict[str, Any]:
        return {
            "platforms": list(self.platforms), "pythons": list(self.pythons),
            "cells_required": list(self.cells_required),
            "cells_planned": None if self.cells_planned is None else list(self.cells_planned),
            "cells_present": list(self.cells_present), "cells_run": list(self.cells_run),
            "cells_missing": list(self.cells_missing), "required_basis": self.required_basis,
            "checks_run": self.checks_run, "checks_collected": self.checks_collected,
            "results_run": self.results_run, "results_collected": self.results_collected,
        }


def scope_of(matrix: Matrix, required: List[str], basis: str) -> Scope:
    """What a verdict on `matrix` covers, with `required` cells chosen as `basis` says."""
    docs = list(matrix.documents.values())
    collected = {c for doc in docs for c in doc.collected} | set(matrix.rows)
    results_collected = sum(len({*doc.collected, *map(_ID, doc.checks)}) for doc in docs)
    # The ids of the checks that ran, cell by cell: each check's outcome and id taken in C.
    ran = [list(compress(map(_ID, doc.checks), map(RAN.__contains__, map(_OUTCOME, doc.checks)))) for doc in docs]
    return Scope(
        platforms=tuple(sorted({_platform(doc) for doc in docs})),
        pythons=_pythons(docs),
        cells_required=tuple(required),
        cells_planned=None if matrix.plan is None else tuple(sorted(matrix.plan.cell_ids, key=cell_sort_key)),
        cells_present=tuple(matrix.documents),
        cells_run=tuple(doc.cell_id for doc in docs if doc.state == CellState.COMPLETE),
        cells_missing=tuple(cell for cell in required if cell not in matrix.documents),
        required_basis=basis,
        checks_run=len(set(chain.from_iterable(ran))),
        checks_collected=len(collected),
        results_run=sum(map(len, ran)),
        results_collected=results_collected,
    )


_ID, _OUTCOME = attrgetter("id"), attrgetter("outcome")


def _cell(doc: EnvDocument) -> Optional[CellId]:
    """The parts of a document's cell id; None for one that is not a cell id, which only a document
    built in memory can hold (the reader refuses it), and which no report will write."""
    try:
        return CellId.parse(doc.cell_id)
    except UsageError:
        return None


def _platform(doc: EnvDocument) -> str:
    cell = _cell(doc)
    os_name = str(doc.fingerprint.get("os") or (cell.os if cell else "unknown"))
    return f"{os_name} (wine)" if doc.fingerprint.get("lane") == "wine" else os_name


def _pythons(docs: List[EnvDocument]) -> Tuple[str, ...]:
    """The Python groups of the cells (`cpython3.12`), by implementation, then version."""
    cells = {cell for cell in map(_cell, docs) if cell is not None}
    order = {cell.python_group: (cell.implementation, cell.version_key, cell.python_group) for cell in cells}
    return tuple(sorted(order, key=order.__getitem__))
