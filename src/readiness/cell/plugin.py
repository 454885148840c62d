"""The pytest plugin (the `pytest11` entry point): its options, the `check` marker and the
`evidence` fixture.

It stays passive unless `--readiness-out PATH` or `READINESS_OUT` is given: only then does it
register the recorder (`readiness.cell.recorder`), which records and writes the document. Under
pytest-xdist the workers attach each check's record to its reports and the controller alone
writes the document.
"""

from __future__ import annotations

import os

import pytest

from readiness.cell import xdist
from readiness.cell.checkinfo import MARKER_HELP
from readiness.cell.evidence import Evidence, evidence
from readiness.cell.recorder import Recorder
from readiness.model.errors import ReadinessError

# pytest finds the fixture by its name in this module; `Evidence` is its type, for annotations.
__all__ = ["Evidence", "evidence", "pytest_addoption", "pytest_configure"]


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
    # A module that fails to import is one `error` record and the other modules still run, as
    # with --continue-on-collection-errors; otherwise pytest would stop before running any check.
    config.option.continue_on_collection_errors = True
    config.pluginmanager.register(recorder, "readiness-recorder")
    if config.pluginmanager.hasplugin("xdist") and not xdist.is_worker(config):
        config.pluginmanager.register(xdist.XdistController(recorder), "readiness-xdist")
