"""The names README tells users to write keep working, wherever the modules behind them move."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import envdocs

import readiness


def test_from_readiness_nox_import_register() -> None:
    from readiness.nox import register

    assert callable(register)
    assert list(inspect.signature(register).parameters) == ["root"]


def test_from_readiness_measure_import_sample_command_times_a_command() -> None:
    from readiness.measure import sample_command

    samples = sample_command([sys.executable, "-c", "pass"], n=2)
    assert len(samples) == 2
    assert all(seconds > 0 for seconds in samples)


def test_readiness_document_load_reads_an_env_document(tmp_path: Path) -> None:
    import readiness.document

    doc = envdocs.env("linux-x86_64-cpython3.12", [envdocs.check("health.ok")])
    [path] = envdocs.write(tmp_path, doc)
    loaded = readiness.document.load(path)
    assert loaded.cell_id == "linux-x86_64-cpython3.12"
    assert [check.id for check in loaded.checks] == ["health.ok"]


def test_the_pytest11_entry_point_named_readiness_loads_the_plugin() -> None:
    [point] = [point for point in entry_points(group="pytest11") if point.name == "readiness"]
    plugin = point.load()
    assert inspect.ismodule(plugin)
    assert callable(plugin.pytest_addoption)
    assert callable(plugin.pytest_configure)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, encoding="utf-8", check=False)


def test_the_readiness_console_script_answers_version_and_help() -> None:
    assert [point.value for point in entry_points(group="console_scripts") if point.name == "readiness"]
    script = shutil.which("readiness", path=str(Path(sys.executable).parent)) or shutil.which("readiness")
    assert script, "the readiness console script is not installed beside this Python"
    version = _run(script, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"readiness {readiness.__version__}")
    helped = _run(script, "--help")
    assert helped.returncode == 0
    assert "verdict" in helped.stdout


def test_python_m_readiness_answers_version() -> None:
    done = _run(sys.executable, "-m", "readiness", "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"readiness {readiness.__version__}")
