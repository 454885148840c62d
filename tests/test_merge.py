"""`readiness merge`: inputs found, sorted, deduplicated; nothing dropped quietly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from envdocs import check, env, write, write_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness import cli
from readiness.judge import merge
from readiness.model.errors import UsageError

LINUX = "linux-x86_64-cpython3.12"
WINDOWS = "windows-x86_64-cpython3.12"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so the repository's own pyproject.toml policy never applies."""
    monkeypatch.chdir(tmp_path)


def two_cells(folder: Path) -> None:
    write(folder, env(LINUX, [check("a"), check("b", "failed", message="boom")]),
          env(WINDOWS, [check("a"), check("b")]))


def test_merge_writes_a_matrix_of_checks_by_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_cells(tmp_path / "envs")
    out = tmp_path / "matrix.json"
    assert cli.main(["merge", str(tmp_path / "envs"), "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["kind"] == "readiness/matrix"
    assert [c["id"] for c in data["cells"]] == [LINUX, WINDOWS]
    assert data["checks"][1] == {"id": "b", "title": "b", "category": "general", "severity": "major",
                                 "worst": "failed", "outcomes": {LINUX: "failed", WINDOWS: "passed"}}


def test_a_matrix_file_merges_back_to_the_same_matrix(tmp_path: Path) -> None:
    two_cells(tmp_path / "envs")
    first = merge.merge_paths([str(tmp_path / "envs")])
    (tmp_path / "m.json").write_text(merge.dumps(first), encoding="utf-8")
    again = merge.merge_paths([str(tmp_path / "m.json")]).to_dict()
    assert again.pop("inputs") == [(tmp_path / "m.json").as_posix()]
    expected = first.to_dict()
    del expected["inputs"]
    assert again == expected


def test_globs_and_files_are_read_in_sorted_order(tmp_path: Path) -> None:
    two_cells(tmp_path)
    matrix = merge.merge_paths([str(tmp_path / "w*.json"), str(tmp_path / f"{LINUX}.json")])
    assert matrix.cells == [LINUX, WINDOWS]
    assert matrix.inputs == sorted(matrix.inputs)


def test_byte_identical_duplicates_are_dropped_and_listed(tmp_path: Path) -> None:
    two_cells(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    matrix = merge.merge_paths([str(tmp_path / "a"), str(tmp_path / "b")])
    assert matrix.cells == [LINUX, WINDOWS]
    assert len(matrix.duplicates) == 2 and "same bytes as" in matrix.duplicates[0]
    assert matrix.problems == []


def test_two_different_documents_for_one_cell_are_a_finding_naming_both(tmp_path: Path) -> None:
    write(tmp_path / "a", env(LINUX, [check("a")]))
    write(tmp_path / "b", env(LINUX, [check("a", "failed")]))
    matrix = merge.merge_paths([str(tmp_path)])
    [problem] = matrix.problems
    assert problem.kind == "conflict"
    assert f"a/{LINUX}.json" in problem.message and f"b/{LINUX}.json" in problem.message


def test_an_unreadable_document_is_listed_not_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, env(LINUX, [check("a")]))
    (tmp_path / "broken.json").write_text('{"kind": "readiness/env", ', encoding="utf-8")
    assert cli.main(["merge", str(tmp_path), str(tmp_path / "broken.json")]) == 0
    assert "broken.json: not valid JSON" in capsys.readouterr().err
    assert cli.main(["verdict", str(tmp_path), str(tmp_path / "broken.json")]) == 3
    assert "broken.json: not valid JSON" in capsys.readouterr().out


def test_a_document_failing_its_schema_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, env(LINUX, [check("a")]))[0]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["checks"][0]["outcome"] = "fine"
    path.write_text(json.dumps(data), encoding="utf-8")
    [problem] = merge.merge_paths([str(path)]).problems
    assert "$.checks[0].outcome" in problem.message and path.name in problem.message


def test_other_json_in_a_folder_is_ignored_but_named_files_are_not(tmp_path: Path) -> None:
    two_cells(tmp_path)
    (tmp_path / "ctrf.json").write_text('{"results": {}}', encoding="utf-8")
    assert merge.merge_paths([str(tmp_path)]).problems == []
    [problem] = merge.merge_paths([str(tmp_path / f"{LINUX}.json"), str(tmp_path / "ctrf.json")]).problems
    assert "ctrf.json" in problem.message


def test_documents_of_another_run_need_from_and_then_the_matrix_is_mixed(tmp_path: Path) -> None:
    write(tmp_path / "here", env(LINUX, [check("a")]), env("linux-x86_64-cpython3.9", [check("a")]))
    write(tmp_path / "ci", env(WINDOWS, [check("a")], run_id="run-2"))
    refused = merge.merge_paths([str(tmp_path / "here"), str(tmp_path / "ci")])
    # Cells in version order: 3.9 before 3.12.
    assert refused.cells == ["linux-x86_64-cpython3.9", LINUX] and refused.problems[0].kind == "foreign-run"
    assert "pass it with --from" in refused.problems[0].message
    mixed = merge.merge_paths([str(tmp_path / "here")], mixed_from=[str(tmp_path / "ci")])
    assert mixed.cells == ["linux-x86_64-cpython3.9", LINUX, WINDOWS] and mixed.mixed and mixed.problems == []


def test_the_plan_beside_envs_is_found(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "run-1"
    two_cells(run / "envs")
    write_plan(run / "plan.json", [LINUX, WINDOWS, "macos-arm64-cpython3.12"])
    matrix = merge.merge_paths([str(run / "envs" / f"{LINUX}.json")])
    assert matrix.plan is not None and len(matrix.plan.cells) == 3
    (tmp_path / "m.json").write_text(merge.dumps(matrix), encoding="utf-8")
    planned = {"run_id": "run-1", "cells": [LINUX, WINDOWS, "macos-arm64-cpython3.12"],
               "source": (run / "plan.json").as_posix()}
    assert merge.merge_paths([str(tmp_path / "m.json")]).to_dict()["plan"] == planned  # the matrix keeps it


def test_a_matrix_planning_something_that_is_no_cell_id_is_an_unreadable_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_cells(tmp_path / "envs")
    data = merge.merge_paths([str(tmp_path / "envs")]).to_dict()
    data["plan"] = {"run_id": "run-1", "cells": [LINUX, "../../etc"], "source": ""}
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    [problem] = merge.merge_paths([str(tmp_path / "m.json")]).problems
    assert problem.kind == "unreadable" and "m.json: field $.plan.cells: cell id '../../etc'" in problem.message
    assert cli.main(["verdict", str(tmp_path / "m.json")]) == 3


def test_no_inputs_at_all_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert cli.main(["verdict", str(tmp_path / "empty")]) == 2
    assert "no readiness documents found" in capsys.readouterr().err
    assert cli.main(["merge", str(tmp_path / "missing.json")]) == 2
    with pytest.raises(UsageError, match="does not exist"):
        merge.merge_paths([str(tmp_path / "nope")])


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(range(4)))
def test_merge_is_independent_of_input_order(tmp_path_factory: pytest.TempPathFactory, order: list) -> None:
    folder = tmp_path_factory.mktemp("perm")
    cells = [LINUX, WINDOWS, "macos-arm64-cpython3.12", "linux-x86_64-cpython3.9"]
    paths = write(folder, *[env(c, [check("a", "failed" if i == 2 else "passed")]) for i, c in enumerate(cells)])
    base = merge.dumps(merge.merge_paths([str(p) for p in paths]))
    assert merge.dumps(merge.merge_paths([str(paths[i]) for i in order])) == base
