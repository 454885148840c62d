"""Sessions of this repository: the readiness test suite, lint, and validation of the demo."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
# nox and uv find pyenv Pythons only when active: make every installed version active, the
# ones already active (a pyenv shim sets PYENV_VERSION for the nox it starts) first.
if (PYENV_ROOT / "versions").is_dir():
    _active = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    _installed = sorted(p.name for p in (PYENV_ROOT / "versions").iterdir() if p.name[:1].isdigit())
    os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(_active + _installed))
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
# PYTHONDONTWRITEBYTECODE may be set machine-wide: compile at install, or every start pays.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["validate"]
nox.needs_version = ">=2025.2.9"

SUPPORTED = ["3.9", "3.10", "3.11", "3.12", "3.13"]
TEST_PYTHON = "3.11"
TEST_REQUIREMENTS = [
    "pytest-xdist>=3.6",
    "pytest-rerunfailures>=14",
    # hypothesis-jsonschema 0.23 breaks on hypothesis 6.170.10 and later ('many' has no 'more').
    "hypothesis>=6.100,<=6.170.0",
    "hypothesis-jsonschema>=0.23",
    "jsonschema>=4.21",
    "coverage[toml]>=7.10",
]
# Every pytest major the plugin supports, on every Python of the matrix (pytest 9 needs 3.10+).
PLUGIN_MATRIX = [
    (python, pytest) for python in SUPPORTED for pytest in ("8", "9") if (python, pytest) != ("3.9", "9")
]


@nox.session(python=TEST_PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite under pytest-xdist, with coverage of src/readiness."""
    session.install("-e", ".", *TEST_REQUIREMENTS)
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-n", "2", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")
    if not session.posargs:
        for python, pytest in PLUGIN_MATRIX:
            session.notify(f"plugin({python}-pytest{pytest})")


@nox.session(name="plugin")
@nox.parametrize("python,pytest", PLUGIN_MATRIX, ids=[f"{p}-pytest{t}" for p, t in PLUGIN_MATRIX])
def plugin(session: nox.Session, pytest: str) -> None:
    """The plugin's own tests on one Python with one pytest major."""
    session.install(".", f"pytest=={pytest}.*", *TEST_REQUIREMENTS)
    session.run("pytest", "-n", "2", "-p", "no:cacheprovider", "tests/test_plugin.py", *session.posargs)


@nox.session(python=TEST_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict over the package."""
    session.install("-e", ".", "ruff", "mypy")
    session.run("ruff", "check", "src", "tests")
    session.run("mypy")


@nox.session(python=False)
def validate(session: nox.Session) -> None:
    """Run the check suite on this interpreter and write its env document (no merge yet)."""
    run_id = os.environ.get("READINESS_RUN_ID") or _new_run_id()
    out = ROOT / "reports" / "runs" / run_id / "envs"
    session.run(sys.executable, "-m", "pytest", "checks", "--readiness-out", str(out),
                "-p", "no:cacheprovider", *session.posargs,
                env={"READINESS_RUN_ID": run_id}, success_codes=[0, 1])
    (ROOT / "reports" / "latest").write_text(run_id + "\n", encoding="utf-8")


def _new_run_id() -> str:
    from readiness.environment import new_run_id

    return new_run_id()
