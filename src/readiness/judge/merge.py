"""Merge: find readiness documents among the inputs and build one checks x cells matrix.

Library API (the CLI and `nox -s validate` call the same functions):

    merge_paths(inputs, *, mixed_from=()) -> Matrix
        inputs: env documents, folders (searched for readiness JSON files), globs, or matrix
        files; `mixed_from`: the same, from other runs (CI artifacts): the matrix is then mixed.
    find_inputs(inputs) -> list of (path, named) pairs, sorted
    dumps(matrix) -> str; Matrix.to_dict() / Matrix.from_dict(data)

Nothing is dropped quietly: an unreadable document, two different documents for one cell, or
a document of another run is an `InputProblem` in the matrix, and the verdict is INCOMPLETE.
Byte-identical duplicates are dropped and listed.

Reading is bounded: each file by its size (`reader.read_bytes`), and one merge by `Limits`
(256 MiB of files, 500,000 check results, 20,000 files). The files past a limit, in path order,
are not merged; they are one `over-limit` problem naming them all, and the verdict is INCOMPLETE.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from readiness import __version__
from readiness.model import document, reader
from readiness.model.document import CheckRecord, EnvDocument, Outcome, Severity
from readiness.model.errors import DocumentError, SchemaError, UsageError

MATRIX_KIND = "readiness/matrix"
PLAN_KIND = "readiness/plan"
# Schema versions of `readiness/matrix`:
#   1. First version: run ids, inputs, problems, plan, one embedded env document per cell,
#      and the derived checks x cells outcome table.
MATRIX_SCHEMA = 1
# Schema versions of `readiness/plan`:
#   1. First version: the run id and the planned cells.
PLAN_SCHEMA = 1
# Kinds a folder search takes in; a run folder also holds the products of earlier merges.
_FOLDER_KINDS = (reader.ENV_KIND, PLAN_KIND)
_SEVERITY_ORDER = {severity: index for index, severity in enumerate(Severity)}
MAX_MERGE_BYTES = reader.COMBINED_MAX_BYTES  # the sizes of every file one merge reads
MAX_MERGE_RESULTS = 500_000  # check results (a check in a cell) one merge holds
MAX_MERGE_FILES = 20_000  # files one merge reads


@dataclass(frozen=True)
class Limits:
    """What one merge reads at most; past a limit, files are listed as not read."""

    bytes: int = MAX_MERGE_BYTES
    results: int = MAX_MERGE_RESULTS
    files: int = MAX_MERGE_FILES


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


@dataclass(frozen=True)
class Plan:
    """The cells a run set out to produce (`plan.json`)."""

    run_id: str
    cells: Tuple[str, ...]
    source: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"run_id": self.run_id, "cells": list(self.cells), "source": self.source}


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
        return document.worst(record.outcome for record in self.results.values())

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

    def __post_init__(self) -> None:
        self.documents = dict(sorted(self.documents.items()))
        self.rows = build_rows(self.documents.values())

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
            "plan": None if self.plan is None else self.plan.to_dict(),
            "cells": [{"id": cell, "source": self.sources.get(cell, ""),
                       "document": self.raw.get(cell) or doc.to_dict()} for cell, doc in self.documents.items()],
            "checks": [_row_dict(row, self.cells) for row in self.rows.values()],
            **({} if self.coverage is None else {"coverage": self.coverage}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matrix:
        plan = data["plan"]
        return cls(
            run_id=data["run_id"],
            documents={c["id"]: EnvDocument.from_dict(c["document"]) for c in data["cells"]},
            raw={c["id"]: c["document"] for c in data["cells"]},
            sources={c["id"]: c["source"] for c in data["cells"]},
            plan=None if plan is None else Plan(plan["run_id"], tuple(plan["cells"]), plan["source"]),
            mixed=bool(data["mixed"]),
            inputs=list(data["inputs"]),
            duplicates=list(data["duplicates"]),
            problems=[InputProblem.from_dict(p) for p in data["problems"]],
            coverage=data.get("coverage"),
        )


def _row_dict(row: Row, cells: Sequence[str]) -> Dict[str, Any]:
    worst = row.worst
    return {
        "id": row.id,
        "title": row.title,
        "category": row.category,
        "severity": row.severity.value,
        "worst": None if worst is None else worst.value,
        "outcomes": {cell: row.results[cell].outcome.value for cell in cells if cell in row.results},
    }


def build_rows(documents: Iterable[EnvDocument]) -> Dict[str, Row]:
    """The checks x cells rows, sorted by check id; metadata from the most severe declaration."""
    rows: Dict[str, Row] = {}
    for doc in documents:
        for record in doc.checks:
            row = rows.setdefault(record.id, Row(record.id, record.title, record.category, record.severity))
            if _SEVERITY_ORDER[record.severity] < _SEVERITY_ORDER[row.severity]:
                row.severity = record.severity
            row.results[doc.cell_id] = record
    return dict(sorted(rows.items()))


def dumps(matrix: Matrix) -> str:
    """The matrix as JSON text (stable key order)."""
    # Compact: a matrix holds every cell's documents, and indented JSON is written far slower.
    return json.dumps(matrix.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


# --- finding the inputs -----------------------------------------------------------------


def find_inputs(inputs: Sequence[str]) -> List[Tuple[Path, bool]]:
    """Every file the inputs name, sorted, as (path, named): named files are always read,
    files found in folders only when they are readiness env or plan files."""
    found: Dict[str, Tuple[Path, bool]] = {}
    for spec in inputs:
        for path, named in _expand(spec):
            key = os.path.normcase(os.path.abspath(path))
            found[key] = (path, found.get(key, (path, False))[1] or named)
    return sorted(found.values(), key=lambda item: item[0].as_posix())


def _expand(spec: str) -> List[Tuple[Path, bool]]:
    path = Path(spec)
    if path.is_dir():
        return [(p, False) for p in sorted(path.rglob("*.json")) if p.is_file()]
    if path.exists():
        return [(path, True)]
    if glob.has_magic(spec):
        matches = [Path(m) for m in sorted(glob.glob(spec, recursive=True))]
        return [item for m in matches for item in _expand(str(m))]
    raise UsageError(f"input {spec!r} does not exist (give env documents, folders, globs or a matrix file)")


# --- loading ----------------------------------------------------------------------------


@dataclass
class _Loaded:
    """What the inputs of one merge held, before cells are chosen."""

    envs: List[Tuple[EnvDocument, str, bool]] = field(default_factory=list)  # doc, source, from
    plans: List[Plan] = field(default_factory=list)
    problems: List[InputProblem] = field(default_factory=list)
    duplicates: List[str] = field(default_factory=list)
    inputs: List[str] = field(default_factory=list)
    mixed: bool = False
    raw: Dict[int, Dict[str, Any]] = field(default_factory=dict)  # id(document) -> data as read
    coverage: List[Dict[str, Any]] = field(default_factory=list)  # combined figures of merged matrices
    limits: Limits = field(default_factory=Limits)
    bytes_read: int = 0
    files_read: int = 0
    results_read: int = 0
    over: str = ""  # the limit reached, once reached
    unread: List[str] = field(default_factory=list)  # the files not read since


def merge_paths(inputs: Sequence[str], *, mixed_from: Sequence[str] = (), limits: Optional[Limits] = None) -> Matrix:
    """Merge env documents (files, folders, globs, matrix files) into one matrix.

    Raises UsageError only when there is nothing to merge at all; every bad document becomes
    an `InputProblem` instead, so the verdict says INCOMPLETE and names the file.
    """
    loaded = _Loaded(limits=limits or Limits())
    hashes: Dict[str, str] = {}
    for specs, is_from in ((inputs, False), (mixed_from, True)):
        for path, named in find_inputs(specs):
            _load_one(loaded, path, named, is_from, hashes)
    _add_run_folder_plans(loaded, hashes)
    if loaded.unread:
        loaded.problems.append(_not_read(loaded))
    if not loaded.inputs and not loaded.problems:
        raise UsageError("no readiness documents found in the inputs")
    return _assemble(loaded)


def _load_one(loaded: _Loaded, path: Path, named: bool, is_from: bool, hashes: Dict[str, str]) -> None:
    name = path.as_posix()
    limits = loaded.limits
    if not loaded.over and loaded.files_read >= limits.files:
        loaded.over = f"{limits.files:,} files"
    if loaded.over:
        loaded.unread.append(name)
        return
    try:
        raw = reader.read_bytes(path, room=limits.bytes - loaded.bytes_read)
    except reader.NoRoom:
        loaded.over = f"{limits.bytes / 2**20:,.0f} MiB of files"
        loaded.unread.append(name)
        return
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))
        return
    loaded.files_read += 1
    loaded.bytes_read += len(raw)
    try:
        data = reader.parse_json(name, raw)
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))
        return
    if not named and not _is_readiness_file(data, _FOLDER_KINDS):
        return
    digest = hashlib.sha256(raw).hexdigest()
    if digest in hashes:
        loaded.duplicates.append(f"{name} (same bytes as {hashes[digest]})")
        return
    results = _count_results(data)
    if loaded.results_read + results > limits.results:
        loaded.over = f"{limits.results:,} check results (a check in a cell)"
        loaded.unread.append(name)
        return
    loaded.results_read += results
    hashes[digest] = name
    loaded.inputs.append(name)
    try:
        _take(loaded, name, data, is_from)
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))


def _count_results(data: Mapping[str, Any]) -> int:
    """The check results (a check in a cell) an env document or a matrix holds, before validation."""
    cells = data.get("cells") if data.get("kind") == MATRIX_KIND else [{"document": data}]
    documents = [cell.get("document") for cell in cells if isinstance(cell, dict)] if isinstance(cells, list) else []
    return sum(len(doc["checks"]) for doc in documents if isinstance(doc, dict) and isinstance(doc.get("checks"), list))


def _not_read(loaded: _Loaded) -> InputProblem:
    unread = loaded.unread
    return InputProblem(
        "over-limit", tuple(unread),
        f"{len(unread):,} input file(s) not merged, from {unread[0]} on: one merge reads at most {loaded.over}; "
        f"judge fewer cells at a time, or remove files that are not readiness documents from the inputs",
    )


def _is_readiness_file(data: Mapping[str, Any], kinds: Sequence[str]) -> bool:
    return data.get("kind") in kinds


def _take(loaded: _Loaded, name: str, data: Dict[str, Any], is_from: bool) -> None:
    kind, _ = reader.validate(name, data)
    if kind == reader.ENV_KIND:
        doc = EnvDocument.from_dict(data)
        loaded.raw[id(doc)] = data
        loaded.envs.append((doc, name, is_from))
    elif kind == PLAN_KIND:
        loaded.plans.append(Plan(data["run_id"], tuple(c["id"] for c in data["cells"]), name))
    elif kind == MATRIX_KIND:
        _take_matrix(loaded, name, data, is_from)
    else:
        raise DocumentError(name, f"is a {kind} file", "merge reads env, plan and matrix files")


def _take_matrix(loaded: _Loaded, name: str, data: Dict[str, Any], is_from: bool) -> None:
    for index, cell in enumerate(data["cells"]):
        reader.validate(f"{name} $.cells[{index}].document", cell["document"], reader.ENV_KIND)
    matrix = Matrix.from_dict(data)
    for cell, doc in matrix.documents.items():
        loaded.raw[id(doc)] = matrix.raw[cell]
        loaded.envs.append((doc, matrix.sources.get(cell) or f"{name}#{cell}", is_from))
    if matrix.plan is not None:
        loaded.plans.append(matrix.plan)
    loaded.problems.extend(matrix.problems)
    loaded.duplicates.extend(matrix.duplicates)
    loaded.mixed = loaded.mixed or matrix.mixed
    if matrix.coverage is not None:
        loaded.coverage.append(matrix.coverage)


def _add_run_folder_plans(loaded: _Loaded, hashes: Dict[str, str]) -> None:
    """A run's `plan.json` beside its `envs/` folder counts even when not named."""
    if loaded.plans:
        return
    folders = {Path(source).parent for _, source, _ in loaded.envs if Path(source).parent.name == "envs"}
    for folder in sorted(folders):
        plan = folder.parent / "plan.json"
        if plan.is_file():
            _load_one(loaded, plan, True, False, hashes)


# --- choosing one document per cell -------------------------------------------------------


def _assemble(loaded: _Loaded) -> Matrix:
    run_id = _primary_run_id(loaded)
    plan = next((p for p in loaded.plans if p.run_id == run_id), None)
    problems = list(loaded.problems)
    for other in loaded.plans:
        if other is not plan and other.run_id != run_id:
            problems.append(_foreign(other.source, other.run_id, run_id))
    documents: Dict[str, EnvDocument] = {}
    sources: Dict[str, str] = {}
    mixed = loaded.mixed
    for doc, source, is_from in sorted(loaded.envs, key=lambda e: (e[2], e[1])):
        if doc.run_id != run_id and not is_from:
            problems.append(_foreign(source, doc.run_id, run_id))
            continue
        mixed = mixed or doc.run_id != run_id
        _place(doc, source, documents, sources, problems)
    raw = {cell: loaded.raw[id(doc)] for cell, doc in documents.items() if id(doc) in loaded.raw}
    # One matrix's combined coverage still holds; figures of several cannot be added up.
    coverage = loaded.coverage[0] if len(loaded.coverage) == 1 else None
    return Matrix(run_id, documents, sources, plan, mixed, sorted(loaded.inputs),
                  sorted(loaded.duplicates), sorted(problems, key=_problem_key), raw, coverage)


def _primary_run_id(loaded: _Loaded) -> Optional[str]:
    """The run being judged: the plan's, else the one most documents share (newest on a tie)."""
    own_plans = sorted({plan.run_id for plan in loaded.plans})
    if own_plans:
        return own_plans[-1]
    counts = Counter(doc.run_id for doc, _, is_from in loaded.envs if not is_from)
    if not counts:
        counts = Counter(doc.run_id for doc, _, _ in loaded.envs)
    if not counts:
        return None
    return max(counts, key=lambda run: (counts[run], run))


def _place(doc: EnvDocument, source: str, documents: Dict[str, EnvDocument],
           sources: Dict[str, str], problems: List[InputProblem]) -> None:
    cell = doc.cell_id
    if cell not in documents:
        documents[cell] = doc
        sources[cell] = source
    elif documents[cell].to_dict() != doc.to_dict():
        problems.append(InputProblem(
            "conflict", (sources[cell], source),
            f"two different documents for cell {cell}: {sources[cell]} and {source}; "
            f"the first is used, remove the one that is wrong",
        ))


def _foreign(source: str, found: str, run_id: Optional[str]) -> InputProblem:
    return InputProblem(
        "foreign-run", (source,),
        f"{source} belongs to run {found}, not to run {run_id}; pass it with --from to mix runs",
    )


def _problem_key(problem: InputProblem) -> Tuple[Tuple[str, ...], str]:
    return problem.paths, problem.message


def load_matrix(path: str) -> Matrix:
    """Read one matrix file, strictly (used where exactly a matrix is expected)."""
    data = reader.read_json(path)
    reader.validate(path, data, MATRIX_KIND)
    if not isinstance(data.get("cells"), list):  # pragma: no cover - the schema ensures it
        raise SchemaError(path, "$.cells", "expected array")
    return Matrix.from_dict(data)
