"""The pytest plugin (the `pytest11` entry point): its options, the `check` marker and the
`evidence` fixture.

It stays passive unless `--readiness-out PATH` or `READINESS_OUT` is given: only then does it
register the recorder (`readiness.cell.recorder`), which records and writes the document. Under
pytest-xdist the workers attach each check's record to its reports and the controller alone
writes the document.

pytest imports this module in every run of every suite where readiness is installed, so it
imports nothing of readiness itself but its error classes: the recorder when the run records, the evidence when a
check asks for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The one module of readiness imported up front (a few lines, no imports of its own): every
# error class the lazily imported modules raise is this module's, even when a host re-imports
# them (pytester's in-process runs drop the modules a run imported, and the next run imports
# them afresh), so `except ReadinessError` below always matches.
from readiness.model.errors import ReadinessError

if TYPE_CHECKING:
    from readiness.cell.evidence import Evidence

# pytest finds the fixture by its name in this module; `Evidence` is its type, for annotations.
__all__ = ["Evidence", "evidence", "pytest_addoption", "pytest_configure"]

MARKER_HELP = (
    "check(id=None, title=None, category=None, severity='major', platforms=None): "
    "a readiness check; platforms limits it to 'linux', 'windows' and/or 'macos' "
    "(or sys.platform's 'win32', 'darwin')"
)
RECORDER = "readiness-recorder"  # the name the recorder is registered under


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
    _import_without_assertion_rewriting(config)
    out = config.getoption("readiness_out") or os.environ.get("READINESS_OUT")
    if not out:
        return
    worker = hasattr(config, "workerinput")  # an xdist worker: it runs checks, the controller writes
    try:
        recorder = _worker_collector(config) if worker else _recorder(config, out)
    except ReadinessError as exc:
        raise pytest.UsageError(f"readiness: {exc}") from None
    # A module that fails to import is one `error` record and the other modules still run, as
    # with --continue-on-collection-errors; otherwise pytest would stop before running any check.
    config.option.continue_on_collection_errors = True
    config.pluginmanager.register(recorder, RECORDER)
    if config.pluginmanager.hasplugin("xdist") and not worker:
        from readiness.cell import xdist

        config.pluginmanager.register(xdist.XdistController(recorder), "readiness-xdist")


def _recorder(config: pytest.Config, out: str) -> Any:
    from readiness.cell.recorder import Recorder

    return Recorder(config, out)


def _worker_collector(config: pytest.Config) -> Any:
    """A worker writes no document: its collector alone, matching platforms as the controller's cell."""
    from readiness.cell import xdist
    from readiness.cell.collector import Collector

    cell_os = xdist.cell_os(config)
    if cell_os is None:  # a controller that did not say: this interpreter's cell, as the controller's
        from readiness.cell.envdoc import CellRun

        cell_os = CellRun.start().os
    return Collector(config, cell_os)


def _import_without_assertion_rewriting(config: pytest.Config) -> None:
    """Let readiness' modules import as any library's, not through pytest's assertion rewriting.

    pytest rewrites the asserts of every module of a plugin's distribution, and reads each one
    back from a cache of its own much more slowly than Python reads bytecode: about a third of
    what the plugin cost a run. The asserts here guard readiness' own invariants; no check's
    failure message comes from them. Best effort: where pytest keeps its marks differs between
    versions, and anything unexpected leaves rewriting as it was.
    """
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if not isinstance(marked, set):
        return
    ours = {name for name in marked if name == "readiness" or name.startswith("readiness.")}
    marked.difference_update(ours)
    decided = getattr(hook, "_marked_for_rewrite_cache", None)
    if ours and isinstance(decided, dict):
        for name in [name for name in decided if name == "readiness" or name.startswith("readiness.")]:
            del decided[name]


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record facts and measurements for the readiness env document of this cell."""
    from readiness.cell.evidence import Evidence

    record = Evidence(Path(str(request.config.rootpath)))
    recorder = request.config.pluginmanager.get_plugin(RECORDER)
    if recorder is not None:  # without one the plugin records nothing, and the evidence goes nowhere
        recorder.evidence[request.node.nodeid] = record
    return record


def __getattr__(name: str) -> Any:
    """`Evidence`, imported when asked for (PEP 562)."""
    if name == "Evidence":
        from readiness.cell.evidence import Evidence

        return Evidence
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
