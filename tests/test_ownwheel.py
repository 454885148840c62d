"""readiness's own wheel for the cells: built once for each state of its sources, by uv, and shared
by every cell; a change to its package builds a new one; a failed build names itself."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import require_tool

from readiness.run import ownwheel
from readiness.run.install import BuildFailed, InstallRequest, ReadinessSource

PYPROJECT = """
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "readiness"
version = "0.0.1"
requires-python = ">=3.9"

[tool.hatch.build.targets.wheel]
packages = ["src/readiness"]
"""


@pytest.fixture
def source(tmp_path: Path) -> ReadinessSource:
    require_tool("uv")
    folder = tmp_path / "readiness"
    (folder / "src" / "readiness").mkdir(parents=True)
    (folder / "src" / "readiness" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return ReadinessSource(folder, "0.0.1")


@pytest.fixture
def environ(tmp_path: Path) -> Dict[str, str]:
    return dict(os.environ, READINESS_CACHE_HOME=str(tmp_path / "cache"))


def _builds(log: Path) -> List[str]:
    return [line for line in log.read_text(encoding="utf-8").splitlines() if " build --wheel " in line]


def test_the_wheel_is_built_once_and_shared_by_every_cell(source: ReadinessSource, environ: Dict[str, str],
                                                          tmp_path: Path) -> None:
    log = tmp_path / "cell.log"
    found: List[Path] = []
    cells = [threading.Thread(target=lambda: found.append(ownwheel.wheel(source, log, environ))) for _ in range(3)]
    for cell in cells:
        cell.start()
    for cell in cells:
        cell.join()
    assert len(set(found)) == 1 and found[0].name == "readiness-0.0.1-py3-none-any.whl"
    assert found[0].is_relative_to(tmp_path / "cache" / "wheels")
    assert len(_builds(log)) == 1, "three cells at once, one build"
    assert ownwheel.wheel(source, log, environ) == found[0]
    assert len(_builds(log)) == 1, "a later run uses the wheel built before"


def test_a_change_to_its_package_builds_a_new_wheel(source: ReadinessSource, environ: Dict[str, str],
                                                    tmp_path: Path) -> None:
    log = tmp_path / "cell.log"
    first = ownwheel.wheel(source, log, environ)
    assert source.folder is not None
    (source.folder / "src" / "readiness" / "__init__.py").write_text("VALUE = 22\n", encoding="utf-8")
    second = ownwheel.wheel(source, log, environ)
    assert second != first and second.is_file() and first.is_file()
    assert len(_builds(log)) == 2
    (source.folder / "tests").mkdir()  # outside its package: the same wheel
    (source.folder / "tests" / "test_x.py").write_text("", encoding="utf-8")
    assert ownwheel.wheel(source, log, environ) == second


def test_a_cell_installs_the_wheel_in_place_of_the_folder(source: ReadinessSource) -> None:
    request = InstallRequest(readiness=source)
    wheel = Path("/cache/readiness-0.0.1-py3-none-any.whl")
    assert request.arguments(live=True, wheel=wheel) == [str(wheel)]
    assert source.folder is not None
    assert request.arguments(live=True) == [source.folder.as_posix()], "the request itself names the folder"
    assert ("readiness", source.folder / "src" / "readiness") in request.copies(live=True)


def test_the_release_from_the_index_needs_no_wheel(tmp_path: Path, environ: Dict[str, str]) -> None:
    release = ReadinessSource(None, "1.2.3")
    assert ownwheel.wheel(release, tmp_path / "cell.log", environ) is None
    assert InstallRequest(readiness=release).arguments(live=True) == ["readiness==1.2.3"]


def test_a_failed_build_says_what_failed_and_leaves_nothing_behind(source: ReadinessSource,
                                                                   environ: Dict[str, str], tmp_path: Path) -> None:
    assert source.folder is not None
    (source.folder / "pyproject.toml").write_text("[project\nname = ", encoding="utf-8")
    log = tmp_path / "cell.log"
    with pytest.raises(BuildFailed, match="building readiness's wheel for the cells failed"):
        ownwheel.wheel(source, log, environ)
    assert "pyproject.toml" in log.read_text(encoding="utf-8")
    assert not list((tmp_path / "cache" / "wheels").glob("*/*.whl"))
    assert not list((tmp_path / "cache" / "wheels").glob(".build-*"))


def test_a_cache_that_cannot_be_written_is_a_build_failure_naming_it(source: ReadinessSource,
                                                                    tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    environ = dict(os.environ, READINESS_CACHE_HOME=str(blocked))
    with pytest.raises(BuildFailed, match=f"cannot write {blocked / 'wheels'}"):
        ownwheel.wheel(source, tmp_path / "cell.log", environ)
