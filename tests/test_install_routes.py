"""Every target key reaches every lane: one install request, carried out by the native and the Wine lane.

Each check of the project below imports a package that only one key of `[tool.readiness].target`
can bring into the cell: `path` (the target), `extras`, `dependency_groups`, `requirements` (a
file, then a list of requirement strings), `constraints` (a pinned version), and `editable` (a
source edit seen on the next warm run). Between the two runs the request changes, so the warm
cell must drop the package it no longer asks for; a third run with nothing changed installs
nothing. A target installed as a copy (`editable = false`, and every local project under Wine) is
rebuilt when its files change, and only then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import pytest
from conftest import ROOT, read_document, require_tool

from readiness.run.lanes.native import host_cell

PYTHON = "3.11"
NATIVE = host_cell(PYTHON)
WINE = "windows-x86_64-wine-cpython3.11"

NOXFILE = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from readiness.nox import register
register()
"""

SUITE = '''
import os
import pytest

pytestmark = pytest.mark.check(category="install", severity="critical")


def test_path():
    import route_target
    assert route_target.__name__ == "route_target"


def test_extras():
    import route_extra
    assert route_extra.WHERE == "extras"


def test_dependency_groups():
    import route_group
    assert route_group.WHERE == "dependency_groups"


def test_requirements():
    import importlib.util
    wanted, dropped = os.environ["EXPECTED_REQUIREMENT"], os.environ["DROPPED_REQUIREMENT"]
    assert importlib.import_module(wanted).WHERE == "requirements"
    assert importlib.util.find_spec(dropped) is None, f"{dropped} is no longer asked for"


def test_constraints():
    import six  # the target asks for any six; only the constraints file pins 1.16.0
    assert six.__version__ == "1.16.0"


def test_editable():
    import route_target
    assert route_target.VALUE == int(os.environ["EXPECTED_VALUE"])
'''

ROUTES = ["path", "extras", "dependency_groups", "requirements", "constraints", "editable"]


def _package(folder: Path, name: str, body: str, dependencies: str = "[]", extra: str = "") -> Path:
    module = name.replace("-", "_")
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(body, encoding="utf-8")
    (folder / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [project]
        name = "{name}"
        version = "1.0"
        requires-python = ">=3.9"
        dependencies = {dependencies}
        """) + extra, encoding="utf-8")
    return folder


def make_project(path: Path) -> Path:
    extra = _package(path / "packages" / "route_extra", "route-extra", 'WHERE = "extras"\n')
    req = _package(path / "packages" / "route_req", "route-req", 'WHERE = "requirements"\n')
    listed = _package(path / "packages" / "route_listed", "route-listed", 'WHERE = "requirements"\n')
    group = _package(path / "packages" / "route_group", "route-group", 'WHERE = "dependency_groups"\n')
    _package(path / "target", "route-target", "VALUE = 1\n", '["six"]',
             f'[project.optional-dependencies]\nmore = ["route-extra @ {extra.resolve().as_uri()}"]\n'
             f'[dependency-groups]\nchecks = ["route-group @ {group.resolve().as_uri()}"]\n'
             "[tool.hatch.metadata]\nallow-direct-references = true\n")
    (path / "requirements-checks.txt").write_text(f"route-req @ {req.resolve().as_uri()}\n", encoding="utf-8")
    (path / "listed.txt").write_text(f"route-listed @ {listed.resolve().as_uri()}", encoding="utf-8")
    (path / "constraints.txt").write_text("six==1.16.0\n", encoding="utf-8")
    (path / "checks").mkdir()
    (path / "checks" / "test_routes.py").write_text(SUITE, encoding="utf-8")
    (path / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    (path / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.readiness]
        pythons = ["{PYTHON}"]
        target = {{path = "target", extras = ["more"], dependency_groups = ["checks"], \
requirements = "requirements-checks.txt", constraints = "constraints.txt", editable = true, name = "route-target"}}
        suite = {{path = "checks"}}
        wine = {{enabled = true, pythons = ["{PYTHON}"]}}
        """), encoding="utf-8")
    return path


def validate(project: Path, cell: str, expected_value: int, requirement: str, dropped: str) -> Dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    environ.update(REDIS_URL="redis://127.0.0.1:1/0", EXPECTED_VALUE=str(expected_value),
                   EXPECTED_REQUIREMENT=requirement, DROPPED_REQUIREMENT=dropped)
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate", "--", "--cells", cell],
        cwd=project, env=environ, capture_output=True, text=True, encoding="utf-8",
        stdin=subprocess.DEVNULL, timeout=900, check=False,
    )
    run_id = (project / "reports" / "latest").read_text(encoding="utf-8").strip()
    doc = read_document(project / "reports" / "runs" / run_id / "envs" / f"{cell}.json")
    assert doc["state"] == "complete", (doc.get("reason"), done.stdout[-3000:], done.stderr[-3000:])
    outcomes = {c["id"].rpartition("::test_")[2]: c["outcome"] for c in doc["checks"]}
    assert done.returncode == (0 if set(outcomes.values()) == {"passed"} else 1), done.stdout[-3000:]
    return outcomes


@pytest.mark.xdist_group("nox")
@pytest.mark.parametrize("lane", ["native", "wine"])
def test_every_target_key_reaches_every_lane(tmp_path: Path, lane: str) -> None:
    if lane == "wine":
        require_tool("wine")
    cell = WINE if lane == "wine" else NATIVE
    project = make_project(tmp_path / "project")
    assert validate(project, cell, 1, "route_req", "route_listed") == dict.fromkeys(ROUTES, "passed")
    # editable: the next warm run judges the edited source, not the copy the cell was built with;
    # requirements as a list now, in place of the file: the warm cell drops route-req
    (project / "target" / "route_target" / "__init__.py").write_text("VALUE = 2\n", encoding="utf-8")
    pyproject = project / "pyproject.toml"
    listed = (project / "listed.txt").read_text(encoding="utf-8")
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'requirements = "requirements-checks.txt"', f"requirements = [{listed!r}]"), encoding="utf-8")
    assert validate(project, cell, 2, "route_listed", "route_req") == dict.fromkeys(ROUTES, "passed")
    assert validate(project, cell, 2, "route_listed", "route_req") == dict.fromkeys(ROUTES, "passed")
    assert "already has this install" in _log(project, cell)


@pytest.mark.xdist_group("nox")
def test_a_target_installed_as_a_copy_is_rebuilt_when_its_files_change(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace("editable = true", "editable = false"),
                         encoding="utf-8")
    assert validate(project, NATIVE, 1, "route_req", "route_listed") == dict.fromkeys(ROUTES, "passed")
    (project / "target" / "route_target" / "__init__.py").write_text("VALUE = 3\n", encoding="utf-8")
    assert validate(project, NATIVE, 3, "route_req", "route_listed") == dict.fromkeys(ROUTES, "passed")
    assert "readiness: rebuilding route-target: its files changed since the last install" in _log(project, NATIVE)


def _log(project: Path, cell: str) -> str:
    run_id = (project / "reports" / "latest").read_text(encoding="utf-8").strip()
    return (project / "reports" / "runs" / run_id / "logs" / f"{cell}.log").read_text(encoding="utf-8")
