"""The pytest plugin: check markers, the `evidence` fixture, and the env document of a cell.

It is registered through the `pytest11` entry point and stays passive unless
`--readiness-out PATH` or `READINESS_OUT` is given: only then does it record and write.
Under pytest-xdist the workers attach each check's record to its reports and the controller
alone writes the document.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, MutableMapping, Optional, Set

import pytest

from readiness.cell import fingerprint, target
from readiness.cell.redact import Redactor
from readiness.model import document, ids
from readiness.model.document import CellState, CheckRecord, EnvDocument, Measurement, Outcome, Severity
from readiness.model.errors import ReadinessError
from readiness.model.output import write_text

PLATFORMS = ("linux", "windows", "macos")
MARKER_HELP = (
    "check(id=None, title=None, category=None, severity='major', platforms=None): "
    "a readiness check; platforms limits it to 'linux', 'windows' and/or 'macos'"
)
_RECORDER = "readiness-recorder"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness", "readiness: record check results for a verdict")
    group.addoption(
        "--readiness-out",
        dest="readiness_out",
        metavar="PATH",
        default=None,
        help="write this cell's env document: into a folder as <cell>.json, or to a .json path "
        "(default: $READINESS_OUT; without either the plugin records nothing)",
    )
    group.addoption(
        "--readiness-target",
        dest="readiness_target",
        metavar="DIST",
        default=None,
        help="distribution name of the project under check (default: $READINESS_TARGET)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    out = config.getoption("readiness_out") or os.environ.get("READINESS_OUT")
    if not out:
        return
    try:
        recorder = Recorder(config, out)
    except ReadinessError as exc:
        raise pytest.UsageError(f"readiness: {exc}") from None
    config.pluginmanager.register(recorder, _RECORDER)
    if config.pluginmanager.hasplugin("xdist") and not _is_worker(config):
        config.pluginmanager.register(_XdistController(recorder), "readiness-xdist")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


# --- the evidence fixture -------------------------------------------------------------


class Evidence(MutableMapping[str, Any]):
    """Facts and measurements a check records about what it saw.

    `evidence["secret_key_length"] = 69` records a JSON-safe fact (nested lists and dicts are
    fine); `evidence.measure("startup_s", samples, unit="s")` records repeated samples.
    """

    def __init__(self) -> None:
        self._facts: Dict[str, Any] = {}
        self.measurements: Dict[str, Measurement] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"evidence keys must be strings, not {type(key).__name__}")
        self._facts[key] = json_safe(value, f"evidence[{key!r}]")

    def __getitem__(self, key: str) -> Any:
        return self._facts[key]

    def __delitem__(self, key: str) -> None:
        del self._facts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)

    def measure(self, name: str, samples: Iterable[float], unit: str = "s") -> None:
        """Record repeated samples of one quantity, with the machine's load at this moment."""
        values = [float(s) for s in samples]
        if not values:
            raise ValueError(f"measurement {name!r} needs at least one sample")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"measurement {name!r} has a sample that is not a finite number")
        self.measurements[name] = Measurement(unit=unit, samples=values, load=_load_average())

    def facts(self) -> Dict[str, Any]:
        return dict(self._facts)


def json_safe(value: Any, where: str, depth: int = 1) -> Any:
    """`value` as plain JSON data (tuples become lists), or TypeError naming where it failed.

    Lists and dicts nest at most `document.MAX_DEPTH` deep: readers refuse deeper evidence.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value}, which JSON cannot hold")
        return value
    if isinstance(value, (list, tuple, dict)) and depth > document.MAX_DEPTH:
        raise TypeError(f"{where} nests more than {document.MAX_DEPTH} lists and dicts deep; record flatter evidence")
    if isinstance(value, (list, tuple)):
        return [json_safe(item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where} has a key that is not a string")
        return {k: json_safe(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}
    raise TypeError(
        f"{where} is a {type(value).__name__}; evidence holds str, int, float, bool, None, "
        "and lists or dicts of those"
    )


def _load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record facts and measurements for the readiness env document of this cell."""
    record = Evidence()
    recorder = request.config.pluginmanager.get_plugin(_RECORDER)
    if recorder is not None:
        recorder.evidence[request.node.nodeid] = record
    return record


# --- check metadata -------------------------------------------------------------------


def check_info(item: pytest.Item, cell_os: str) -> Dict[str, Any]:
    """The marker's fields for one item, defaults filled, validated; raises UsageError."""
    fields: Dict[str, Any] = {}
    for marker in item.iter_markers("check"):  # closest first: the test's own wins
        if marker.args:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.check takes keyword arguments only")
        for key, value in marker.kwargs.items():
            fields.setdefault(key, value)
    unknown = set(fields) - {"id", "title", "category", "severity", "platforms"}
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.check has no argument {sorted(unknown)[0]!r} "
            "(it takes id, title, category, severity, platforms)"
        )
    severity = fields.get("severity", Severity.MAJOR.value)
    if severity not in {s.value for s in Severity}:
        raise pytest.UsageError(
            f"{item.nodeid}: severity={severity!r} is not one of critical, major, minor, info"
        )
    platforms = fields.get("platforms")
    if platforms is not None:
        platforms = [platforms] if isinstance(platforms, str) else list(platforms)
        bad = [p for p in platforms if p not in PLATFORMS]
        if bad:
            raise pytest.UsageError(
                f"{item.nodeid}: platforms={bad[0]!r} is not one of {', '.join(PLATFORMS)}"
            )
    check_id = fields.get("id") or item.nodeid
    if fields.get("id"):
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            check_id = f"{check_id}[{callspec.id}]"
    return {
        "id": str(check_id),
        "nodeid": item.nodeid,
        "title": str(fields.get("title") or _docstring_title(item) or item.name),
        "category": str(fields.get("category") or "general"),
        "severity": severity,
        "platforms": platforms,
        "applicable": platforms is None or cell_os in platforms,
    }


def _docstring_title(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _check_unique(infos: Iterable[Dict[str, Any]]) -> None:
    seen: Dict[str, str] = {}
    for info in infos:
        other = seen.setdefault(info["id"], info["nodeid"])
        if other != info["nodeid"]:
            raise pytest.UsageError(
                f"readiness: check id {info['id']!r} is used by both {other} and "
                f"{info['nodeid']}; give each its own id= in @pytest.mark.check"
            )


# --- recording ------------------------------------------------------------------------


class _Tally:
    """The reports of one check, folded into its record as they arrive."""

    def __init__(self, info: Dict[str, Any]) -> None:
        self.info = info
        self.outcome: Optional[Outcome] = None
        self.attempts = 0
        self.duration = 0.0
        self.message: Optional[str] = None
        self.longrepr: Optional[str] = None
        self.first_failure: Optional[str] = None
        self.evidence: Dict[str, Any] = {}
        self.measurements: Dict[str, Any] = {}

    def add(self, report: pytest.TestReport, redactor: Redactor) -> None:
        self.duration += float(getattr(report, "duration", 0.0) or 0.0)
        attached = getattr(report, "readiness", None)
        if isinstance(attached, dict):
            self.evidence = attached.get("evidence", self.evidence)
            self.measurements = attached.get("measurements", self.measurements)
        if str(report.outcome) == "rerun":  # pytest-rerunfailures' own outcome
            self.attempts += 1
            if self.first_failure is None:
                self.first_failure = _bounded(redactor.text(report.longreprtext), document.LONGREPR_LIMIT)
            return
        if report.when in ("call", "???") or (report.when == "setup" and not report.passed):
            self.attempts += 1
        outcome = _phase_outcome(report, self.info)
        if outcome is not None and (self.outcome is None or outcome.rank < self.outcome.rank):
            self.outcome = outcome
            self.message = _message(report, outcome, self.info)
            self.longrepr = _longrepr(report, redactor) if outcome.rank <= Outcome.XPASSED.rank else None

    def record(self, redactor: Redactor) -> CheckRecord:
        outcome = self.outcome or Outcome.SKIPPED
        message = self.message
        if self.outcome is None:
            message = "did not run: the session stopped before this check"
        elif outcome is Outcome.PASSED and self.first_failure is not None:
            outcome = Outcome.FLAKY
            message = f"passed on attempt {self.attempts} after failing first"
        measurements = {
            name: Measurement(m["unit"], m["samples"], m.get("load"))
            for name, m in self.measurements.items()
        }
        return CheckRecord(
            id=self.info["id"],
            outcome=outcome,
            nodeid=self.info["nodeid"],
            title=redactor.text(self.info["title"]),
            category=self.info["category"],
            severity=Severity(self.info["severity"]),
            platforms=self.info["platforms"],
            attempts=self.attempts,
            duration_s=round(self.duration, 6),
            message=None if message is None else _bounded(redactor.text(message), document.MESSAGE_LIMIT),
            longrepr=self.longrepr,
            first_failure=self.first_failure,
            evidence=self.evidence,
            measurements=measurements,
        )


def _phase_outcome(report: pytest.TestReport, info: Dict[str, Any]) -> Optional[Outcome]:
    xfail = hasattr(report, "wasxfail")
    if str(report.when) == "???":  # pytest-xdist: the worker died while running this check
        return Outcome.ERROR
    if report.when in ("setup", "teardown"):
        if report.failed:
            return Outcome.ERROR
        if report.skipped:
            if xfail:
                return Outcome.XFAILED
            return Outcome.SKIPPED if info["applicable"] else Outcome.NOT_APPLICABLE
        return None
    if report.passed:
        return Outcome.XPASSED if xfail else Outcome.PASSED
    if report.skipped:
        return Outcome.XFAILED if xfail else Outcome.SKIPPED
    return Outcome.FAILED


def _message(report: pytest.TestReport, outcome: Outcome, info: Dict[str, Any]) -> Optional[str]:
    if outcome is Outcome.NOT_APPLICABLE:
        return f"not applicable: runs on {', '.join(info['platforms'] or [])} only"
    if hasattr(report, "wasxfail"):
        return f"expected failure: {report.wasxfail}" if report.wasxfail else "expected failure"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    if longrepr:
        text = str(longrepr).strip()
        return text.splitlines()[-1] if text else None
    return None


def _longrepr(report: pytest.TestReport, redactor: Redactor) -> Optional[str]:
    parts = [report.longreprtext] if report.longrepr else []
    for title, content in report.sections:
        parts.append(f"----- {title} -----\n{content}")
    text = "\n".join(parts).strip()
    return _bounded(redactor.text(text), document.LONGREPR_LIMIT) if text else None


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"\n... [{len(text) - limit} characters cut] ...\n"
    head = (limit - len(marker)) // 3
    tail = limit - len(marker) - head
    return text[:head] + marker + text[-tail:]


class Recorder:
    """Collects what the run did and writes the cell's env document at the end."""

    def __init__(self, config: pytest.Config, out: str) -> None:
        self.config = config
        self.redactor = Redactor.from_environment()
        self.fingerprint = fingerprint.fingerprint()
        self.cell_id = ids.cell_id(self.fingerprint)
        self.cell_os = "windows" if self.fingerprint["lane"] == "wine" else self.fingerprint["os"]
        self.run_id = fingerprint.run_id()
        self.path = _document_path(Path(config.invocation_params.dir), out, self.cell_id)
        self.started_at = ids.utc_now()
        self.started = time.monotonic()
        self.infos: Dict[str, Dict[str, Any]] = {}
        self.deselected: Set[str] = set()
        self.tallies: Dict[str, _Tally] = {}
        self.collect_errors: Dict[str, CheckRecord] = {}
        self.interrupted = False
        self.collect_folder: Optional[Path] = None
        self.evidence: Dict[str, Evidence] = {}
        self.is_worker = _is_worker(config)
        self.under_xdist = False
        self.written = ""
        self.progress = _Progress(os.environ.get("READINESS_PROGRESS"), self.cell_id)

    # Collection: in the process that collects (the only one, or each xdist worker).

    def pytest_deselected(self, items: List[pytest.Item]) -> None:
        for item in items:
            self.deselected.add(item.nodeid)
            self.infos[item.nodeid] = check_info(item, self.cell_os)

    @pytest.hookimpl(tryfirst=True)  # before xdist's worker announces its collection
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            info = self.infos[item.nodeid] = check_info(item, self.cell_os)
            if not info["applicable"]:
                platforms = ", ".join(info["platforms"])
                item.add_marker(pytest.mark.skip(reason=f"not applicable: runs on {platforms} only"))
        _check_unique(self.infos.values())
        self.progress.total = len(session.items)
        if _is_worker(self.config):
            folder = self.config.workerinput.get("readiness_collect_dir")  # type: ignore[attr-defined]
            if folder:
                self._share_collection(Path(folder))

    def _share_collection(self, folder: Path) -> None:
        worker = self.config.workerinput["workerid"]  # type: ignore[attr-defined]
        data = {"infos": self.infos, "deselected": sorted(self.deselected)}
        write_text(folder / f"{worker}.json", json.dumps(data))

    def _prepare(self, report: pytest.TestReport) -> None:
        """Redact the report and attach the check's evidence, where the check ran."""
        record = self.evidence.get(report.nodeid)
        if record is not None:
            # Evidence first: a value under a secret-looking key is learnt before the check's
            # captured output, which may print it, is redacted.
            report.readiness = {  # type: ignore[attr-defined]
                "evidence": self.redactor.mapping(record.facts()),
                "measurements": {k: m.to_dict() for k, m in record.measurements.items()},
            }
            if report.when == "teardown":
                del self.evidence[report.nodeid]
        self._redact_report(report)

    def _redact_object(self, obj: Any, depth: int = 0) -> Any:
        """Redact the strings inside pytest's failure representation, keeping its structure."""
        if isinstance(obj, str):
            return self.redactor.text(obj)
        if isinstance(obj, (list, tuple)):
            items = [self._redact_object(item, depth + 1) for item in obj]
            return items if isinstance(obj, list) else tuple(items)
        if depth < 12 and type(obj).__module__.startswith("_pytest") and hasattr(obj, "__dict__"):
            for name, value in vars(obj).items():
                if isinstance(value, (str, list, tuple)) or hasattr(value, "__dict__"):
                    object.__setattr__(obj, name, self._redact_object(value, depth + 1))
        return obj

    def _redact_report(self, report: pytest.TestReport) -> None:
        # What pytest prints (and so every log) gets the same redaction as the document.
        if report.longrepr is not None:
            report.longrepr = self._redact_object(report.longrepr)
        if report.sections:
            report.sections = [(title, self.redactor.text(body)) for title, body in report.sections]
        wasxfail = getattr(report, "wasxfail", None)
        if wasxfail:
            report.wasxfail = self.redactor.text(wasxfail)

    # Results: in the process that writes the document.

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and not _is_worker(self.config):
            self.collect_errors[report.nodeid] = CheckRecord(
                id=report.nodeid or "<collection>",
                outcome=Outcome.ERROR,
                nodeid=report.nodeid,
                title=f"collect {report.nodeid}",
                category="collection",
                severity=Severity.CRITICAL,
                attempts=1,
                message="collection failed: the checks in this module could not be loaded",
                longrepr=_bounded(self.redactor.text(report.longreprtext), document.LONGREPR_LIMIT),
            )

    @pytest.hookimpl(tryfirst=True)  # before pytest prints it and before xdist sends it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker or not self.under_xdist:
            self._prepare(report)
        if self.is_worker:
            return
        tally = self.tallies.get(report.nodeid)
        if tally is None:
            tally = self.tallies[report.nodeid] = _Tally(self._info(report.nodeid))
        tally.add(report, self.redactor)
        if str(report.when) in ("teardown", "???"):
            self.progress.finished(tally.outcome)

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if _is_worker(self.config):
            return
        records = self._records()
        state, reason = self._state(exitstatus, records)
        finished = ids.utc_now()
        doc = EnvDocument(
            run_id=self.run_id,
            cell_id=self.cell_id,
            fingerprint=self.fingerprint,
            state=state,
            reason=reason,
            started_at=self.started_at,
            finished_at=finished,
            duration_s=round(time.monotonic() - self.started, 3),
            target=target.describe(self.config.getoption("readiness_target")),
            installed=target.installed_packages(),
            collected=sorted(record.id for record in records),
            checks=sorted(records, key=lambda record: record.id),
        )
        document.dump(doc, self.path)
        self.progress.write(final=True)
        self.written = f"readiness: wrote {doc.cell_id} ({state.value}) to {self.path}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written:
            terminalreporter.write_line(self.written)

    def _records(self) -> List[CheckRecord]:
        records: Dict[str, CheckRecord] = {}
        for nodeid, info in sorted(self.infos.items()):
            if nodeid in self.deselected:
                records[info["id"]] = CheckRecord(
                    id=info["id"], outcome=Outcome.DESELECTED, nodeid=nodeid, title=info["title"],
                    category=info["category"], severity=Severity(info["severity"]),
                    platforms=info["platforms"], attempts=0,
                    message="deselected (-k, -m or a plugin)",
                )
            elif nodeid not in self.tallies:
                self.tallies[nodeid] = _Tally(info)
        for tally in self.tallies.values():
            record = tally.record(self.redactor)
            records[record.id] = record
        for record in self.collect_errors.values():
            records.setdefault(record.id, record)
        return list(records.values())

    def _state(self, exitstatus: int, records: List[CheckRecord]) -> tuple[CellState, Optional[str]]:
        unrun = sum(1 for r in records if r.attempts == 0 and r.outcome is Outcome.SKIPPED)
        if self.interrupted:
            return CellState.INTERRUPTED, f"interrupted (Ctrl-C); {unrun} check(s) did not run"
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            return CellState.CRASHED, "pytest stopped with an internal error"
        if exitstatus == pytest.ExitCode.USAGE_ERROR:
            return CellState.CRASHED, "pytest could not run the suite (usage error, exit 4): see the cell's log"
        if self.collect_errors:
            return CellState.INTERRUPTED, f"{len(self.collect_errors)} module(s) failed to collect"
        if unrun:
            return CellState.INTERRUPTED, f"the session stopped early; {unrun} check(s) did not run"
        return CellState.COMPLETE, None

    def _info(self, nodeid: str) -> Dict[str, Any]:
        if nodeid not in self.infos and self.collect_folder is not None:
            self.merge_worker_collection(self.collect_folder)
        return self.infos.get(nodeid) or _fallback_info(nodeid)

    def merge_worker_collection(self, folder: Path) -> None:
        # Each xdist worker wrote what it collected before running any check.
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            self.infos.update(data["infos"])
            self.deselected.update(data["deselected"])


def _fallback_info(nodeid: str) -> Dict[str, Any]:
    return {
        "id": nodeid, "nodeid": nodeid, "title": nodeid.rsplit("::", 1)[-1],
        "category": "general", "severity": Severity.MAJOR.value, "platforms": None,
        "applicable": True,
    }


def _document_path(base: Path, out: str, cell_id: str) -> Path:
    path = Path(out)
    if not path.is_absolute():
        path = base / path
    return path if path.suffix == ".json" else ids.cell_file(path, cell_id, ".json")


class _Progress:
    """A small file the live board reads while the cell runs: counts so far, updated often."""

    def __init__(self, path: Optional[str], cell_id: str) -> None:
        self.path = Path(path) if path else None
        self.cell_id = cell_id
        self.total = 0
        self.counts: Dict[str, int] = {}
        self.last_write = 0.0

    def finished(self, outcome: Optional[Outcome]) -> None:
        key = outcome.value if outcome is not None else "unknown"
        self.counts[key] = self.counts.get(key, 0) + 1
        if time.monotonic() - self.last_write > 0.25:
            self.write(final=False)

    def write(self, final: bool) -> None:
        if self.path is None:
            return
        self.last_write = time.monotonic()
        data = {
            "cell": self.cell_id, "total": self.total, "done": sum(self.counts.values()),
            "counts": self.counts, "final": final,
        }
        try:
            write_text(self.path, json.dumps(data))
        except OSError:
            pass  # the board is a convenience; the document is what counts


class _XdistController:
    """Hooks that exist only with pytest-xdist installed, on the controller."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def pytest_configure_node(self, node: Any) -> None:
        # Workers share what they collected through small files in a folder made for the run.
        if self.recorder.collect_folder is None:
            import tempfile

            self.recorder.collect_folder = Path(tempfile.mkdtemp(prefix="readiness-collect-"))
        self.recorder.under_xdist = True
        node.workerinput["readiness_collect_dir"] = str(self.recorder.collect_folder)

    def pytest_xdist_node_collection_finished(self, node: Any, ids: List[str]) -> None:
        self.recorder.progress.total = max(self.recorder.progress.total, len(ids))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        folder = self.recorder.collect_folder
        if folder is not None:
            import shutil

            self.recorder.merge_worker_collection(folder)
            shutil.rmtree(folder, ignore_errors=True)
