"""The matrix (kind `readiness/matrix`): every cell's env document of a run and the checks x cells rows.

Schema versions of `readiness/matrix`:

1. First version: run ids, inputs, problems, plan, one embedded env document per cell, and the
   derived checks x cells outcome table.
2. Env documents of schema 2 inside (schema 1 ones stay as they were read), so the outcome
   table may hold `not_run`; the `over-limit` input problem is part of the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from readiness import __version__
from readiness.model import document, envtext, jsontext, reader
from readiness.model.document import OUTCOME_VALUES, CheckRecord, EnvDocument, Outcome, Severity
from readiness.model.errors import SchemaError, UsageError
from readiness.model.ids import cell_sort_key
from readiness.model.plan import Plan

MATRIX_KIND = "readiness/matrix"
MATRIX_SCHEMA = 2
_SEVERITY_ORDER = {severity: index for index, severity in enumerate(Severity)}
_OUTCOME = attrgetter("outcome")


@dataclass(frozen=True)
class InputProblem:
    """An input that could not be used as evidence; it makes the verdict INCOMPLETE."""

    kind: str  # "unreadable", "over-limit", "conflict", "foreign-run", "wrong-kind"
    paths: Tuple[str, ...]
    message: str

    def to_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "paths": list(self.paths), "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputProblem:
        return cls(data["kind"], tuple(data["paths"]), data["message"])


@dataclass
class Row:
    """One check across cells: its declared metadata and its record in each cell."""

    id: str
    title: str
    category: str
    severity: Severity
    results: Dict[str, CheckRecord] = field(default_factory=dict)

    @property
    def worst(self) -> Optional[Outcome]:
        return document.worst(map(_OUTCOME, self.results.values()))  # each outcome taken in C

    def outcome(self, cell: str) -> Optional[Outcome]:
        record = self.results.get(cell)
        return None if record is None else record.outcome


@dataclass
class Matrix:
    """Every cell's env document of one run (or a mixed set), and the checks x cells rows."""

    run_id: Optional[str]
    documents: Dict[str, EnvDocument]
    sources: Dict[str, str] = field(default_factory=dict)
    plan: Optional[Plan] = None
    mixed: bool = False
    inputs: List[str] = field(default_factory=list)
    duplicates: List[str] = field(default_factory=list)
    problems: List[InputProblem] = field(default_factory=list)
    # Each cell's document as read, so writing the matrix does not rebuild it (lossless).
    raw: Dict[str, Dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    # The target's coverage combined over the cells (coverage_merge.combine_run), when measured.
    coverage: Optional[Dict[str, Any]] = None
    rows: Dict[str, Row] = field(init=False)
    # The JSON text of the values that the matrix file and several reports hold (each check's
    # samples and evidence), written once (model/jsontext.py).
    memo: jsontext.Memo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Cells in version order (3.9 before 3.10), so every report lists them alike.
        self.documents = dict(sorted(self.documents.items(), key=lambda item: cell_sort_key(item[0])))
        self.rows = build_rows(self.documents.values())
        self.memo = jsontext.Memo()

    @property
    def cells(self) -> List[str]:
        return list(self.documents)

    @property
    def run_ids(self) -> List[str]:
        return sorted({doc.run_id for doc in self.documents.values()})

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": MATRIX_KIND,
            "schema": MATRIX_SCHEMA,
            "tool_version": __version__,
            "run_id": self.run_id,
            "run_ids": self.run_ids,
            "mixed": self.mixed,
            "inputs": list(self.inputs),
            "duplicates": list(self.duplicates),
            "problems": [problem.to_dict() for problem in self.problems],
            "plan": None if self.plan is None else self.plan.summary(),
            "cells": [{"id": cell, "source": self.sources.get(cell, ""),
                       "document": self.raw.get(cell) or doc.to_dict()} for cell, doc in self.documents.items()],
            "checks": [_row_dict(row, self.cells) for row in self.rows.values()],
            **({} if self.coverage is None else {"coverage": self.coverage}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matrix:
        """A matrix from data its schema accepted (a planned cell that is no cell id: UsageError)."""
        plan = data["plan"]
        return cls(
            run_id=data["run_id"],
            documents={c["id"]: EnvDocument.from_dict(c["document"]) for c in data["cells"]},
            raw={c["id"]: c["document"] for c in data["cells"]},
            sources={c["id"]: c["source"] for c in data["cells"]},
            plan=None if plan is None else Plan.from_summary(plan),
            mixed=bool(data["mixed"]),
            inputs=list(data["inputs"]),
            duplicates=list(data["duplicates"]),
            problems=[InputProblem.from_dict(p) for p in data["problems"]],
            coverage=data.get("coverage"),
        )


def from_document(name: str, data: Dict[str, Any], at: str = "$") -> Matrix:
    """A matrix the reader validated (a matrix file, or one a baseline embeds at `at`) as a Matrix,
    each embedded env document checked too; a planned cell that is no cell id names its field."""
    for index, cell in enumerate(data["cells"]):
        reader.validate(f"{name} {at}.cells[{index}].document", cell["document"], reader.ENV_KIND)
    try:
        return Matrix.from_dict(data)
    except UsageError as exc:  # the matrix schema takes any string as a planned cell; only a cell id will do
        raise SchemaError(name, f"{at}.plan.cells", str(exc)) from None


def _row_dict(row: Row, cells: Sequence[str]) -> Dict[str, Any]:
    worst = row.worst
    return {
        "id": row.id,
        "title": row.title,
        "category": row.category,
        "severity": row.severity.value,
        "worst": None if worst is None else worst.value,
        "outcomes": {cell: OUTCOME_VALUES[row.results[cell].outcome] for cell in cells if cell in row.results},
    }


def build_rows(documents: Iterable[EnvDocument]) -> Dict[str, Row]:
    """The checks x cells rows, sorted by check id; metadata from the most severe declaration."""
    rows: Dict[str, Row] = {}
    for doc in documents:
        cell = doc.cell_id
        for record in doc.checks:
            row = rows.get(record.id)
            if row is None:  # a Row only for a check seen first: most are seen once per cell
                row = rows[record.id] = Row(record.id, record.title, record.category, record.severity)
            elif record.severity is not row.severity and _more_severe(record.severity, row.severity):
                row.severity = record.severity
            row.results[cell] = record
    return dict(sorted(rows.items()))


def _more_severe(severity: Severity, than: Severity) -> bool:
    return _SEVERITY_ORDER[severity] < _SEVERITY_ORDER[than]


def dumps(matrix: Matrix) -> str:
    """The matrix as JSON text (stable key order): `json.dumps(matrix.to_dict())`, compact, as
    model/jsontext.py writes it part by part."""
    # Compact: a matrix holds every cell's documents, and indented JSON is written far slower.
    data = matrix.to_dict()
    envtext.fill(matrix.memo, matrix.documents, matrix.raw)
    cells: List[str] = []  # the parts of every cell, joined once with the rest
    for cell in data.pop("cells"):
        cells += ["," if cells else "[", *_cell_parts(cell, matrix.memo)]
    members = [("cells", cells + ["]"] if cells else ["[]"]), ("checks", [jsontext.dumps(data.pop("checks"))])]
    if "coverage" in data:
        members.append(("coverage", [jsontext.dumps(data.pop("coverage"))]))
    return "".join(jsontext.object_parts(data, *members) + ["\n"])


def _cell_parts(cell: Dict[str, Any], memo: jsontext.Memo) -> List[str]:
    return [f'{{"id":{jsontext.text(cell["id"])},"source":{jsontext.text(cell["source"])},"document":',
            *envtext.document_parts(cell["document"], memo), "}"]
