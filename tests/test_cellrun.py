"""The cell wrapper: whatever pytest does, the cell ends with a document that says what happened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

SUITE = """
import os, time
import pytest

def test_ok():
    pass

def test_fault():
    fault = os.environ.get("FAULT", "")
    if fault == "abort":
        os.abort()
    if fault == "hang":
        time.sleep(600)
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
