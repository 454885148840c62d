"""The GitHub Actions workflow for users' CI: valid, hardened, and shaped as README ("CI for your project") says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from conftest import ROOT, require_tool

try:
    import yaml
except ModuleNotFoundError:  # a test requirement (noxfile.py): missing, it fails under CI
    yaml = None

WORKFLOW = ROOT / ".github" / "workflows" / "validate.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def tool(name: str) -> str:
    """A command-line tool installed beside this Python (the tests venv), else on PATH."""
    return require_tool(name, shutil.which(name, path=str(Path(sys.executable).parent)))


@pytest.fixture(scope="module")
def workflow() -> Dict[str, Any]:
    if yaml is None:
        require_tool("pyyaml")
    data: Dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def steps(job: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    yield from job["steps"]


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, encoding="utf-8", check=False, cwd=ROOT
    )


def test_the_workflow_matches_github_s_schema() -> None:
    schema = tool("check-jsonschema")
    done = run_tool(schema, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW))
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    done = run_tool(tool("zizmor"), "--offline", str(WORKFLOW))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_matrix_comes_from_readiness_matrix(workflow: Dict[str, Any]) -> None:
    plan, cells = workflow["jobs"]["plan"], workflow["jobs"]["cells"]
    commands = "\n".join(step.get("run", "") for step in steps(plan))
    assert "readiness matrix --github --profile ci" in commands
    assert plan["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert cells["needs"] == "plan"
    assert cells["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert cells["runs-on"] == "${{ matrix.os }}"


def test_one_failing_cell_does_not_cancel_the_others(workflow: Dict[str, Any]) -> None:
    assert workflow["jobs"]["cells"]["strategy"]["fail-fast"] is False


def test_each_cell_uploads_under_its_own_name(workflow: Dict[str, Any]) -> None:
    cells = workflow["jobs"]["cells"]
    uploads = [s for s in steps(cells) if "upload-artifact" in s.get("uses", "")]
    assert len(uploads) == 1
    assert "${{ matrix.cell }}" in uploads[0]["with"]["name"]
    assert uploads[0]["with"]["name"].startswith("envs-")
    assert "envs/*.json" in uploads[0]["with"]["path"]
    assert uploads[0]["if"] == "always()"


def test_the_verdict_job_always_runs_and_judges_with_the_ci_profile(
    workflow: Dict[str, Any],
) -> None:
    verdict = workflow["jobs"]["verdict"]
    assert verdict["if"] == "always()"
    assert set(verdict["needs"]) == {"plan", "cells"}
    download = next(s for s in steps(verdict) if "download-artifact" in s.get("uses", ""))
    assert download["with"]["pattern"] == "envs-*"
    assert download["with"]["merge-multiple"] is True
    commands = [s.get("run", "") for s in steps(verdict)]
    assert any(c.startswith("readiness verdict artifacts --profile ci --json") for c in commands)
    assert any(c.startswith("readiness report artifacts -o report --profile ci") for c in commands)


def test_every_action_is_pinned_and_nothing_is_injected(workflow: Dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{name}: {step['uses']} is not pinned"
            if "actions/checkout" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{name}: pass values through env, not inline"
