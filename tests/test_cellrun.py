"""The cell wrapper: whatever pytest does, the cell ends with a document that says what happened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

SUITE = """
import os, signal, time
import pytest

if os.environ.get("FAULT") == "import":
    import nosuchmodule

def test_ok():
    pass

def test_fault():
    fault = os.environ.get("FAULT", "")
    if fault == "abort":
        os.abort()
    if fault == "hang":
        time.sleep(600)
    if fault == "interrupt":  # what Ctrl-C does to pytest's process
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)
"""


def run_cell(tmp_path: Path, fault: str, *extra: str) -> Dict[str, object]:
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("READINESS_", "COV"))}
    env.update(FAULT=fault, READINESS_RUN_ID="cellrun-test")
    done = subprocess.run(
        [sys.executable, "-m", "readiness.run.cellrun", "--out", str(tmp_path / "envs"),
         "--log-dir", str(tmp_path / "logs"), *extra, "--", "test_suite.py", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False,
    )
    (doc,) = sorted((tmp_path / "envs").glob("*.json"))
    data = json.loads(doc.read_text(encoding="utf-8"))
    data["returncode"] = done.returncode
    assert (tmp_path / "logs" / f"{doc.stem}.log").is_file()
    return data


def test_a_normal_run_keeps_the_plugin_document(tmp_path: Path) -> None:
    doc = run_cell(tmp_path, "")
    assert (doc["state"], doc["returncode"]) == ("complete", 0)
    assert doc["summary"]["passed"] == 2


def test_a_crash_leaves_a_crashed_document_with_the_log_tail(tmp_path: Path) -> None:
    doc = run_cell(tmp_path, "abort")
    assert doc["state"] == "crashed"
    assert "without writing its document" in str(doc["reason"])
    assert "last lines of" in str(doc["reason"])


def test_a_hang_past_the_timeout_is_timed_out(tmp_path: Path) -> None:
    doc = run_cell(tmp_path, "hang", "--timeout", "8")
    assert (doc["state"], doc["returncode"]) == ("timed_out", 124)
    assert "timeout" in str(doc["reason"])


def test_a_stale_document_of_the_cell_is_replaced(tmp_path: Path) -> None:
    run_cell(tmp_path, "")
    doc = run_cell(tmp_path, "abort")
    assert doc["state"] == "crashed"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal names")
def test_the_signal_that_killed_pytest_is_named(tmp_path: Path) -> None:
    assert "SIGABRT" in str(run_cell(tmp_path, "abort")["reason"])


def test_a_module_that_fails_to_import_leaves_a_complete_cell(tmp_path: Path) -> None:
    doc = run_cell(tmp_path, "import")
    assert (doc["state"], doc["returncode"]) == ("complete", 1)
    [broken] = doc["checks"]  # type: ignore[misc]
    assert broken["message"] == "collection failed: ModuleNotFoundError: No module named 'nosuchmodule'"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX signal")
def test_an_interrupted_pytest_writes_an_interrupted_document(tmp_path: Path) -> None:
    doc = run_cell(tmp_path, "interrupt")
    assert (doc["state"], doc["returncode"]) == ("interrupted", 130)
    outcomes = {c["id"]: c["outcome"] for c in doc["checks"]}  # type: ignore[attr-defined]
    assert outcomes == {"test_suite.py::test_fault": "not_run", "test_suite.py::test_ok": "passed"}
