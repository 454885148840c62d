"""The recorder: the pytest hooks that follow one cell's run, check by check, and write its env
document when the session ends (on the xdist controller only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import pytest

from readiness.cell import envdoc, xdist
from readiness.cell.checkinfo import CheckInfo, check_info, check_unique
from readiness.cell.evidence import EVIDENCE_BY_NODE, Evidence
from readiness.cell.outcomes import CRASHED_PHASE, Tally, collection_error_record, deselected_record
from readiness.cell.progress import Progress
from readiness.cell.redact import Redactor
from readiness.cell.reports import attach_evidence, redact_report
from readiness.cell.sessionend import WORKER_INTERRUPT, Stop
from readiness.model import document
from readiness.model.document import CheckRecord


class Recorder:
    """Collects what the run did and writes the cell's env document at the end."""

    def __init__(self, config: pytest.Config, out: str) -> None:
        self.config = config
        self.redactor = Redactor.from_environment()
        self.cell = envdoc.CellRun.start()
        self.path = envdoc.document_path(Path(config.invocation_params.dir), out, self.cell.cell_id)
        self.infos: Dict[str, CheckInfo] = {}
        self.deselected: Set[str] = set()
        self.tallies: Dict[str, Tally] = {}
        self.collect_errors: Dict[str, CheckRecord] = {}
        self.stop = Stop()
        self.interrupted_workers: Set[str] = set()
        self.collect_folder: Optional[Path] = None
        self.evidence: Dict[str, Evidence] = {}
        config.stash[EVIDENCE_BY_NODE] = self.evidence
        self.is_worker = xdist.is_worker(config)
        self.under_xdist = False
        self.written = ""
        self.progress = Progress(os.environ.get("READINESS_PROGRESS"), self.cell.cell_id)

    # Collection: in the process that collects (the only one, or each xdist worker).

    def pytest_deselected(self, items: List[pytest.Item]) -> None:
        for item in items:
            self.deselected.add(item.nodeid)
            self.infos[item.nodeid] = check_info(item, self.cell.os)

    @pytest.hookimpl(tryfirst=True)  # before xdist's worker announces its collection
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            info = self.infos[item.nodeid] = check_info(item, self.cell.os)
            if not info.applicable:
                platforms = ", ".join(info.platforms or [])
                item.add_marker(pytest.mark.skip(reason=f"not applicable: runs on {platforms} only"))
        check_unique(self.infos.values())
        self.progress.total = len(session.items)
        if self.is_worker:
            xdist.share_collection(self.config, self.infos, self.deselected)

    # Results: in the process that writes the document.

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and not self.is_worker:
            self.collect_errors[report.nodeid] = collection_error_record(report, self.redactor)

    @pytest.hookimpl(tryfirst=True)  # before pytest prints it and before xdist sends it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker or not self.under_xdist:
            self._prepare(report)
        if self.is_worker:
            return
        tally = self.tallies.get(report.nodeid)
        if tally is None:
            tally = self.tallies[report.nodeid] = Tally(self._info(report.nodeid))
        if str(report.when) == CRASHED_PHASE and _worker_of(report) in self.interrupted_workers:
            tally.started = True  # interrupted while it ran: no result, not a crash
        else:
            tally.add(report, self.redactor)
        if str(report.when) in ("teardown", CRASHED_PHASE):
            self.progress.finished(tally.outcome)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.stop.keyboard_interrupt(excinfo.value)

    def pytest_internalerror(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.stop.internalerror(excinfo.value)

    def worker_down(self, worker: str, error: object) -> None:
        """An xdist worker went down; one that got a KeyboardInterrupt means the run was interrupted."""
        if error == WORKER_INTERRUPT:
            self.interrupted_workers.add(worker)
            self.stop.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            return
        end = self.stop.end(exitstatus, session)
        doc = envdoc.build(self.cell, self._records(end.unrun_reason), end, self.config.getoption("readiness_target"))
        document.dump(doc, self.path)
        self.progress.write(final=True)
        self.written = f"readiness: wrote {doc.cell_id} ({doc.state.value}) to {self.path}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written:
            terminalreporter.write_line(self.written)

    def merge_worker_collection(self, folder: Path) -> None:
        """Take in what the xdist workers wrote they collected, before running any check."""
        infos, deselected = xdist.read_collections(folder)
        self.infos.update(infos)
        self.deselected.update(deselected)

    def _prepare(self, report: pytest.TestReport) -> None:
        """Redact the report and attach the check's evidence, where the check ran."""
        record = self.evidence.get(report.nodeid)
        if record is not None:
            attach_evidence(report, record, self.redactor)
            if report.when == "teardown":
                del self.evidence[report.nodeid]
        redact_report(report, self.redactor)

    def _records(self, unrun_reason: str) -> List[CheckRecord]:
        """One record per check id: deselected, run (or never run: `unrun_reason`), or failed to collect."""
        records: Dict[str, CheckRecord] = {}
        for nodeid, info in sorted(self.infos.items()):
            if nodeid in self.deselected:
                records[info.id] = deselected_record(info)
            elif nodeid not in self.tallies:
                self.tallies[nodeid] = Tally(info)
        for tally in self.tallies.values():
            record = tally.record(self.redactor, unrun_reason)
            records[record.id] = record
        for record in self.collect_errors.values():
            records.setdefault(record.id, record)
        return list(records.values())

    def _info(self, nodeid: str) -> CheckInfo:
        if nodeid not in self.infos and self.collect_folder is not None:
            self.merge_worker_collection(self.collect_folder)
        return self.infos.get(nodeid) or CheckInfo.fallback(nodeid)


def _worker_of(report: pytest.TestReport) -> object:
    """The id of the xdist worker a crash report names (xdist sets `report.node`), if any."""
    return getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
