"""Interpreter discovery: the real Pythons of this machine, and recorded or made-up layouts of
the sources that cannot run here (the Windows `py` launcher, uv-managed installations)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

import pytest

from readiness.platform import interpreters, wine
from readiness.platform.interpreters import CommandResult, Discovery

# Recorded `py -0p` output: the launcher of Python 3.12+ (PEP 514 tags, uv-registered installs).
PY_LAUNCHER_NEW = """\
 -V:3.13t         C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python313\\python3.13t.exe
 -V:3.12 *        C:\\Program Files\\Python312\\python.exe
 -V:3.11          C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python311\\python.exe
 -V:Astral/CPython3.12.1 C:\\Users\\dev\\uv\\python\\cpython-3.12.1-windows-x86_64-none\\python.exe
 -V:ContinuumAnalytics/Anaconda39-64 C:\\ProgramData\\Anaconda3\\python.exe
"""
# Recorded `py -0p` output of the older launcher (3.10 and earlier installers).
PY_LAUNCHER_OLD = """\
Installed Pythons found by py Launcher for Windows
 -3.10-64       C:\\Python310\\python.exe *
 -3.9-32        C:\\Program Files (x86)\\Python39-32\\python.exe
 -2.7-64        C:\\Python27\\python.exe
"""


def facts(version: str, *, platform: str = "linux", executable: str = "", impl: str = "cpython",
          free_threaded: bool = False, venv: bool = False, bits: int = 64,
          machine: str = "x86_64") -> Dict[str, object]:
    """What the probe script prints for an interpreter."""
    major, minor, micro = (int(part) for part in version.split("."))
    return {"version_info": [major, minor, micro, "final", 0], "version": version,
            "implementation": impl, "free_threaded": free_threaded, "machine": machine,
            "bits": bits, "platform": platform, "executable": executable, "venv": venv}


class FakeMachine:
    """A command runner answering probes from a table, and `uv python dir`/`py -0p` if given."""

    def __init__(self, probes: Mapping[str, Dict[str, object]], *, uv_dir: Optional[Path] = None,
                 py_launcher: Optional[str] = None) -> None:
        self.probes = probes
        self.uv_dir = uv_dir
        self.py_launcher = py_launcher

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        if list(argv) == ["uv", "python", "dir"] and self.uv_dir is not None:
            return CommandResult(0, f"{self.uv_dir}\n")
        if list(argv) == ["py", "-0p"] and self.py_launcher is not None:
            return CommandResult(0, self.py_launcher)
        if argv[0] in self.probes:
            answer = {**self.probes[argv[0]]}
            answer["executable"] = answer["executable"] or argv[0]
            return CommandResult(0, json.dumps(answer) + "\n")
        raise FileNotFoundError(2, "No such file or directory", argv[0])


def make_program(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def table_rows(discovery: Discovery) -> list[tuple[str, str, str]]:
    return [(found.cell, found.version, found.source) for found in discovery.chosen]


# --- the real machine --------------------------------------------------------------------------


def test_real_discovery_finds_the_running_python_and_every_pyenv_version() -> None:
    discovery = interpreters.discover(include_wine=False)
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert discovery.for_python(running) is not None, interpreters.format_table(discovery)

    versions = interpreters.pyenv_root(os.environ) / "versions"
    installed = sorted(versions.iterdir()) if versions.is_dir() else []
    for folder in installed:
        minor = tuple(int(part) for part in folder.name.split(".")[:2])
        if minor >= (3, 9):
            chosen = discovery.for_python(f"{minor[0]}.{minor[1]}")
            assert chosen is not None and chosen.source == "pyenv", folder
        else:
            reasons = [item.reason for item in discovery.rejected if str(folder) in item.path]
            assert reasons == [f"Python {folder.name} is older than 3.9"]


def test_real_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert interpreters.command(argparse.Namespace()) == 0
    out = capsys.readouterr().out
    running = f"cpython{sys.version_info[0]}.{sys.version_info[1]} "
    assert out.startswith("cell ")
    assert any(line.split()[0].endswith(running.strip()) for line in out.splitlines()[1:] if line)


@pytest.mark.skipif(sys.platform == "win32", reason="shell scripts stand in for broken Pythons")
def test_real_probe_drops_a_hanging_and_a_failing_program(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    (bin_dir / "python3").write_text("#!/bin/sh\necho 'broken install' >&2\nexit 3\n",
                                     encoding="utf-8")
    for program in bin_dir.iterdir():
        program.chmod(0o755)
    environ = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    discovery = interpreters.discover(environ, timeout=1.0, include_wine=False)
    assert discovery.chosen == ()
    reasons = {Path(item.path).name: item.reason for item in discovery.rejected}
    assert reasons == {"python3.12": "did not answer within 1 s",
                       "python3": "exited with 3: broken install"}


# --- precedence: pyenv over uv over PATH, then the newest patch --------------------------------


def test_one_interpreter_per_cell_by_source_then_newest_patch(tmp_path: Path) -> None:
    pyenv = tmp_path / ".pyenv"
    uv_root = tmp_path / "uv-pythons"
    bin_dir = tmp_path / "usr" / "bin"
    uv311 = uv_root / "cpython-3.11.9-linux-x86_64-gnu" / "bin" / "python3.11"
    uv312 = uv_root / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12"
    probes = {
        make_program(pyenv / "versions" / "3.11.7" / "bin" / "python3"): facts("3.11.7"),
        make_program(uv311): facts("3.11.9"),
        make_program(uv312): facts("3.12.1"),
        make_program(bin_dir / "python3.11"): facts("3.11.2"),
        make_program(bin_dir / "python3.12"): facts("3.12.8"),
        make_program(bin_dir / "python3.13"): facts("3.13.0"),
        make_program(tmp_path / "opt" / "python3.13"): facts("3.13.1"),
    }
    environ = {"HOME": str(tmp_path), "PYENV_ROOT": str(pyenv),
               "UV_PYTHON_INSTALL_DIR": str(uv_root), "PATH": f"{bin_dir}:{tmp_path / 'opt'}"}
    discovery = interpreters.discover(environ, runner=FakeMachine(probes), platform_name="linux")

    assert table_rows(discovery) == [
        ("linux-x86_64-cpython3.11", "3.11.7", "pyenv"),  # pyenv wins over a newer uv patch
        ("linux-x86_64-cpython3.12", "3.12.1", "uv"),  # uv wins over a newer PATH patch
        ("linux-x86_64-cpython3.13", "3.13.1", "path"),  # same source: the newest patch
    ]
    table = interpreters.format_table(discovery)
    assert f"linux-x86_64-cpython3.11          3.11.9    uv           {uv_root}" in table
    assert "3.11.2    path" in table and "(by pyenv 3.11.7)" in table
    assert "3.12.8    path" in table and "(by uv 3.12.1)" in table
    assert "3.13.0    path" in table and "(by path 3.13.1)" in table


def test_symlinks_and_shims_count_once(tmp_path: Path) -> None:
    pyenv = tmp_path / ".pyenv"
    real = make_program(pyenv / "versions" / "3.12.1" / "bin" / "python3")
    make_program(pyenv / "shims" / "python3.12")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(real)
    environ = {"HOME": str(tmp_path), "PYENV_ROOT": str(pyenv),
               "PATH": f"{pyenv / 'shims'}:{bin_dir}"}
    discovery = interpreters.discover(environ, runner=FakeMachine({real: facts("3.12.1")}),
                                      platform_name="linux")
    assert table_rows(discovery) == [("linux-x86_64-cpython3.12", "3.12.1", "pyenv")]
    assert discovery.shadowed == () and discovery.rejected == ()


def test_what_is_not_a_usable_cpython_is_rejected_with_its_reason(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"

    class Odd(FakeMachine):
        def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
            name = Path(argv[0]).name
            if name == "python3.10":
                raise subprocess.TimeoutExpired(argv, timeout)
            if name == "python3.11":
                return CommandResult(0, "Welcome to the Store\n")
            return super().__call__(argv, timeout)

    probes = {
        make_program(bin_dir / "python"): facts("3.10.14", impl="pypy"),
        make_program(bin_dir / "python3"): facts("3.12.1", venv=True),
        make_program(bin_dir / "python3.8"): facts("3.8.18"),
    }
    make_program(bin_dir / "python3.10")
    make_program(bin_dir / "python3.11")
    environ = {"HOME": str(tmp_path), "PATH": str(bin_dir)}
    discovery = interpreters.discover(environ, runner=Odd(probes), platform_name="linux", timeout=2)
    assert discovery.chosen == ()
    assert {Path(item.path).name: item.reason for item in discovery.rejected} == {
        "python": "pypy 3.10.14: only CPython is supported",
        "python3": "a virtual environment, not a base interpreter",
        "python3.8": "Python 3.8.18 is older than 3.9",
        "python3.10": "did not answer within 2 s",
        "python3.11": "printed something that is not the probe's JSON",
    }
    assert "rejected:\n" in interpreters.format_table(discovery)
    assert "(no CPython 3.9+ found)" in interpreters.format_table(discovery)


# --- uv-managed Pythons: made-up folder layouts ------------------------------------------------


def test_uv_folders_from_uv_python_dir_and_the_defaults(tmp_path: Path) -> None:
    from_command = tmp_path / "custom-uv"
    default = tmp_path / ".local" / "share" / "uv" / "python"
    threaded = from_command / "cpython-3.13.0+freethreaded-linux-x86_64-gnu" / "bin"
    probes = {
        make_program(from_command / "cpython-3.12.1-linux-x86_64-gnu" / "bin" / "python3.12"):
            facts("3.12.1"),
        make_program(threaded / "python3.13t"): facts("3.13.0", free_threaded=True),
        make_program(default / "cpython-3.10.16-linux-x86_64-gnu" / "bin" / "python3.10"):
            facts("3.10.16"),
        make_program(default / "cpython-3.9.21-linux-aarch64-gnu" / "bin" / "python3"):
            facts("3.9.21", machine="aarch64"),
    }
    make_program(threaded / "python3")
    (from_command / ".lock").write_text("", encoding="utf-8")
    (from_command / ".cache").mkdir()
    (default / "not-a-python").mkdir()
    environ = {"HOME": str(tmp_path), "PATH": ""}
    discovery = interpreters.discover(environ, runner=FakeMachine(probes, uv_dir=from_command),
                                      platform_name="linux")
    assert table_rows(discovery) == [
        ("linux-arm64-cpython3.9", "3.9.21", "uv"),
        ("linux-x86_64-cpython3.10", "3.10.16", "uv"),
        ("linux-x86_64-cpython3.12", "3.12.1", "uv"),
        ("linux-x86_64-cpython3.13t", "3.13.0", "uv"),
    ]


def test_uv_on_windows_lives_under_appdata(tmp_path: Path) -> None:
    appdata = tmp_path / "AppData" / "Roaming"
    root = appdata / "uv" / "python"
    probes = {
        make_program(root / "cpython-3.12.1-windows-x86_64-none" / "python.exe"):
            facts("3.12.1", platform="win32", machine="AMD64"),
        make_program(root / "cpython-3.13.0+freethreaded-windows-x86_64-none" / "python3.13t.exe"):
            facts("3.13.0", platform="win32", machine="AMD64", free_threaded=True),
    }
    make_program(root / "cpython-3.13.0+freethreaded-windows-x86_64-none" / "python.exe")
    environ = {"USERPROFILE": str(tmp_path), "APPDATA": str(appdata), "PATH": ""}
    discovery = interpreters.discover(environ, runner=FakeMachine(probes), platform_name="win32")
    assert table_rows(discovery) == [
        ("windows-x86_64-cpython3.12", "3.12.1", "uv"),
        ("windows-x86_64-cpython3.13t", "3.13.0", "uv"),
    ]


# --- the Windows py launcher: recorded output --------------------------------------------------


@pytest.mark.parametrize(
    ("output", "paths"),
    [
        (PY_LAUNCHER_NEW, [
            "C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python313\\python3.13t.exe",
            "C:\\Program Files\\Python312\\python.exe",
            "C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
            "C:\\Users\\dev\\uv\\python\\cpython-3.12.1-windows-x86_64-none\\python.exe",
            "C:\\ProgramData\\Anaconda3\\python.exe",
        ]),
        (PY_LAUNCHER_OLD, [
            "C:\\Python310\\python.exe",
            "C:\\Program Files (x86)\\Python39-32\\python.exe",
            "C:\\Python27\\python.exe",
        ]),
        ("No installed Pythons found!\n", []),
    ],
)
def test_py_launcher_output_is_parsed(output: str, paths: list[str]) -> None:
    found = interpreters.parse_py_launcher(output)
    assert [candidate.path for candidate in found] == paths
    assert {candidate.source for candidate in found} <= {"py-launcher"}


def test_py_launcher_pythons_become_windows_cells() -> None:
    probes = {
        "C:\\Program Files\\Python312\\python.exe":
            facts("3.12.7", platform="win32", machine="AMD64"),
        "C:\\Python310\\python.exe": facts("3.10.11", platform="win32", machine="AMD64"),
        "C:\\Program Files (x86)\\Python39-32\\python.exe":
            facts("3.9.13", platform="win32", machine="AMD64", bits=32),
        "C:\\Python27\\python.exe": facts("2.7.18", platform="win32", machine="AMD64"),
    }
    output = PY_LAUNCHER_OLD + " -V:3.12 *        C:\\Program Files\\Python312\\python.exe\n"
    environ = {"USERPROFILE": "C:\\Users\\nobody-here", "PATH": ""}
    discovery = interpreters.discover(environ, runner=FakeMachine(probes, py_launcher=output),
                                      platform_name="win32")
    assert table_rows(discovery) == [
        ("windows-x86-cpython3.9", "3.9.13", "py-launcher"),
        ("windows-x86_64-cpython3.10", "3.10.11", "py-launcher"),
        ("windows-x86_64-cpython3.12", "3.12.7", "py-launcher"),
    ]
    assert [item.reason for item in discovery.rejected] == ["Python 2.7.18 is older than 3.9"]


def test_py_launcher_is_asked_only_on_windows(tmp_path: Path) -> None:
    probes = {"C:\\Python310\\python.exe": facts("3.10.11", platform="win32")}
    environ = {"HOME": str(tmp_path), "PATH": ""}
    runner = FakeMachine(probes, py_launcher=PY_LAUNCHER_OLD)
    assert interpreters.discover(environ, runner=runner, platform_name="linux").chosen == ()


def test_windows_path_skips_the_store_alias(tmp_path: Path) -> None:
    apps = tmp_path / "Microsoft" / "WindowsApps"
    real = tmp_path / "Python311"
    probes = {make_program(real / "python.exe"): facts("3.11.9", platform="win32", machine="AMD64")}
    make_program(apps / "python.exe")
    environ = {"USERPROFILE": str(tmp_path), "PATH": f"{apps};{real}"}
    discovery = interpreters.discover(environ, runner=FakeMachine(probes), platform_name="win32")
    assert table_rows(discovery) == [("windows-x86_64-cpython3.11", "3.11.9", "path")]
    assert discovery.rejected == ()


# --- the Wine lane's interpreters --------------------------------------------------------------


def provisioned_wine_home(tmp_path: Path, python: str) -> Path:
    """A made-up cache folder as `readiness wine setup` leaves it."""
    home = tmp_path / "wine-home"
    make_program(wine.python_folder(home, python) / "python.exe")
    dist = wine.DISTRIBUTIONS[python]
    wine.manifest_path(home, python).write_text(json.dumps(
        {"kind": "readiness/wine-python", "schema": 1, "python": python, "cpython": dist.cpython,
         "sdist": dist.sdist_name, "sha256": dist.sha256}), encoding="utf-8")
    return home


def test_provisioned_wine_pythons_are_wine_cells(tmp_path: Path) -> None:
    home = provisioned_wine_home(tmp_path, "3.12")
    tools = tmp_path / "wine-bin"
    for tool in ("wine", "wineboot", "wineserver"):
        make_program(tools / tool)
    environ = {"HOME": str(tmp_path), "PATH": str(tools), "READINESS_WINE_HOME": str(home)}
    discovery = interpreters.discover(environ, runner=FakeMachine({}), platform_name="linux")
    assert table_rows(discovery) == [("windows-x86_64-wine-cpython3.12", "3.12.9", "wine")]
    assert discovery.for_python("3.12", lane="wine") is not None
    assert discovery.for_python("3.12") is None


def test_provisioned_wine_pythons_without_wine_say_how_to_get_it(tmp_path: Path) -> None:
    home = provisioned_wine_home(tmp_path, "3.11")
    environ = {"HOME": str(tmp_path), "PATH": str(tmp_path / "empty"),
               "READINESS_WINE_HOME": str(home)}
    discovery = interpreters.discover(environ, runner=FakeMachine({}), platform_name="linux")
    assert discovery.chosen == ()
    assert [item.reason for item in discovery.rejected] == [
        "wine, wineboot, wineserver not installed: run "
        "`apt-get install -y --no-install-recommends wine wine64 && readiness wine setup`"
    ]
