"""The env document: one cell's check results, its typed form, loading (through the strict reader,
`readiness.model.reader`) and atomic writing.

Schema versions of `readiness/env` (readers accept the current and the previous one):

1. First version: cell fingerprint, run id, target, installed packages, timing, state,
   collected check ids, per-check records with evidence and measurements, summary counts,
   and a reserved `coverage` field.
2. Outcome `not_run`: a check that was collected but never ran (the session was interrupted or
   stopped early, or the cell crashed), its `message` saying why; `summary` counts it. Readers
   take schema 1 documents as they are (they have no `not_run`). A measurement may say how its
   sampling went (`sampling`: samples taken, the maximum, why it stopped); optional, so documents
   without it read as before. A measurement may also hold a paired record (`paired`: the baseline
   ref and sha, every pair of a current and a baseline sample with their timestamps in the order
   taken, the interval of the median ratio current/baseline, why pairing stopped, and the error
   when the baseline could not be built in the cell); optional too.
"""

from __future__ import annotations

import enum
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from operator import countOf
from typing import Any, Dict, Iterable, List, Mapping, Optional, Type, TypeVar

from readiness import __version__
from readiness.model.output import PathLike, write_text
from readiness.model.reader import ENV_KIND, read_json, validate

SCHEMA_VERSION = 2
# The bounds of a check record's free text, in characters: longer text keeps its head and tail.
LONGREPR_LIMIT = 8000
MESSAGE_LIMIT = 1000


class Outcome(str, enum.Enum):
    """What one check did in one cell, declared worst first."""

    ERROR = "error"
    FAILED = "failed"
    FLAKY = "flaky"
    XPASSED = "xpassed"
    NOT_RUN = "not_run"  # collected, never ran (schema 2); never counted as skipped
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
    return min(outcomes, key=_OUTCOME_RANK.__getitem__, default=None)  # rank, looked up in C


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


_E = TypeVar("_E", bound=enum.Enum)
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_SEVERITIES = {severity.value: severity for severity in Severity}
# Each member's value, by member: `.value` is a property written in Python, and reports read it
# once per result.
OUTCOME_VALUES: Dict[Outcome, str] = {outcome: value for value, outcome in _OUTCOMES.items()}
SEVERITY_VALUES: Dict[Severity, str] = {severity: value for value, severity in _SEVERITIES.items()}


def _member(kind: Type[_E], members: Mapping[str, _E], value: Any) -> _E:
    """The member of `kind` with this value: one dict lookup (calling the enum is several)."""
    member = members.get(value) if type(value) is str else None
    return kind(value) if member is None else member


class CellState(str, enum.Enum):
    """How the cell's run ended; anything but `complete` means evidence is missing."""

    COMPLETE = "complete"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class Sampling:
    """How a measurement's samples were taken: how many, the most it could take, and why it stopped."""

    taken: int
    max: int
    reason: str

    def to_dict(self) -> Dict[str, Any]:
        return {"taken": self.taken, "max": self.max, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> Optional[Sampling]:
        return None if data is None else cls(int(data["taken"]), int(data["max"]), str(data["reason"]))


@dataclass(frozen=True)
class Pair:
    """One pair of a paired measurement: a current and a baseline sample (wall seconds), each with when
    it started (ISO 8601, UTC), which of the two ran first, and where the platform says (Linux) how
    many of each sample's seconds the process waited for a CPU that other processes held."""

    current: float
    baseline: float
    current_at: str
    baseline_at: str
    first: str = "current"  # or "baseline": pairs alternate A B / B A
    current_wait: Optional[float] = None
    baseline_wait: Optional[float] = None

    @property
    def ratio(self) -> float:
        """current / baseline, each less its wait for a CPU where both waits are known: the load of
        other processes on a shared machine is not the target's."""
        if self.current_wait is None or self.baseline_wait is None:
            return self.current / self.baseline
        return max(self.current - self.current_wait, 0.0) / (self.baseline - self.baseline_wait)

    def to_dict(self) -> Dict[str, Any]:
        return {"current": self.current, "baseline": self.baseline, "current_at": self.current_at,
                "baseline_at": self.baseline_at, "first": self.first,
                "current_wait": self.current_wait, "baseline_wait": self.baseline_wait}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pair:
        return cls(float(data["current"]), float(data["baseline"]), str(data["current_at"]),
                   str(data["baseline_at"]), str(data["first"]), _number(data.get("current_wait")),
                   _number(data.get("baseline_wait")))


@dataclass(frozen=True)
class RatioInterval:
    """The interval of the median ratio current/baseline over the pairs, and how it was computed."""

    lower: Optional[float]
    median: float
    upper: Optional[float]
    confidence: float
    method: str

    def to_dict(self) -> Dict[str, Any]:
        return {"lower": self.lower, "median": self.median, "upper": self.upper,
                "confidence": self.confidence, "method": self.method}

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> Optional[RatioInterval]:
        if data is None:
            return None
        return cls(_number(data["lower"]), float(data["median"]), _number(data["upper"]),
                   float(data["confidence"]), str(data["method"]))


@dataclass(frozen=True)
class Paired:
    """A measurement taken in pairs against the target at a baseline ref, in the same cell."""

    ref: str
    sha: str
    pairs: List[Pair]
    interval: Optional[RatioInterval]
    stopped: str  # why pairing stopped
    error: Optional[str] = None  # the baseline could not be built in this cell: no pairs

    def to_dict(self) -> Dict[str, Any]:
        return {"ref": self.ref, "sha": self.sha, "pairs": [p.to_dict() for p in self.pairs],
                "interval": None if self.interval is None else self.interval.to_dict(),
                "stopped": self.stopped, "error": self.error}

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> Optional[Paired]:
        if data is None:
            return None
        return cls(str(data["ref"]), str(data["sha"]), [Pair.from_dict(p) for p in data["pairs"]],
                   RatioInterval.from_dict(data["interval"]), str(data["stopped"]), data["error"])


def _floats(values: Any) -> List[float]:
    """Samples as floats: the list read itself when it holds floats only, so that the matrix and
    every report write its text once (model/jsontext.Memo)."""
    if type(values) is list and countOf(map(type, values), float) == len(values):  # no set made for each
        return values
    return list(map(float, values))


def _number(value: Any) -> Optional[float]:
    return None if value is None else float(value)


@dataclass
class Measurement:
    unit: str
    samples: List[float]  # of a paired measurement: the current side's samples
    load: Optional[float] = None
    sampling: Optional[Sampling] = None
    paired: Optional[Paired] = None

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"unit": self.unit, "samples": list(self.samples)}
        if self.load is not None:
            data["load"] = self.load
        if self.sampling is not None:
            data["sampling"] = self.sampling.to_dict()
        if self.paired is not None:
            data["paired"] = self.paired.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurement:
        if len(data) == 2:  # the unit and the samples alone, as most are: nothing else to look for
            return cls(data["unit"], _floats(data["samples"]))
        sampling = data.get("sampling")
        return cls(data["unit"], _floats(data["samples"]), data.get("load"),
                   None if sampling is None else Sampling.from_dict(sampling), Paired.from_dict(data.get("paired")))


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
        # Positional, with the enums looked up by value: a merge reads tens of thousands of these.
        return cls(
            data["id"], _member(Outcome, _OUTCOMES, data["outcome"]), data["nodeid"], data["title"],
            data["category"], _member(Severity, _SEVERITIES, data["severity"]), data["platforms"],
            int(data["attempts"]), float(data["duration_s"]), data["message"], data["longrepr"],
            data["first_failure"], data["evidence"],
            {name: Measurement.from_dict(m) for name, m in data["measurements"].items()},
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
        found = Counter(check.outcome for check in self.checks)
        return {value: found[outcome] for value, outcome in _OUTCOMES.items()}

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
    data = read_json(path, max_bytes=max_bytes)
    validate(os.fspath(path), data, ENV_KIND)
    return EnvDocument.from_dict(data)
