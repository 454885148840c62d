"""The recorder: the pytest hooks that follow one cell's run, check by check, and write its env
document when the session ends (serial, or on the xdist controller; the workers register the
`Collector` alone)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from readiness.cell import envdoc, xdist
from readiness.cell.checkinfo import CheckInfo
from readiness.cell.collector import Collector
from readiness.cell.outcomes import CRASHED_PHASE, Tally, collection_error_record, deselected_record
from readiness.cell.progress import Progress
from readiness.cell.sessionend import WORKER_INTERRUPT, Stop
from readiness.model import document
from readiness.model.document import CheckRecord


class Recorder(Collector):
    """Collects what the run did and writes the cell's env document at the end."""

    def __init__(self, config: pytest.Config, out: str) -> None:
        self.cell = envdoc.CellRun.start()
        super().__init__(config, self.cell.os)
        self.path = envdoc.document_path(Path(config.invocation_params.dir), out, self.cell.cell_id)
        self.tallies: Dict[str, Tally] = {}
        self.collect_errors: Dict[str, CheckRecord] = {}
        self.stop = Stop()
        self.interrupted_workers: Set[str] = set()
        self.collect_folder: Optional[Path] = None
        self.collections_read: Dict[str, Tuple[int, int]] = {}  # the xdist workers' files, as read
        self.under_xdist = False
        self.written = ""
        self.progress = Progress(os.environ.get("READINESS_PROGRESS"), self.cell.cell_id)

    @pytest.hookimpl(tryfirst=True)  # as the collector's
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        super().pytest_collection_finish(session)
        self.progress.total = len(session.items)

    # Results: in the process that writes the document.

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors[report.nodeid] = collection_error_record(report, self.redactor)

    @pytest.hookimpl(tryfirst=True)  # before pytest prints it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid  # computed anew on each access in pytest 9: read once
        if not self.under_xdist:  # under xdist the worker that ran the check prepared it
            self.prepare(report, nodeid)
        tally = self.tallies.get(nodeid)
        if tally is None:
            tally = self.tallies[nodeid] = Tally(self._info(nodeid))
        when = report.when
        if when == CRASHED_PHASE and _worker_of(report) in self.interrupted_workers:
            tally.started = True  # interrupted while it ran: no result, not a crash
        else:
            tally.add(report, self.redactor)
        if when == "teardown" or when == CRASHED_PHASE:
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
        infos, deselected = xdist.read_collections(folder, self.collections_read)
        self.infos.update(infos)
        self.deselected.update(deselected)

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
