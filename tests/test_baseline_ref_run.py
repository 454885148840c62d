"""`nox -s validate -- --baseline-ref REF` end to end: the target at REF installed beside the current
one in the cell, a timed check measuring both in pairs, the verdict judging the change from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_validate import PYTHON, documents, make_project, validate

pytestmark = pytest.mark.xdist_group("nox")

# A startup check as a project writes one: the import of its target, timed in fresh processes,
# current and baseline in pairs when validate was given a ref.
STARTUP_CHECK = '''
import sys
import pytest

@pytest.mark.check(id="performance.startup", category="performance", severity="major")
def test_startup(evidence):
    evidence.sample_paired("startup_s", [sys.executable, "-c", "import tiny_target"], n=20)
'''
# A generous budget, so the unchanged target settles within a few pairs on a busy machine.
BUDGET = '\n[tool.readiness.budgets.startup_s]\nmax_increase_pct = 50.0\nunit = "s"\n'


def git(project: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=project,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def startup_project(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "p", [PYTHON], extra="wine = {enabled = false}\n" + BUDGET)
    (project / "checks" / "test_suite.py").unlink()
    (project / "checks" / "test_startup.py").write_text(STARTUP_CHECK, encoding="utf-8")
    (project / ".gitignore").write_text(".nox/\nreports/\n", encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "the target as released")
    return project


def test_an_unchanged_target_is_within_budget_and_a_slower_import_is_no_go(tmp_path: Path) -> None:
    project = startup_project(tmp_path)
    sha = git(project, "rev-parse", "HEAD")
    same = validate(project, "--baseline-ref", "HEAD")
    assert same.returncode == 0, same.stdout + same.stderr
    assert f"against HEAD {sha[:7]}" in same.stdout and "within +50 %" in same.stdout, same.stdout
    (project / "target" / "tiny_target.py").write_text("import time\ntime.sleep(0.3)\nVALUE = 1\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "a slower import")
    slower = validate(project, "--baseline-ref", "main~1")
    assert slower.returncode == 1, slower.stdout + slower.stderr
    blocking = slower.stdout.split("Blocking (NO-GO):", 1)[1].split("\n\n", 1)[0]
    assert "startup_s" in blocking and f"against main~1 {sha[:7]}" in blocking and "over +50 %" in blocking
    (doc,) = documents(project).values()
    (check,) = doc["checks"]
    paired = check["measurements"]["startup_s"]["paired"]
    assert paired["sha"] == sha and len(paired["pairs"]) >= 6
    # the baseline's tree is the commit's, cached by commit, beside the cell's own environment
    assert (project / ".nox" / "readiness-baseline" / sha / "target" / "tiny_target.py").read_text(
        encoding="utf-8") == "VALUE = 1\n"
    assert (project / ".nox" / f"checks-{PYTHON.replace('.', '-')}-baseline").is_dir()


def test_a_baseline_that_cannot_be_built_leaves_the_budget_undecided_naming_why(tmp_path: Path) -> None:
    project = startup_project(tmp_path)
    pyproject = project / "target" / "pyproject.toml"
    good = pyproject.read_text(encoding="utf-8")
    missing = 'dependencies = ["no-such-distribution-readiness-test==9.9"]'
    pyproject.write_text(good.replace("dependencies = []", missing), encoding="utf-8")
    git(project, "commit", "-q", "-am", "a release that asked for a package that does not exist")
    pyproject.write_text(good, encoding="utf-8")  # fixed in the working tree, not at HEAD
    done = validate(project, "--baseline-ref", "HEAD")
    # INCOMPLETE: nothing failed, but the run was asked to decide the budget against HEAD and could not
    assert done.returncode == 3, done.stdout + done.stderr
    missing = done.stdout.split("Missing evidence (INCOMPLETE):", 1)[1].split("\n\n", 1)[0]
    assert "startup_s against HEAD" in missing and "cannot be judged" in missing, done.stdout
    assert "no-such-distribution-readiness-test" in missing, done.stdout
    (doc,) = documents(project).values()
    assert doc["state"] == "complete"  # the cell itself ran: only the comparison is missing


def test_the_checks_session_takes_the_ref_too_and_refuses_a_bad_one_before_building_it(tmp_path: Path) -> None:
    project = startup_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", f"checks-{PYTHON}",
         "--", "--baseline-ref", "no-such-ref"],
        cwd=project, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "readiness: error: --baseline-ref no-such-ref" in output, output
    assert not (project / ".nox" / f"checks-{PYTHON.replace('.', '-')}-baseline").exists()
