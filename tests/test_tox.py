"""tox users: `[tool.tox]` runs the check suite per Python; its documents merge like nox's."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator

import pytest
from conftest import ROOT, require_tool

from readiness import cli
from readiness.model import document
from readiness.run.services import ServiceError, start_redis, stop_redis

PYTHON = "3.12"
CELL = f"linux-x86_64-cpython{PYTHON}"

pytestmark = [
    pytest.mark.xdist_group("tox"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason=f"it expects the {CELL} cell"),
]


@pytest.fixture
def redis_url() -> Iterator[str]:
    try:
        server = start_redis()
    except ServiceError as exc:
        require_tool("redis-server")  # fails under CI, skips elsewhere
        pytest.skip(str(exc))
    try:
        yield server.url
    finally:
        stop_redis(server)


@pytest.fixture
def run_id() -> Iterator[str]:
    """A run of its own in this repository's reports/, removed afterwards."""
    run_id = f"test-tox-{secrets.token_hex(4)}"
    yield run_id
    shutil.rmtree(ROOT / "reports" / "runs" / run_id, ignore_errors=True)


def tox_env(run_id: str, redis_url: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("READINESS_")}
    env.update(READINESS_RUN_ID=run_id, REDIS_URL=redis_url, UV_PYTHON_DOWNLOADS="never")
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if versions.is_dir():  # uv finds pyenv's Pythons only when they are active
        installed = sorted(p.name for p in versions.iterdir() if p.name[:1].isdigit())
        env["PYENV_VERSION"] = ":".join(installed)
    return env


def test_tox_runs_one_python_s_cell_and_readiness_judges_it(
    run_id: str, redis_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tox = require_tool("tox", shutil.which("tox", path=str(Path(sys.executable).parent)))
    done = subprocess.run(
        [tox, "-e", PYTHON], cwd=ROOT, env=tox_env(run_id, redis_url), capture_output=True,
        text=True, encoding="utf-8", errors="replace", check=False,
    )
    envs = ROOT / "reports" / "runs" / run_id / "envs"
    written = sorted(p.name for p in envs.glob("*.json"))
    assert written == [f"{CELL}.json"], done.stdout[-3000:] + done.stderr[-3000:]

    doc = document.load(envs / f"{CELL}.json")
    assert (doc.cell_id, doc.run_id, doc.fingerprint["runner"]) == (CELL, run_id, "tox")
    assert doc.target.name == "readiness-demo"
    assert next(c for c in doc.checks if c.id == "integration.redis").outcome.value == "passed"
    assert doc.state.value == "complete"

    monkeypatch.chdir(ROOT)
    code = cli.main(["verdict", str(envs)])
    out = capsys.readouterr().out
    assert code in (0, 1, 3)
    assert CELL in out
    assert "VERDICT:" in out


def test_readiness_tox_makes_a_tox_toml_that_installs_a_dependency_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tox = require_tool("tox", shutil.which("tox", path=str(Path(sys.executable).parent)))
    project = tmp_path / "svc"
    helper = tmp_path / "group-helper"
    (helper / "group_helper").mkdir(parents=True)
    (helper / "group_helper" / "__init__.py").write_text("WHERE = 'dependency group'\n", encoding="utf-8")
    (helper / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "group-helper"\nversion = "1.0"\n', encoding="utf-8")
    (project / "svc").mkdir(parents=True)
    (project / "svc" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (project / "tests").mkdir()
    (project / "tests" / "test_svc.py").write_text(
        "import group_helper, svc\n\ndef test_value():\n    assert svc.VALUE == 1\n\n"
        "def test_group():\n    assert group_helper.WHERE == 'dependency group'\n", encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "svc"\nversion = "1.0"\nrequires-python = ">=3.11"\n'
        f'[dependency-groups]\ntests = ["group-helper @ {helper.as_uri()}"]\n'
        '[tool.readiness]\npythons = ["3.10", "3.12"]\n'
        'target = {path = ".", dependency_groups = ["tests"], name = "svc"}\nsuite = {path = "tests"}\n',
        encoding="utf-8")
    monkeypatch.chdir(project)
    assert cli.main(["tox"]) == 0
    toml = capsys.readouterr().out
    assert 'env_list = ["3.12"]' in toml  # 3.10 is left out: the target requires >=3.11
    assert 'dependency_groups = ["tests"]' in toml
    (project / "tox.toml").write_text(toml, encoding="utf-8")
    done = subprocess.run([tox, "-e", PYTHON], cwd=project, env=tox_env("tox-group", "redis://127.0.0.1:1/0"),
                          capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    envs = project / "reports" / "runs" / "tox-group" / "envs"
    assert [p.name for p in envs.glob("*.json")] == [f"{CELL}.json"], done.stdout[-3000:] + done.stderr[-3000:]
    doc = document.load(envs / f"{CELL}.json")
    assert {c.id: c.outcome.value for c in doc.checks} == {
        "tests/test_svc.py::test_value": "passed", "tests/test_svc.py::test_group": "passed"}
    assert doc.fingerprint["runner"] == "tox" and doc.target.name == "svc"
    assert cli.main(["verdict", str(envs)]) == 0
