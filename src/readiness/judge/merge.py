"""Merge: find readiness documents among the inputs and build one checks x cells matrix.

Library API (the CLI and `nox -s validate` call the same functions):

    merge_paths(inputs, *, mixed_from=()) -> Matrix
        inputs: env documents, folders (searched for readiness JSON files), globs, or matrix
        files; `mixed_from`: the same, from other runs (CI artifacts): the matrix is then mixed.
    find_inputs(inputs) -> list of (path, named) pairs, sorted
    dumps(matrix) -> str; Matrix.to_dict() / Matrix.from_dict(data)   (judge/matrix.py)

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
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from readiness.judge import gcpause
from readiness.judge.matrix import MATRIX_KIND, MATRIX_SCHEMA, InputProblem, Matrix, Row, dumps, from_document
from readiness.model import reader
from readiness.model.document import EnvDocument
from readiness.model.errors import DocumentError, UsageError
from readiness.model.plan import PLAN_KIND, Plan

# The matrix record lives in judge/matrix.py; these names stay importable from here.
__all__ = ["MATRIX_KIND", "MATRIX_SCHEMA", "MAX_MERGE_BYTES", "MAX_MERGE_FILES", "MAX_MERGE_RESULTS", "InputProblem",
           "Limits",
           "Matrix", "Row", "dumps", "find_inputs", "merge_paths"]

# Kinds a folder search takes in; a run folder also holds the products of earlier merges.
_FOLDER_KINDS = (reader.ENV_KIND, PLAN_KIND)
MAX_MERGE_BYTES = reader.COMBINED_MAX_BYTES  # the sizes of every file one merge reads
MAX_MERGE_RESULTS = 500_000  # check results (a check in a cell) one merge holds
MAX_MERGE_FILES = 20_000  # files one merge reads


@dataclass(frozen=True)
class Limits:
    """What one merge reads at most; past a limit, files are listed as not read."""

    bytes: int = MAX_MERGE_BYTES
    results: int = MAX_MERGE_RESULTS
    files: int = MAX_MERGE_FILES


# --- finding the inputs -----------------------------------------------------------------


def find_inputs(inputs: Sequence[str]) -> List[Tuple[Path, bool]]:
    """Every file the inputs name, sorted, as (path, named): named files are always read,
    files found in folders only when they are readiness env or plan files."""
    found: Dict[str, Tuple[Path, bool]] = {}
    for spec in inputs:
        for path, named in _expand(spec):
            # One file named twice (./a.json, a.json, A.JSON on Windows) is read once; abspath, not
            # resolve(): it spells the path out without following links, as the user gave it.
            key = os.path.normcase(os.path.abspath(path))  # noqa: PTH100
            found[key] = (path, found.get(key, (path, False))[1] or named)
    return sorted(found.values(), key=lambda item: item[0].as_posix())


def _expand(spec: str) -> List[Tuple[Path, bool]]:
    path = Path(spec)
    if path.is_dir():
        return [(p, False) for p in sorted(path.rglob("*.json")) if p.is_file()]
    if path.exists():
        return [(path, True)]
    if glob.has_magic(spec):
        # glob.glob, not Path.glob: the pattern may be absolute and may hold ** anywhere.
        matches = [Path(m) for m in sorted(glob.glob(spec, recursive=True))]  # noqa: PTH207
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
    hashes: Dict[str, str] = field(default_factory=dict)  # sha256 of each file taken in -> its name


def merge_paths(inputs: Sequence[str], *, mixed_from: Sequence[str] = (), limits: Optional[Limits] = None) -> Matrix:
    """Merge env documents (files, folders, globs, matrix files) into one matrix.

    Raises UsageError only when there is nothing to merge at all; every bad document becomes
    an `InputProblem` instead, so the verdict says INCOMPLETE and names the file.
    """
    loaded = _Loaded(limits=limits or Limits())
    with gcpause.paused():
        for specs, is_from in ((inputs, False), (mixed_from, True)):
            for path, named in find_inputs(specs):
                _load_one(loaded, path, named, is_from)
        _add_run_folder_plans(loaded)
    if loaded.unread:
        loaded.problems.append(_not_read(loaded))
    if not loaded.inputs and not loaded.problems:
        raise UsageError("no readiness documents found in the inputs")
    with gcpause.paused():
        return _assemble(loaded)


def _load_one(loaded: _Loaded, path: Path, named: bool, is_from: bool) -> None:
    """Read one file into `loaded`: a named file always, a file found in a folder when it is a readiness file."""
    name = path.as_posix()
    raw = _read(loaded, path, name)
    if raw is None:
        return
    try:
        data = reader.parse_json(name, raw)
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))
        return
    if not named and data.get("kind") not in _FOLDER_KINDS:
        return
    if not _admit(loaded, name, raw, data):
        return
    try:
        _take(loaded, name, data, is_from)
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))


def _read(loaded: _Loaded, path: Path, name: str) -> Optional[bytes]:
    """The file's bytes, counted against the limits; None when it is past a limit or unreadable."""
    limits = loaded.limits
    if not loaded.over and loaded.files_read >= limits.files:
        loaded.over = f"{limits.files:,} files"
    if loaded.over:
        loaded.unread.append(name)
        return None
    try:
        raw = reader.read_bytes(path, room=limits.bytes - loaded.bytes_read)
    except reader.NoRoom:
        loaded.over = f"{limits.bytes / 2**20:,.0f} MiB of files"
        loaded.unread.append(name)
        return None
    except DocumentError as exc:
        loaded.problems.append(InputProblem("unreadable", (name,), str(exc)))
        return None
    loaded.files_read += 1
    loaded.bytes_read += len(raw)
    return raw


def _admit(loaded: _Loaded, name: str, raw: bytes, data: Mapping[str, Any]) -> bool:
    """Whether a readiness file joins the merge: not a byte-identical duplicate, within the results limit."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest in loaded.hashes:
        loaded.duplicates.append(f"{name} (same bytes as {loaded.hashes[digest]})")
        return False
    results = _count_results(data)
    if loaded.results_read + results > loaded.limits.results:
        loaded.over = f"{loaded.limits.results:,} check results (a check in a cell)"
        loaded.unread.append(name)
        return False
    loaded.results_read += results
    loaded.hashes[digest] = name
    loaded.inputs.append(name)
    return True


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


def _take(loaded: _Loaded, name: str, data: Dict[str, Any], is_from: bool) -> None:
    kind, _ = reader.validate(name, data)
    if kind == reader.ENV_KIND:
        doc = EnvDocument.from_dict(data)
        loaded.raw[id(doc)] = data
        loaded.envs.append((doc, name, is_from))
    elif kind == PLAN_KIND:
        loaded.plans.append(Plan.from_dict(data, name))
    elif kind == MATRIX_KIND:
        _take_matrix(loaded, name, data, is_from)
    else:
        raise DocumentError(name, f"is a {kind} file", "merge reads env, plan and matrix files")


def _take_matrix(loaded: _Loaded, name: str, data: Dict[str, Any], is_from: bool) -> None:
    matrix = from_document(name, data)
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


def _add_run_folder_plans(loaded: _Loaded) -> None:
    """A run's `plan.json` beside its `envs/` folder counts even when not named."""
    if loaded.plans:
        return
    folders = {Path(source).parent for _, source, _ in loaded.envs if Path(source).parent.name == "envs"}
    for folder in sorted(folders):
        plan = folder.parent / "plan.json"
        if plan.is_file():
            _load_one(loaded, plan, True, False)


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
