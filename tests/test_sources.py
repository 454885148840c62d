"""The fingerprint of a local project installed as a copy: what a warm cell rebuilds it for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from readiness.run.sources import fingerprint


def _project(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (root / "pyproject.toml").write_text("[project]\nname = 'pkg'\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("written", [
    ".nox/checks-3-12/lib/x.py", ".git/index", "src/pkg/__pycache__/m.pyc", "reports/runs/r/matrix.json",
    "build/lib/pkg/__init__.py", "dist/pkg-1.0.tar.gz", "pkg.egg-info/PKG-INFO", "venv/lib/site.py",
    "node_modules/a/index.js", ".coverage.host.123.456",
])
def test_what_tools_write_beside_the_sources_does_not_count(tmp_path: Path, written: str) -> None:
    project = _project(tmp_path / "p")
    (project / "venv").mkdir()
    (project / "venv" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    before = fingerprint([project], ignore=[project / "reports"])
    (project / written).parent.mkdir(parents=True, exist_ok=True)
    (project / written).write_text("x", encoding="utf-8")
    assert fingerprint([project], ignore=[project / "reports"]) == before


@pytest.mark.parametrize("change", ["edit", "touch", "add", "remove", "nested build folder"])
def test_a_change_to_the_sources_counts(tmp_path: Path, change: str) -> None:
    project = _project(tmp_path / "p")
    module = project / "src" / "pkg" / "__init__.py"
    before = fingerprint([project])
    if change == "edit":
        module.write_text("VALUE = 2\n", encoding="utf-8")
    elif change == "touch":  # same size, new time: the build could differ
        stat = module.stat()
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    elif change == "add":
        (project / "src" / "pkg" / "extra.py").write_text("", encoding="utf-8")
    elif change == "remove":
        (project / "pyproject.toml").unlink()
    else:  # only the project's own top-level build/ is a build folder
        (project / "src" / "pkg" / "build").mkdir()
        (project / "src" / "pkg" / "build" / "__init__.py").write_text("", encoding="utf-8")
    assert fingerprint([project]) != before


def test_no_copies_no_fingerprint(tmp_path: Path) -> None:
    assert fingerprint([]) == ""
    assert fingerprint([_project(tmp_path / "a")]) != fingerprint([_project(tmp_path / "b")])
