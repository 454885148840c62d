"""How a cell's run ends, end to end: a module that fails to import (an error record of a complete
cell), an interrupt (an `interrupted` cell whose unrun checks are `not_run`), a session stopped
early (-x, pytest.exit()); what the document and the verdict on it say. Serial and under xdist."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import read_document

from readiness import cli
from readiness.cell.sessionend import Stop, own_stop

pytest_plugins = ["pytester"]

MISSING = "ModuleNotFoundError: No module named 'nosuchmodule'"
SERIAL_AND_XDIST = pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])


def only_document(folder: Path) -> Dict[str, Any]:
    files = sorted(folder.glob("*.json"))
    assert len(files) == 1, files
    return read_document(files[0])


def by_id(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {check["id"]: check for check in doc["checks"]}


def verdict(folder: Path, capsys: pytest.CaptureFixture[str]) -> Dict[str, Any]:
    """`readiness verdict` on the documents in `folder`: its JSON, its exit code and what it printed.

    Under a policy (an empty one): with none at all every check would count as major."""
    policy(folder.parent)
    capsys.readouterr()
    code = cli.main(["verdict", str(folder), "--json", str(folder.parent / "verdict.json")])
    data: Dict[str, Any] = json.loads((folder.parent / "verdict.json").read_text(encoding="utf-8"))
    data["printed"] = capsys.readouterr().out
    assert code == data["exit_code"]
    return data


def policy(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.readiness]\n", encoding="utf-8")


def messages(data: Dict[str, Any], kind: str) -> List[str]:
    return [f["message"] for f in data["findings"] if f["kind"] == kind]


# --- a module that fails to import --------------------------------------------------------


@SERIAL_AND_XDIST
def test_a_module_that_fails_to_import_is_one_error_record_and_the_others_run(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], xdist: List[str]
) -> None:
    pytester.makepyfile(test_broken="import nosuchmodule\n\ndef test_never(): pass\n",
                        test_fine="def test_ok(): pass\ndef test_also(): pass\n")
    result = pytester.runpytest(*xdist, "--readiness-out", "out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # not "interrupted" (2): the session ran to its end
    doc = only_document(pytester.path / "out")
    assert (doc["state"], doc["reason"]) == ("complete", None)
    checks = by_id(doc)
    broken = checks["test_broken.py"]
    assert (broken["outcome"], broken["severity"], broken["category"]) == ("error", "critical", "collection")
    assert broken["message"] == f"collection failed: {MISSING}"
    assert MISSING in broken["longrepr"]
    assert {cid: c["outcome"] for cid, c in checks.items() if cid != "test_broken.py"} == {
        "test_fine.py::test_ok": "passed", "test_fine.py::test_also": "passed"}
    assert doc["summary"]["error"] == 1 and doc["summary"]["not_run"] == 0

    judged = verdict(pytester.path / "out", capsys)
    assert judged["state"] == "NO-GO"
    [reason] = [r["message"] for r in judged["reasons"]]
    assert reason.startswith("test_broken.py (collection, critical) errored in ")
    assert reason.endswith(f": collection failed: {MISSING}")
    assert not messages(judged, "cell-state")
    assert MISSING in judged["printed"]


def test_the_import_error_is_in_every_output(pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    pytester.makepyfile(test_broken="import nosuchmodule\n", test_fine="def test_ok(): pass\n")
    pytester.runpytest("--readiness-out", "out")
    capsys.readouterr()
    assert cli.main(["report", "out", "--format", "terminal", "-o", "-"]) == 1
    assert MISSING in capsys.readouterr().out
    formats = [f for name in ("md", "html", "junit", "ctrf", "json") for f in ("--format", name)]
    assert cli.main(["report", "out", *formats, "-o", "report"]) == 1
    written = sorted(p.relative_to(pytester.path / "report").as_posix()
                     for p in (pytester.path / "report").rglob("*") if p.is_file())
    assert len(written) == 6, written
    for name in written:
        assert MISSING in (pytester.path / "report" / name).read_text(encoding="utf-8"), name


# --- an interrupt -------------------------------------------------------------------------

INTERRUPTED_SUITE = """
import os, signal, sys, pytest

def test_a_first(): pass

def test_b_interrupts():
    if sys.platform == "win32":
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)  # an ignored SIGINT may be inherited
    os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does to the process
    raise AssertionError("the interrupt did not arrive")

def test_c_after(): pass
"""


def test_an_interrupt_keeps_what_ran_and_marks_the_rest_not_run(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makepyfile(test_suite=INTERRUPTED_SUITE)
    result = pytester.runpytest_subprocess("--readiness-out", "out")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    doc = only_document(pytester.path / "out")
    assert (doc["state"], doc["reason"]) == ("interrupted", "interrupted (Ctrl-C or SIGINT); 2 check(s) did not run")
    checks = by_id(doc)
    assert checks["test_suite.py::test_a_first"]["outcome"] == "passed"
    running = checks["test_suite.py::test_b_interrupts"]
    assert (running["outcome"], running["message"]) == ("not_run", "interrupted while it ran")
    after = checks["test_suite.py::test_c_after"]
    assert (after["outcome"], after["attempts"], after["message"]) == ("not_run", 0, "interrupted")
    assert (doc["summary"]["not_run"], doc["summary"]["skipped"]) == (2, 0)

    judged = verdict(pytester.path / "out", capsys)
    assert judged["state"] == "INCOMPLETE"
    assert any(m.startswith("test_suite.py::test_c_after (general, major) was collected but not run in ")
               and m.endswith(": interrupted") for m in messages(judged, "not_run"))
    assert not [r for r in judged["findings"] if r["effect"] == "no-go"]


def test_an_interrupted_xdist_worker_is_an_interrupt_not_a_crash(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite="def test_a_first(): pass\ndef test_b_interrupts():\n    raise KeyboardInterrupt\n")
    pytester.runpytest("-n", "2", "--readiness-out", "out")
    doc = only_document(pytester.path / "out")
    assert doc["state"] == "interrupted" and doc["reason"].startswith("interrupted (Ctrl-C or SIGINT)")
    running = by_id(doc)["test_suite.py::test_b_interrupts"]
    assert (running["outcome"], running["message"]) == ("not_run", "interrupted while it ran")
    assert doc["summary"]["error"] == 0 and doc["summary"]["skipped"] == 0


# --- a session stopped early on purpose ----------------------------------------------------


@SERIAL_AND_XDIST
def test_stopping_at_the_first_failure_leaves_the_rest_not_run(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], xdist: List[str]
) -> None:
    pytester.makepyfile(test_suite="""
import pytest
@pytest.mark.check(severity="minor")
def test_a():
    assert 0
def test_b(): pass
""")
    # Under xdist one worker runs the file (loadfile), so test_b waits behind test_a.
    pytester.runpytest(*xdist, *(["--dist", "loadfile"] if xdist else []), "-x", "--readiness-out", "out")
    doc = only_document(pytester.path / "out")
    stop = "stopping after 1 failures"
    assert doc["state"] == "interrupted"
    assert doc["reason"] == f"the session stopped early ({stop}); 1 check(s) did not run"
    unrun = by_id(doc)["test_suite.py::test_b"]
    assert (unrun["outcome"], unrun["attempts"], unrun["message"]) == (
        "not_run", 0, f"the session stopped early ({stop})")

    judged = verdict(pytester.path / "out", capsys)
    assert judged["state"] == "INCOMPLETE"  # the failure is minor: what is missing decides
    assert any(m.endswith(f"was collected but not run in {doc['cell']['id']}: the session stopped early ({stop})")
               for m in messages(judged, "not_run"))


def test_pytest_exit_stops_the_session_early(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite="import pytest\ndef test_a():\n    pytest.exit('enough')\ndef test_b(): pass\n")
    pytester.runpytest("--readiness-out", "out")
    doc = only_document(pytester.path / "out")
    assert (doc["state"], doc["reason"]) == (
        "interrupted", "the session stopped early (pytest.exit(): enough); 2 check(s) did not run")
    assert {c["outcome"] for c in doc["checks"]} == {"not_run"}


# --- telling an interrupt from pytest's own stops -------------------------------------------


class _XdistInterrupted(KeyboardInterrupt):
    """Stands in for xdist.dsession.Interrupted: same name, same module."""


_XdistInterrupted.__name__ = "Interrupted"
_XdistInterrupted.__module__ = "xdist.dsession"


@pytest.mark.parametrize(
    ("value", "interrupted", "stopped"),
    [
        (KeyboardInterrupt(), True, None),
        (pytest.Session.Interrupted("1 error during collection"), False, "1 error during collection"),
        (_XdistInterrupted("stopping after 1 failures"), False, "stopping after 1 failures"),
        (_XdistInterrupted("<WorkerController gw0> received keyboard-interrupt"), True, None),
    ],
)
def test_an_interrupt_is_told_from_pytests_own_stops(value: BaseException, interrupted: bool,
                                                     stopped: Any) -> None:
    stop = Stop()
    stop.keyboard_interrupt(value)
    assert (stop.interrupted, stop.stopped) == (interrupted, stopped)
    assert (own_stop(value) is None) is interrupted


@pytest.mark.parametrize(
    "value", [KeyboardInterrupt(), AssertionError("worker gw1:\nTraceback ...\nE   KeyboardInterrupt\n")],
    ids=["here", "in-an-xdist-worker"],
)
def test_an_interrupt_that_surfaces_as_an_internal_error_is_still_an_interrupt(value: BaseException) -> None:
    stop = Stop()
    stop.internalerror(value)
    assert stop.interrupted and stop.internal_error is None


def test_an_internal_error_keeps_its_first_line() -> None:
    crash = Stop()
    crash.internalerror(RuntimeError("boom\nmore"))
    assert (crash.interrupted, crash.internal_error) == (False, "RuntimeError: boom")


@pytest.mark.skipif(sys.platform == "win32", reason="hook order only")
def test_an_internal_error_is_a_crashed_cell_with_its_line_and_not_run_checks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
def pytest_runtest_logfinish(nodeid):
    if nodeid.endswith("test_a"):
        raise RuntimeError("plugin broke")
""")
    pytester.makepyfile(test_suite="def test_a(): pass\ndef test_b(): pass\n")
    result = pytester.runpytest("--readiness-out", "out")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    doc = only_document(pytester.path / "out")
    assert doc["state"] == "crashed"
    assert doc["reason"] == "pytest stopped with an internal error: RuntimeError: plugin broke; 1 check(s) did not run"
    unrun = by_id(doc)["test_suite.py::test_b"]
    assert (unrun["outcome"], unrun["message"]) == (
        "not_run", "the cell crashed (pytest stopped with an internal error: RuntimeError: plugin broke)")
