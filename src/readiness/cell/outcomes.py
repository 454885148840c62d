"""Folding pytest's reports into one check record: the worst phase decides the outcome, a pass
after a pytest-rerunfailures retry is `flaky`, a crashed xdist worker's check is an `error`, a
collected check that never ran is `not_run` with the reason; and the records of a deselected
check and of a module that failed to import."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from readiness.cell.checkinfo import CheckInfo
from readiness.cell.redact import Redactor
from readiness.cell.sessionend import last_line
from readiness.model.document import LONGREPR_LIMIT, MESSAGE_LIMIT, CheckRecord, Measurement, Outcome, Severity

# pytest-xdist reports a check whose worker died while running it in this phase.
CRASHED_PHASE = "???"
_SEVERITY = {severity.value: severity for severity in Severity}  # a check info's severity, as the document's


class Tally:
    """The reports of one check, folded into its record as they arrive."""

    def __init__(self, info: CheckInfo) -> None:
        self.info = info
        self.outcome: Optional[Outcome] = None
        self.attempts = 0
        self.duration = 0.0
        self.message: Optional[str] = None
        self.longrepr: Optional[str] = None
        self.first_failure: Optional[str] = None
        self.evidence: Dict[str, Any] = {}
        self.measurements: Dict[str, Any] = {}
        self.started = False  # a report of it arrived: it began, whether or not it finished
        self.parts_skipped: List[str] = []  # why each of its subtests that skipped did

    def add(self, report: pytest.TestReport, redactor: Redactor) -> None:
        self.started = True
        self.duration += float(getattr(report, "duration", 0.0) or 0.0)
        attached = getattr(report, "readiness", None)
        if isinstance(attached, dict):
            self.evidence = attached.get("evidence", self.evidence)
            self.measurements = attached.get("measurements", self.measurements)
        result, when = str(report.outcome), report.when
        if _is_subtest(report) and result != "failed":  # a part of the check, not a run of it
            if result == "skipped":
                self.parts_skipped.append(_skip_reason(report))
            return
        if result == "rerun":  # pytest-rerunfailures' own outcome
            self.attempts += 1
            if self.first_failure is None:
                self.first_failure = bounded(redactor.text(report.longreprtext), LONGREPR_LIMIT)
            return
        if result == "passed" and (when == "setup" or when == "teardown"):
            return  # most reports: a phase around the check that passed says nothing of it
        if (when in ("call", CRASHED_PHASE) or (when == "setup" and not report.passed)) and not _is_subtest(report):
            self.attempts += 1
        if result == "passed" and when == "call" and self.outcome is None and _plain_pass(report):
            self.outcome = Outcome.PASSED  # what phase_outcome says, and no message or longrepr
            return
        outcome = phase_outcome(report, self.info)
        if outcome is not None and (self.outcome is None or outcome.rank < self.outcome.rank):
            self.outcome = outcome
            self.message = _message(report, outcome, self.info)
            self.longrepr = _longrepr(report, redactor) if outcome.rank <= Outcome.XPASSED.rank else None

    def record(self, redactor: Redactor, unrun_reason: str) -> CheckRecord:
        """Its record; with no outcome (never run, or never finished) `not_run` with `unrun_reason`."""
        outcome = self.outcome or Outcome.NOT_RUN
        message = self.message
        if self.outcome is None:
            message = f"{unrun_reason} while it ran" if self.started else unrun_reason
        elif outcome is Outcome.PASSED and self.first_failure is not None:
            outcome = Outcome.FLAKY
            message = f"passed on attempt {self.attempts} after failing first"
        elif outcome is Outcome.PASSED and self.parts_skipped:
            message = f"passed; {len(self.parts_skipped)} subtest(s) skipped: {self.parts_skipped[0]}"
        return CheckRecord(
            id=self.info.id,
            outcome=outcome,
            nodeid=self.info.nodeid,
            title=redactor.text(self.info.title),
            category=self.info.category,
            severity=_SEVERITY[self.info.severity],
            platforms=self.info.platforms,
            attempts=self.attempts,
            duration_s=round(self.duration, 6),
            message=None if message is None else bounded(redactor.text(message), MESSAGE_LIMIT),
            longrepr=self.longrepr,
            first_failure=self.first_failure,
            evidence=self.evidence,
            measurements={name: Measurement.from_dict(m) for name, m in self.measurements.items()}
            if self.measurements else {},
        )


def _is_subtest(report: pytest.TestReport) -> bool:
    """A report of one subtest (pytest's own from 9, or pytest-subtests'): the check still runs on."""
    return type(report).__name__ in ("SubtestReport", "SubTestReport")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else "skipped"


def _plain_pass(report: pytest.TestReport) -> bool:
    """A call that passed with nothing to say: no expected failure, no failure text."""
    return report.longrepr is None and not hasattr(report, "wasxfail")


def phase_outcome(report: pytest.TestReport, info: CheckInfo) -> Optional[Outcome]:
    """What one phase (setup, call, teardown) says about the check; None: nothing to say."""
    xfail = hasattr(report, "wasxfail")
    if str(report.when) == CRASHED_PHASE:
        return Outcome.ERROR
    if report.when in ("setup", "teardown"):
        if report.failed:
            return Outcome.ERROR
        if report.skipped:
            if xfail:
                return Outcome.XFAILED
            return Outcome.SKIPPED if info.applicable else Outcome.NOT_APPLICABLE
        return None
    if report.passed:
        return Outcome.XPASSED if xfail else Outcome.PASSED
    if report.skipped:
        return Outcome.XFAILED if xfail else Outcome.SKIPPED
    return Outcome.FAILED


def _message(report: pytest.TestReport, outcome: Outcome, info: CheckInfo) -> Optional[str]:
    if outcome is Outcome.NOT_APPLICABLE:
        return f"not applicable: runs on {', '.join(info.platforms or [])} only"
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
    return bounded(redactor.text(text), LONGREPR_LIMIT) if text else None


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, keeping its head and its tail (where the error is)."""
    if len(text) <= limit:
        return text
    marker = f"\n... [{len(text) - limit} characters cut] ...\n"
    head = (limit - len(marker)) // 3
    tail = limit - len(marker) - head
    return text[:head] + marker + text[-tail:]


def deselected_record(info: CheckInfo) -> CheckRecord:
    """A check that `-k`, `-m` or a plugin left out of this run."""
    return CheckRecord(
        id=info.id, outcome=Outcome.DESELECTED, nodeid=info.nodeid, title=info.title,
        category=info.category, severity=_SEVERITY[info.severity], platforms=info.platforms, attempts=0,
        message="deselected (-k, -m or a plugin)",
    )


def collection_error_record(report: pytest.CollectReport, redactor: Redactor) -> CheckRecord:
    """A module that failed to import: one critical `error` under the module's id, its message
    the exception's own last line (`ModuleNotFoundError: No module named 'x'`)."""
    return CheckRecord(
        id=report.nodeid or "<collection>",
        outcome=Outcome.ERROR,
        nodeid=report.nodeid,
        title=f"collect {report.nodeid}",
        category="collection",
        severity=Severity.CRITICAL,
        attempts=1,
        message=bounded(redactor.text(f"collection failed: {_collection_error(report)}"), MESSAGE_LIMIT),
        longrepr=bounded(redactor.text(report.longreprtext), LONGREPR_LIMIT),
    )


def _collection_error(report: pytest.CollectReport) -> str:
    """The exception's last line (`Type: message`): pytest's crash line where it has one, else the
    last line of the text (an import failure is text ending in `E   Type: message`)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "").strip()
    line = message.splitlines()[0] if message else last_line(report.longreprtext)
    return line or "the checks in this module could not be loaded (see the cell's log)"
