"""Where the checks run (the only process, or each xdist worker): each collected test read as a
check, and each report redacted with the check's evidence attached, before pytest prints it and
before xdist sends it to the controller.

An xdist worker registers this alone: it writes no document, so it imports nothing of what
the writer needs (`readiness.cell.recorder`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Set

import pytest

from readiness.cell import xdist
from readiness.cell.checkinfo import CheckInfo, check_info, check_unique
from readiness.cell.redact import Redactor
from readiness.cell.reports import attach_evidence, redact_report

if TYPE_CHECKING:
    from readiness.cell.evidence import Evidence


class Collector:
    """Reads the collected tests as checks and makes each report safe to print and to send."""

    def __init__(self, config: pytest.Config, cell_os: str) -> None:
        self.config = config
        self.cell_os = cell_os  # what a check's `platforms=` is matched against
        self.redactor = Redactor.from_environment()
        self.infos: Dict[str, CheckInfo] = {}
        self.deselected: Set[str] = set()
        self.evidence: Dict[str, Evidence] = {}  # the running check's, by node id (the fixture fills it)
        self.is_worker = xdist.is_worker(config)

    def pytest_deselected(self, items: List[pytest.Item]) -> None:
        for item in items:
            self.deselected.add(item.nodeid)
            self.infos[item.nodeid] = check_info(item, self.cell_os)

    @pytest.hookimpl(tryfirst=True)  # before xdist's worker announces its collection
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            info = self.infos[item.nodeid] = check_info(item, self.cell_os)
            if not info.applicable:
                platforms = ", ".join(info.platforms or [])
                item.add_marker(pytest.mark.skip(reason=f"not applicable: runs on {platforms} only"))
        check_unique(self.infos.values())
        if self.is_worker:
            xdist.share_collection(self.config, self.infos, self.deselected)

    @pytest.hookimpl(tryfirst=True)  # before pytest prints it and before xdist sends it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.prepare(report, report.nodeid)

    def prepare(self, report: pytest.TestReport, nodeid: str) -> None:
        """Redact the report and attach the check's evidence, where the check ran."""
        if self.evidence:  # most suites record none: no lookup per report
            record = self.evidence.get(nodeid)
            if record is not None:
                attach_evidence(report, record, self.redactor)
                if report.when == "teardown":
                    del self.evidence[nodeid]
        redact_report(report, self.redactor)
