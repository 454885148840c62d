"""The Windows lane for real: the demo's checks and readiness's own tests in Windows CPython under Wine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, read_document, require_tool

from readiness.platform import wine

pytestmark = pytest.mark.xdist_group("wine")
CELL = "windows-x86_64-wine-cpython3.11"


@pytest.fixture(scope="module")
def py311() -> wine.WinePython:
    require_tool("wine")
    return wine.provision("3.11")


def test_validate_runs_the_demo_checks_in_a_wine_cell_with_output_to_a_file(
    py311: wine.WinePython, tmp_path: Path
) -> None:
    run_id = f"wine-lane-{os.getpid()}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    output = tmp_path / "validate.out"
    with output.open("wb") as sink:  # as CI does: the caller's output is a file, not a pipe
        done = subprocess.run(
            [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "validate", "--",
             "--cells", CELL, "--run-id", run_id],
            cwd=ROOT, env=environ, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            timeout=1200, check=False,
        )
    text = output.read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, text[-4000:]
    doc = read_document(ROOT / "reports" / "runs" / run_id / "envs" / f"{CELL}.json")
    assert doc["state"] == "complete"
    fingerprint = doc["cell"]["fingerprint"]
    assert (fingerprint["os"], fingerprint["lane"]) == ("windows", "wine")
    checks = {c["id"]: c["outcome"] for c in doc["checks"]}
    assert checks["critical_fixes.windows_proactor_loop"] == "passed"  # applicable on Windows
    assert checks["integration.redis"] == "passed"  # the run's redis-server, over loopback
    assert "VERDICT: GO" in text


def test_readiness_own_tests_for_windows_code_paths_pass_under_wine(
    py311: wine.WinePython, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    # jsonschema is left out: its rpds extension does not load under Wine 8.0.
    wine.install_packages(py311, site, [str(ROOT), "pytest", "hypothesis<=6.170.0"])
    log = tmp_path / "wine-tests.log"
    code = wine.run(
        py311,
        ["-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_environment.py",
         "tests/test_redaction.py", "tests/test_cellrun.py", "tests/test_cli.py",
         "-k", "not planted_secrets"],
        wine.Launch(env={k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "COV", "CI"))},
                    cwd=ROOT, timeout=900, pythonpath=[site]),
        log_path=log,
    )
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, text[-4000:]
    assert " passed" in text and "failed" not in text.splitlines()[-1]
