"""The env document: one cell's check results, its typed form, strict loading and atomic writing.

Schema versions of `readiness/env` (readers accept the current and the previous one):

1. First version: cell fingerprint, run id, target, installed packages, timing, state,
   collected check ids, per-check records with evidence and measurements, summary counts,
   and a reserved `coverage` field.
"""

from __future__ import annotations

import enum
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from readiness import __version__
from readiness.model import schema
from readiness.model.errors import BrokenJSONError, DocumentError, SchemaError, SchemaVersionError, UnknownKindError
from readiness.model.output import PathLike, write_text

ENV_KIND = "readiness/env"
SCHEMA_VERSION = 1
# What each kind's reader accepts: the current schema and the previous one.
READABLE_SCHEMAS: Dict[str, Tuple[int, ...]] = {
    ENV_KIND: (1,),
    "readiness/plan": (1,),
    "readiness/matrix": (1,),
    "readiness/verdict": (1,),
    "readiness/baseline": (1,),
}
KNOWN_KINDS = (
    "readiness/env",
    "readiness/plan",
    "readiness/matrix",
    "readiness/verdict",
    "readiness/baseline",
)
# Reading is bounded: a larger file is refused by its size, before it is read. An env or plan
# document may hold 64 MiB (a cell of 2,000 checks writes about 1 MiB); a matrix or baseline,
# which holds one merge's documents, as much as one merge reads (merge.MAX_MERGE_BYTES).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
COMBINED_MAX_BYTES = 256 * 1024 * 1024
_COMBINED_KINDS = (b"readiness/matrix", b"readiness/baseline")
# Readiness writes `kind` first; the head of a file tells a matrix or baseline before it is read.
_HEAD = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"kind"\s*:\s*"(readiness/[a-z]+)"')
# Free-form values (evidence, coverage) nest at most this many lists and objects deep, so that
# no reader, renderer or redaction pass can run out of stack on them.
MAX_DEPTH = 32
LONGREPR_LIMIT = 8000
MESSAGE_LIMIT = 1000


class Outcome(str, enum.Enum):
    """What one check did in one cell, declared worst first."""

    ERROR = "error"
    FAILED = "failed"
    FLAKY = "flaky"
    XPASSED = "xpassed"
    SKIPPED = "skipped"
    DESELECTED = "deselected"
    XFAILED = "xfailed"
    PASSED = "passed"
    NOT_APPLICABLE = "not_applicable"

    @property
    def rank(self) -> int:
        """Lower is worse; across cells the worst outcome decides."""
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {outcome: index for index, outcome in enumerate(Outcome)}


def worst(outcomes: Iterable[Outcome]) -> Optional[Outcome]:
    """The worst of `outcomes`, or None when there are none."""
    return min(outcomes, key=lambda outcome: outcome.rank, default=None)


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


class CellState(str, enum.Enum):
    """How the cell's run ended; anything but `complete` means evidence is missing."""

    COMPLETE = "complete"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"
    NOT_RUN = "not_run"


@dataclass
class Measurement:
    unit: str
    samples: List[float]
    load: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"unit": self.unit, "samples": list(self.samples)}
        if self.load is not None:
            data["load"] = self.load
        return data


@dataclass
class CheckRecord:
    """One check's result in one cell."""

    id: str
    outcome: Outcome
    nodeid: str = ""
    title: str = ""
    category: str = "general"
    severity: Severity = Severity.MAJOR
    platforms: Optional[List[str]] = None
    attempts: int = 1
    duration_s: float = 0.0
    message: Optional[str] = None
    longrepr: Optional[str] = None
    first_failure: Optional[str] = None
    evidence: Dict[str, Any] = field(default_factory=dict)
    measurements: Dict[str, Measurement] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        # Built by hand, not with asdict(): a cell can hold thousands of checks.
        return {
            "id": self.id,
            "nodeid": self.nodeid,
            "title": self.title,
            "category": self.category,
            "severity": self.severity.value,
            "platforms": None if self.platforms is None else list(self.platforms),
            "outcome": self.outcome.value,
            "attempts": self.attempts,
            "duration_s": self.duration_s,
            "message": self.message,
            "longrepr": self.longrepr,
            "first_failure": self.first_failure,
            "evidence": self.evidence,
            "measurements": {k: m.to_dict() for k, m in sorted(self.measurements.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckRecord:
        return cls(
            id=data["id"],
            outcome=Outcome(data["outcome"]),
            nodeid=data["nodeid"],
            title=data["title"],
            category=data["category"],
            severity=Severity(data["severity"]),
            platforms=data["platforms"],
            attempts=int(data["attempts"]),
            duration_s=float(data["duration_s"]),
            message=data["message"],
            longrepr=data["longrepr"],
            first_failure=data["first_failure"],
            evidence=data["evidence"],
            measurements={
                name: Measurement(m["unit"], [float(s) for s in m["samples"]], m.get("load"))
                for name, m in data["measurements"].items()
            },
        )


@dataclass
class Target:
    """The project under check: what was installed into the cell."""

    name: Optional[str] = None
    version: Optional[str] = None
    commit: Optional[str] = None
    dirty: Optional[bool] = None
    source_hash: Optional[str] = None


@dataclass
class EnvDocument:
    """The results of one check suite run in one cell."""

    run_id: str
    cell_id: str
    fingerprint: Dict[str, Any]
    state: CellState
    started_at: str
    finished_at: str
    duration_s: float = 0.0
    reason: Optional[str] = None
    target: Target = field(default_factory=Target)
    installed: Dict[str, str] = field(default_factory=dict)
    collected: List[str] = field(default_factory=list)
    checks: List[CheckRecord] = field(default_factory=list)
    coverage: Optional[Dict[str, Any]] = None
    tool_version: str = __version__

    @property
    def summary(self) -> Dict[str, int]:
        counts = {outcome.value: 0 for outcome in Outcome}
        for check in self.checks:
            counts[check.outcome.value] += 1
        return counts

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": ENV_KIND,
            "schema": SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "run_id": self.run_id,
            "cell": {"id": self.cell_id, "fingerprint": self.fingerprint},
            "target": asdict(self.target),
            "installed": dict(sorted(self.installed.items())),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": self.duration_s,
            "state": self.state.value,
            "reason": self.reason,
            "collected": list(self.collected),
            "checks": [check.to_dict() for check in self.checks],
            "summary": self.summary,
            "coverage": self.coverage,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvDocument:
        return cls(
            run_id=data["run_id"],
            cell_id=data["cell"]["id"],
            fingerprint=data["cell"]["fingerprint"],
            state=CellState(data["state"]),
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            duration_s=float(data["duration_s"]),
            reason=data["reason"],
            target=Target(**data["target"]),
            installed=dict(data["installed"]),
            collected=list(data["collected"]),
            checks=[CheckRecord.from_dict(check) for check in data["checks"]],
            coverage=data["coverage"],
            tool_version=data["tool_version"],
        )


def dumps(document: EnvDocument) -> str:
    """The document as the JSON text readiness writes (stable key order, UTF-8 safe).

    Compact on purpose: indentation switches json to its pure-Python encoder, several times
    slower on a document of thousands of checks. `python -m json.tool` shows it indented.
    """
    return json.dumps(document.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"


def dump(document: EnvDocument, path: PathLike) -> None:
    """Write the document atomically: readers see the old file or the new one, never half."""
    write_text(path, dumps(document))


def load(path: PathLike, *, max_bytes: Optional[int] = None) -> EnvDocument:
    """Read and validate an env document; any problem raises a `DocumentError` subclass."""
    name = os.fspath(path)
    data = read_json(path, max_bytes=max_bytes)
    validate(name, data, ENV_KIND)
    return EnvDocument.from_dict(data)


def read_json(path: PathLike, *, max_bytes: Optional[int] = None) -> Dict[str, Any]:
    """Read a readiness JSON file: bounded in size, strict UTF-8 JSON, an object at the top."""
    return parse_json(os.fspath(path), read_bytes(path, max_bytes=max_bytes))


class NoRoom(Exception):
    """A file within its own size limit, but larger than the room a caller has left for it."""


def read_bytes(path: PathLike, *, max_bytes: Optional[int] = None, room: Optional[int] = None) -> bytes:
    """The bytes of a readiness file, refused by its size before it is read when larger than
    `max_bytes` (default: 64 MiB, or 256 MiB for a matrix or baseline); `NoRoom`, unread, when
    within that but larger than `room`."""
    name = os.fspath(path)
    try:
        with Path(path).open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            limit = max_bytes
            if limit is None:
                limit = DEFAULT_MAX_BYTES
                if size > limit:
                    head = _HEAD.match(handle.read(256))
                    if head is not None and head.group(1) in _COMBINED_KINDS:
                        limit = COMBINED_MAX_BYTES
                    handle.seek(0)
            if room is not None and size <= limit and size > room:
                raise NoRoom(name)
            # Size first: read(limit + 1) would set aside the whole limit for every file.
            raw = b"" if size > limit else handle.read(limit + 1)
    except OSError as exc:
        raise DocumentError(name, f"cannot be read: {exc.strerror or exc}") from None
    if size > limit or len(raw) > limit:
        raise BrokenJSONError(
            name,
            f"larger than the {limit // (1024 * 1024)} MiB readiness reads "
            f"({_mib(max(size, len(raw)))}); it was not read",
            "check that this is a readiness document; split the run if it really is one",
        )
    return raw


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


def parse_json(name: str, raw: bytes) -> Dict[str, Any]:
    """Parse the bytes of a readiness JSON file named `name`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BrokenJSONError(name, f"not UTF-8 text (byte {exc.start})", _REWRITE) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BrokenJSONError(
            name, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", _REWRITE
        ) from None
    except _DuplicateKey as exc:
        raise BrokenJSONError(name, f"the key {exc.args[0]!r} appears twice in one object", _REWRITE) from None
    except _BadConstant as exc:
        raise BrokenJSONError(name, f"{exc.args[0]} is not a JSON number", _REWRITE) from None
    except RecursionError:
        raise BrokenJSONError(name, "nested too deeply to read", _REWRITE) from None
    if not isinstance(data, dict):
        raise SchemaError(name, "$", "the document must be a JSON object", _REWRITE)
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(name, data)
    return data


_REWRITE = "regenerate it by running the checks again, or replace the file"
# UTF-8 cannot carry a lone UTF-16 surrogate, but a JSON escape can (`"\ud800"`); such a string
# is no text and could not be written again. Only a file with such an escape is searched.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(name: str, data: Any) -> None:
    stack: List[Tuple[str, Any]] = [("$", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _LONE_SURROGATE.search(key):
                    raise BrokenJSONError(name, f"a key of {where} holds a lone UTF-16 surrogate, not text", _REWRITE)
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str) and _LONE_SURROGATE.search(value):
            raise BrokenJSONError(name, f"field {where} holds a lone UTF-16 surrogate, not text", _REWRITE)


class _DuplicateKey(ValueError):
    pass


class _BadConstant(ValueError):
    pass


def _unique_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(text: str) -> Any:
    raise _BadConstant(text)


def validate(name: str, data: Dict[str, Any], expected_kind: Optional[str] = None) -> Tuple[str, int]:
    """Check kind, version and schema of a parsed readiness file; return (kind, version)."""
    kind = data.get("kind")
    if "kind" not in data:
        raise SchemaError(name, "$.kind", "missing: this is not a readiness file", _REWRITE)
    if kind not in KNOWN_KINDS:
        raise UnknownKindError(
            name, f"kind {kind!r} is not a readiness file kind", f"expected one of {', '.join(KNOWN_KINDS)}"
        )
    if expected_kind is not None and kind != expected_kind:
        raise UnknownKindError(name, f"is a {kind} file, not a {expected_kind} file", "pass the right file")
    version = data.get("schema")
    readable = READABLE_SCHEMAS.get(str(kind), ())
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        raise SchemaError(name, "$.schema", f"expected a schema version number, found {version!r}", _REWRITE)
    if version not in readable:
        newest = max(readable, default=0)
        fix = (
            "it was written by a newer readiness: upgrade readiness"
            if version > newest
            else "it was written by an older readiness: run the checks again to regenerate it"
        )
        raise SchemaVersionError(
            name, f"{kind} schema {version} is not readable here (readable: {readable})", fix
        )
    problem = schema.first_error(data, schema.shipped(str(kind).split("/")[1], int(version)))
    if problem is not None:
        where, what = problem
        raise SchemaError(name, where, what, _REWRITE)
    if kind == ENV_KIND:
        _check_unique_ids(name, data["checks"])
    _check_depth(name, data, str(kind))
    return str(kind), int(version)


def _check_depth(name: str, data: Dict[str, Any], kind: str) -> None:
    """Refuse a free-form value (evidence, coverage) nested more than MAX_DEPTH deep."""
    places: List[Tuple[str, Any]] = [("$.coverage", data.get("coverage"))]
    if kind == ENV_KIND:
        for index, check in enumerate(data["checks"]):
            places.extend((f"$.checks[{index}].evidence.{key}", value) for key, value in check["evidence"].items()
                          if isinstance(value, (dict, list)))
    elif kind == "readiness/baseline":
        places.extend((f"$.machines.{cell}", value) for cell, value in (data.get("machines") or {}).items())
    for where, value in places:
        if too_deep(value):
            raise SchemaError(
                name, where, f"nested more than {MAX_DEPTH} lists and objects deep",
                "record flatter evidence; readiness reads no deeper values",
            )


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when `value` nests more than `limit` lists and objects (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _check_unique_ids(name: str, checks: List[Dict[str, Any]]) -> None:
    seen: Dict[str, int] = {}
    for index, check in enumerate(checks):
        first = seen.setdefault(check["id"], index)
        if first != index:
            raise SchemaError(
                name,
                f"$.checks[{index}].id",
                f"duplicate check id {check['id']!r} (also $.checks[{first}])",
                "give each check its own id= in @pytest.mark.check",
            )
