"""The steps around the cells: the native lane's plan, and documents for cells that wrote none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import read_document

from readiness.model import plan as plans
from readiness.run import fallback
from readiness.run.folder import RunFolder
from readiness.run.lanes.native import NativeLane, host_cell, plan_pythons, session_results


def test_the_plan_leaves_out_pythons_the_target_does_not_support_and_says_why() -> None:
    plan = plan_pythons({"3.9": "/py39", "3.12": "/py312"}, ["3.9", "3.12", "3.13"], ">=3.10")
    assert [c.python for c in plan.cells] == ["3.12", "3.13"]
    assert plan.excluded == [f"{host_cell('3.9')}: the target requires Python >=3.10 (its requires-python)"]
    missing = plan.cells[1]
    assert (missing.interpreter, missing.skip_reason) == (None, "Python 3.13 is not installed on this machine")


def test_pythons_older_than_3_9_are_never_planned() -> None:
    plan = plan_pythons({"3.8": "/py38", "3.11": "/py311"}, [], None)
    assert [c.python for c in plan.cells] == ["3.11"]


@pytest.mark.parametrize(
    ("result", "state", "reason"),
    [
        ("skipped", "not_run", "nox skipped the cell: the interpreter for Python 3.12 was not found"),
        ("failed", "crashed", "the cell's environment could not be built (nox: failed)"),
        (None, "not_run", "the cell never started (the run stopped before it)"),
    ],
)
def test_a_cell_without_a_document_gets_one_that_says_why(
    tmp_path: Path, result: str, state: str, reason: str
) -> None:
    plan = plans.Plan("run-1", plan_pythons({"3.12": "/py312"}, ["3.12"], None).cells)
    folder = RunFolder(tmp_path / "reports", "run-1")
    folder.logs.mkdir(parents=True)
    folder.nox_log.write_text("uv: no solution for no-such-dist\n", encoding="utf-8")
    lane = NativeLane()
    lane.results = {} if result is None else {"3.12": result}
    assert fallback.fill_missing(plan, folder.envs, lambda cell: lane.why_missing(cell, folder)) == [plan.cells[0].id]
    doc = read_document(folder.document(plan.cells[0].id))
    assert doc["state"] == state and doc["reason"].startswith(reason)
    assert doc["checks"] == [] and doc["run_id"] == "run-1"


def test_nox_report_results_are_read_per_python(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"sessions": [
        {"name": "checks", "signatures": ["checks-3.11"], "result": "success"},
        {"name": "checks", "signatures": ["checks-3.12"], "result": "skipped"},
    ]}), encoding="utf-8")
    assert session_results(report) == {"3.11": "success", "3.12": "skipped"}
    assert session_results(tmp_path / "missing.json") == {}


def test_a_written_plan_is_a_valid_plan_document(tmp_path: Path) -> None:
    import jsonschema

    from readiness.model import schema

    path = plans.write(plans.Plan("run-1", plan_pythons({"3.12": "/py"}, [], None).cells), tmp_path / "plan.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("plan", 1)).validate(data)
    assert [c["python"] for c in data["cells"]] == ["3.12"]
