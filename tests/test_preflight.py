"""A target or suite key that names what is not there stops validate and `checks-X.Y` with exit 2,
naming the key and the fix, before any environment is built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest
from conftest import ROOT

from readiness.run import preflight

NOXFILE = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from readiness.nox import register
register()
"""


def make_project(path: Path, target: str, suite: str = 'suite = {path = "checks"}') -> Path:
    (path / "checks").mkdir(parents=True)
    (path / "checks" / "test_ok.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    (path / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    (path / "lib").mkdir()
    (path / "lib" / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "lib"
        version = "1.0"
        [project.optional-dependencies]
        test = ["pytest"]
        Docs_Extra = []
        """), encoding="utf-8")
    policy = f'[tool.readiness]\npythons = ["3.11"]\n{target}\n{suite}\nwine = {{enabled = false}}\n'
    (path / "pyproject.toml").write_text(policy, encoding="utf-8")
    return path


def nox(project: Path, *session: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    return subprocess.run([sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), *session],
                          cwd=project, env=environ, capture_output=True, text=True, encoding="utf-8",
                          stdin=subprocess.DEVNULL, timeout=300, check=False)


CASES = [
    ('target = {path = "lib", extras = ["tests"]}',
     r"\[tool.readiness\].target.extras: 'tests' not declared by the target \(its extras: docs-extra, test\)"),
    ('target = {path = "lib", requirements = "requirements-test.txt"}',
     r"\[tool.readiness\].target.requirements: the file 'requirements-test.txt' does not exist"),
    ('target = {path = "lib", constraints = "pins.txt"}',
     r"\[tool.readiness\].target.constraints: the file 'pins.txt' does not exist"),
    ('target = {path = "library"}', r"\[tool.readiness\].target.path: 'library' is not a folder"),
]


@pytest.mark.xdist_group("nox")
@pytest.mark.parametrize(("target", "message"), CASES, ids=["extra", "requirements", "constraints", "path"])
@pytest.mark.parametrize("session", [["-s", "validate"], ["-s", "checks-3.11"]], ids=["validate", "checks"])
def test_a_key_naming_what_is_not_there_exits_2_before_anything_is_built(
    tmp_path: Path, target: str, message: str, session: List[str]
) -> None:
    project = make_project(tmp_path / "p", target)
    done = nox(project, *session)
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert not list(project.glob(".nox/*/.readiness-install"))  # nothing was installed
    assert not (project / "reports" / "runs").exists() or not list((project / "reports" / "runs").glob("*/envs/*"))


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'target = {path = "lib", extras = ["tests"], constraints = "pins.txt"}',
                           'suite = {path = "tests"}')
    from readiness.judge.policy import load_policy
    from readiness.run.install import InstallRequest

    rules = load_policy(cwd=project)
    with pytest.raises(Exception, match=r"(?s)the policy names what is not there:.*target.extras.*"
                                        r"target.constraints.*suite.path: 'tests' does not exist"):
        preflight.check(project, rules, InstallRequest.from_policy(project, rules))


def test_extras_are_compared_by_their_normalised_names(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 'target = {path = "lib"}')
    assert preflight.declared_extras(project / "lib") == {"test", "docs-extra"}


def test_dynamic_extras_are_read_from_the_built_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='legacy', version='1.0', py_modules=[], extras_require={'Testing': ['pytest']})\n",
        encoding="utf-8")
    assert preflight.declared_extras(folder) == {"testing"}
