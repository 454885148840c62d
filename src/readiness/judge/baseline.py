"""Baselines: a merged run stored under `.readiness/baselines/<name>.json`, for later runs to compare with.

Library API (the CLI calls the same functions):

    save(matrix, name, *, root=None, now=None) -> Path
    list_baselines(root=None) -> list of Listed   (each saved baseline, or why it cannot be read)
    load(path) -> Baseline                         (strict: kind, schema, embedded matrix)
    resolve(spec, *, root=None) -> Baseline        (a saved name, a baseline file, or run documents)
    format_listing(listed) / format_baseline(baseline) -> str

Schema versions of `readiness/baseline` (readers accept the current and the previous one):

1. First version: name, created_at, the source run id, each cell's machine fingerprint, and the
   merged run as an embedded `readiness/matrix` (each cell's env document in full).

A new schema version adds its number to `reader.READABLE_SCHEMAS` and, when fields change, one
entry to `_UPGRADES` turning the previous version's data into the current one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from readiness import __version__
from readiness.judge import merge
from readiness.judge.matrix import MATRIX_KIND, Matrix, from_document
from readiness.model import reader
from readiness.model.errors import DocumentError, SchemaError, UsageError
from readiness.model.output import write_text

BASELINE_KIND = "readiness/baseline"
BASELINE_SCHEMA = 1
BASELINES_DIR = Path(".readiness") / "baselines"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Older schema -> a function giving that data in the current schema's shape.
_UPGRADES: Dict[int, Callable[[Dict[str, Any]], Dict[str, Any]]] = {}


@dataclass
class Baseline:
    """A stored run: its matrix and where it came from."""

    name: str
    created_at: str
    source_run_id: Optional[str]
    machines: Dict[str, Optional[Dict[str, Any]]]
    matrix: Matrix
    path: Optional[str] = None

    @property
    def label(self) -> str:
        return f"{self.name} (run {self.source_run_id})"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": BASELINE_KIND, "schema": BASELINE_SCHEMA, "tool_version": __version__,
            "name": self.name, "created_at": self.created_at, "source_run_id": self.source_run_id,
            "machines": dict(sorted(self.machines.items())), "matrix": self.matrix.to_dict(),
        }


def from_matrix(matrix: Matrix, name: str, now: Optional[dt.datetime] = None) -> Baseline:
    """A baseline of a merged run; `now` (UTC) is its creation time."""
    check_name(name)
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    machines = {cell: doc.fingerprint.get("machine") for cell, doc in matrix.documents.items()}
    return Baseline(name, moment.isoformat().replace("+00:00", "Z"), matrix.run_id, machines, matrix)


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"baseline name {name!r}: use letters, digits, '.', '_' and '-' "
                         "(at most 100, starting with a letter or digit)")
    return name


def folder(root: Optional[Path] = None) -> Path:
    return BASELINES_DIR if root is None else root / BASELINES_DIR


def path_of(name: str, root: Optional[Path] = None) -> Path:
    return folder(root) / f"{check_name(name)}.json"


def dumps(baseline: Baseline) -> str:
    return json.dumps(baseline.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def save(matrix: Matrix, name: str, *, root: Optional[Path] = None, now: Optional[dt.datetime] = None) -> Path:
    """Store `matrix` as baseline `name` (atomically; an existing one of that name is replaced)."""
    if not matrix.documents:
        raise UsageError("there is no env document among the inputs: nothing to store as a baseline")
    target = path_of(name, root)
    write_text(target, dumps(from_matrix(matrix, name, now)))
    return target


# --- reading ----------------------------------------------------------------------------------


def load(path: Union[str, Path]) -> Baseline:
    """Read and validate a baseline file; any problem raises a `DocumentError` subclass."""
    name = Path(path).as_posix()
    data = reader.read_json(path)
    _, version = reader.validate(name, data, BASELINE_KIND)
    return parse(name, _UPGRADES.get(version, _same)(data))


def _same(data: Dict[str, Any]) -> Dict[str, Any]:
    return data


def parse(name: str, data: Dict[str, Any]) -> Baseline:
    """A validated baseline's data (current schema) as a Baseline, its embedded run checked too."""
    matrix_data = data["matrix"]
    reader.validate(f"{name} $.matrix", matrix_data, MATRIX_KIND)
    matrix = from_document(name, matrix_data, "$.matrix")
    unknown = sorted(set(data["machines"]) - set(matrix.documents))
    if unknown:
        raise SchemaError(name, "$.machines", f"names cells the run does not hold: {', '.join(unknown)}",
                          "save the baseline again")
    return Baseline(data["name"], data["created_at"], data["source_run_id"], dict(data["machines"]),
                    matrix, name)


def is_baseline_file(path: Path) -> bool:
    """Whether `path` is a JSON file whose kind is readiness/baseline (unreadable files are not)."""
    try:
        return reader.read_json(path).get("kind") == BASELINE_KIND
    except DocumentError:
        return False


def resolve(spec: str, *, root: Optional[Path] = None) -> Baseline:
    """What `--baseline SPEC` names: a saved baseline's name, a baseline file, or run documents.

    A saved name wins over a file or folder of the same name in the working folder; write
    `./NAME` for the latter.
    """
    path = Path(spec)
    if NAME_PATTERN.fullmatch(spec) and path_of(spec, root).is_file():
        return load(path_of(spec, root))
    if path.is_file() and is_baseline_file(path):
        return load(path)
    if path.exists() or any(ch in spec for ch in "*?["):
        return from_run(spec)
    saved = ", ".join(item.name for item in list_baselines(root)) or "none"
    raise UsageError(f"--baseline {spec}: no such file, and no saved baseline of that name in "
                     f"{folder(root).as_posix()} (saved: {saved}); give a name, a baseline file, "
                     "a matrix file or env documents")


def from_run(spec: str) -> Baseline:
    """Run documents (a matrix file, env documents, a folder) used as a baseline as they are."""
    matrix = merge.merge_paths([spec])
    machines = {cell: doc.fingerprint.get("machine") for cell, doc in matrix.documents.items()}
    created = min((doc.started_at for doc in matrix.documents.values()), default="")
    return Baseline(Path(spec).name or spec, created, matrix.run_id, machines, matrix, spec)


# --- listing and showing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One file of the baselines folder: its baseline, or why it cannot be read."""

    name: str
    path: Path
    baseline: Optional[Baseline] = None
    problem: Optional[str] = None


def list_baselines(root: Optional[Path] = None) -> List[Listed]:
    """Every `*.json` in the baselines folder, by name; unreadable ones keep their error."""
    where = folder(root)
    listed = []
    for path in sorted(where.glob("*.json")) if where.is_dir() else []:
        try:
            listed.append(Listed(path.stem, path, baseline=load(path)))
        except DocumentError as exc:
            listed.append(Listed(path.stem, path, problem=str(exc)))
    return listed


def format_listing(listed: List[Listed], root: Optional[Path] = None) -> str:
    if not listed:
        return (f"no baselines saved in {folder(root).as_posix()} "
                "(save one with: readiness baseline save INPUTS... --name NAME)\n")
    lines = []
    for item in listed:
        if item.baseline is None:
            lines.append(f"{item.name}  unreadable: {item.problem}")
            continue
        b = item.baseline
        lines.append(f"{b.name}  created {b.created_at}  run {b.source_run_id}  "
                     f"{len(b.matrix.documents)} cell(s), {len(b.matrix.rows)} check(s)")
    return "\n".join(lines) + "\n"


def format_baseline(b: Baseline) -> str:
    """What `readiness baseline show` prints: origin, cells with machines, checks, measurements."""
    lines = [f"baseline {b.name}", f"  file:       {b.path}", f"  created at: {b.created_at}",
             f"  source run: {b.source_run_id}", "", "cells:"]
    for cell, doc in b.matrix.documents.items():
        lines.append(f"  {cell}  {doc.state.value}  target sources {doc.target.source_hash or 'unknown'}  "
                     f"machine {_machine_text(b.machines.get(cell))}")
    lines += ["", "checks (worst outcome across cells):"]
    lines += [f"  {row.id}  {row.worst.value if row.worst else '-'}" for row in b.matrix.rows.values()]
    measurements = _measurement_lines(b.matrix)
    if measurements:
        lines += ["", "measurements:", *measurements]
    return "\n".join(lines) + "\n"


def _machine_text(machine: Optional[Dict[str, Any]]) -> str:
    if not machine:
        return "unknown"
    return ", ".join(f"{key} {value}" for key, value in sorted(machine.items()))


def _measurement_lines(matrix: Matrix) -> List[str]:
    lines = []
    for row in matrix.rows.values():
        for cell, record in row.results.items():
            for name, m in sorted(record.measurements.items()):
                median = statistics.median(m.samples) if m.samples else float("nan")
                lines.append(f"  {row.id}  {name}  {cell}: median {median:g} {m.unit} of {len(m.samples)} sample(s)")
    return lines
