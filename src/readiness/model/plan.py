"""The plan of a run (`plan.json`, kind `readiness/plan`): the cells it set out to produce.

Written by `nox -s validate` and `readiness matrix`, read by merge: a planned cell without a
document is missing evidence (README, "What readiness guarantees").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from readiness.model.ids import CellId, check_cell_id, utc_now
from readiness.model.output import PathLike, write_text
from readiness.model.reader import read_json, validate

PLAN_KIND = "readiness/plan"
# Schema versions of `readiness/plan`:
#   1. First version: the run id, the profile and the planned cells (id, python, interpreter, lane).
PLAN_SCHEMA = 1


@dataclass
class PlannedCell:
    """One cell of the plan, and, when it cannot run here, why (it becomes a not_run document)."""

    id: str
    python: str
    interpreter: Optional[str] = None
    lane: str = "native"
    skip_reason: Optional[str] = None

    def __post_init__(self) -> None:
        check_cell_id(self.id)  # it names envs/<id>.json, logs/<id>.log, ...

    @property
    def parts(self) -> CellId:
        return CellId.parse(self.id)

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "python": self.python, "interpreter": self.interpreter, "lane": self.lane}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "PlannedCell":
        cell = str(data["id"])
        python = data.get("python") or CellId.parse(cell).python
        return cls(cell, str(python), data.get("interpreter"), str(data.get("lane") or "native"))


@dataclass
class Plan:
    """The cells a run set out to produce; `excluded` says, one line each, what was left out and why."""

    run_id: str
    cells: List[PlannedCell] = field(default_factory=list)
    excluded: List[str] = field(default_factory=list)
    profile: Optional[str] = None
    source: str = ""  # the file it was read from, when read

    @property
    def cell_ids(self) -> List[str]:
        return [cell.id for cell in self.cells]

    def to_dict(self, created_at: Optional[str] = None) -> Dict[str, Any]:
        """The `plan.json` document."""
        from readiness import __version__

        return {
            "kind": PLAN_KIND, "schema": PLAN_SCHEMA, "tool_version": __version__, "run_id": self.run_id,
            "created_at": created_at or utc_now(), "profile": self.profile,
            "cells": [cell.to_dict() for cell in self.cells],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], source: str = "") -> "Plan":
        """A plan from a document the reader has already validated."""
        return cls(str(data["run_id"]), [PlannedCell.from_dict(c) for c in data["cells"]],
                   profile=data.get("profile"), source=source)

    def summary(self) -> Dict[str, Any]:
        """How a matrix records the plan it was judged against: run id, cell ids, source file."""
        return {"run_id": self.run_id, "cells": self.cell_ids, "source": self.source}

    @classmethod
    def from_summary(cls, data: Dict[str, Any]) -> "Plan":
        cells = [PlannedCell(str(c), CellId.parse(c).python) for c in data["cells"]]
        return cls(str(data["run_id"]), cells, source=str(data.get("source") or ""))


def write(plan: Plan, path: PathLike) -> Path:
    """Write `plan.json` atomically."""
    write_text(path, json.dumps(plan.to_dict(), indent=1) + "\n")
    return Path(path)


def read(path: PathLike) -> Plan:
    """Read and validate a `plan.json` (a DocumentError naming the file and field otherwise)."""
    data = read_json(path)
    validate(str(path), data, PLAN_KIND)
    return Plan.from_dict(data, source=str(path))
