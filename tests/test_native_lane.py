"""The steps around the cells: the native lane's plan, and documents for cells that wrote none."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import read_document

from readiness.model import plan as plans
from readiness.run import fallback
from readiness.run.folder import RunFolder
from readiness.run.lanes import venv
from readiness.run.lanes.native import NativeLane, host_cell, plan_pythons


def test_the_plan_leaves_out_pythons_the_target_does_not_support_and_says_why() -> None:
    plan = plan_pythons({"3.9": "/py39", "3.12": "/py312"}, ["3.9", "3.12", "3.13"], ">=3.10")
    assert [c.python for c in plan.cells] == ["3.12", "3.13"]
    assert plan.excluded == [f"{host_cell('3.9')}: the target requires Python >=3.10 (its requires-python)"]
    missing = plan.cells[1]
    assert (missing.interpreter, missing.skip_reason) == (None, "Python 3.13 is not installed on this machine")


def test_pythons_older_than_3_9_are_never_planned() -> None:
    plan = plan_pythons({"3.8": "/py38", "3.11": "/py311"}, [], None)
    assert [c.python for c in plan.cells] == ["3.11"]


def test_a_cell_that_never_started_gets_a_document_that_says_so(tmp_path: Path) -> None:
    plan = plans.Plan("run-1", plan_pythons({"3.12": "/py312"}, ["3.12"], None).cells)
    folder = RunFolder(tmp_path / "reports", "run-1")
    lane = NativeLane()
    assert fallback.fill_missing(plan, folder.envs, lambda cell: lane.why_missing(cell, folder)) == [plan.cells[0].id]
    doc = read_document(folder.document(plan.cells[0].id))
    assert (doc["state"], doc["reason"]) == ("not_run", "the cell never started (the run stopped before it)")
    assert doc["checks"] == [] and doc["run_id"] == "run-1"


def test_a_cell_environment_is_rebuilt_when_it_was_made_from_another_python(tmp_path: Path) -> None:
    import subprocess

    from readiness.platform import interpreters

    discovery = interpreters.discover()
    found = {v: getattr(discovery.for_python(v), "executable", None) for v in ("3.11", "3.12")}
    if not all(found.values()):
        pytest.fail(f"this test needs Python 3.11 and 3.12 installed: {found}")
    env, log = venv.location(tmp_path, "3.12"), tmp_path / "cell.log"
    assert env == tmp_path / ".nox" / "checks-3-12"  # where nox keeps the checks-3.12 session's
    assert venv.ensure(env, "3.12", found["3.12"], log, os.environ) is True
    assert venv.ensure(env, "3.12", found["3.12"], log, os.environ) is False  # warm: used as it is
    subprocess.run(["uv", "venv", "--quiet", "--clear", "--python", str(found["3.11"]), str(env)], check=True)
    assert venv.ensure(env, "3.12", found["3.12"], log, os.environ) is True  # a 3.11 environment is replaced
    version = subprocess.run([str(venv.interpreter(env)), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "(3, 12)"
    assert "creating the environment checks-3-12 for Python 3.12" in log.read_text(encoding="utf-8")


def test_a_written_plan_is_a_valid_plan_document(tmp_path: Path) -> None:
    import jsonschema

    from readiness.model import schema

    path = plans.write(plans.Plan("run-1", plan_pythons({"3.12": "/py"}, [], None).cells), tmp_path / "plan.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("plan", 1)).validate(data)
    assert [c["python"] for c in data["cells"]] == ["3.12"]
