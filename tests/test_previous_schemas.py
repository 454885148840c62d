"""Readers accept the current and the previous schema of each kind: env documents of schema 1, and a
matrix or a baseline that embeds them (as readiness wrote them before `not_run`), still load and
are judged as before."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest
from envdocs import check, env

from readiness import cli
from readiness.judge import baseline, merge, policy, verdict
from readiness.model import reader, schema
from readiness.model.document import EnvDocument
from readiness.model.errors import SchemaError

LINUX = "linux-x86_64-cpython3.12"
WINDOWS = "windows-x86_64-wine-cpython3.11"


def env_1(doc: EnvDocument) -> Dict[str, Any]:
    """An env document as schema 1 wrote it: no `not_run` in its summary."""
    data = doc.to_dict()
    data["schema"] = 1
    del data["summary"]["not_run"]
    jsonschema.Draft202012Validator(schema.shipped("env", 1)).validate(data)
    return data


def documents() -> List[EnvDocument]:
    return [env(LINUX, [check("health"), check("db", "failed", message="refused")]),
            env(WINDOWS, [check("health"), check("db", "skipped", message="Skipped: no server")])]


def matrix_1(docs: List[EnvDocument]) -> Dict[str, Any]:
    """A matrix as schema 1 wrote it, each cell's document of schema 1."""
    data = merge.Matrix("run-1", {doc.cell_id: doc for doc in docs}).to_dict()
    data["schema"] = 1
    for cell in data["cells"]:
        cell["document"] = env_1(EnvDocument.from_dict(cell["document"]))
    jsonschema.Draft202012Validator(schema.shipped("matrix", 1)).validate(data)
    return data


def write_json(path: Path, data: Dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def judged(*inputs: str) -> verdict.Verdict:
    matrix = merge.merge_paths(list(inputs))
    assert not matrix.problems, matrix.problems
    return verdict.decide(matrix, policy.default_policy(), today=dt.date(2026, 11, 30))


def test_env_documents_of_schema_1_merge_and_are_judged(tmp_path: Path) -> None:
    for doc in documents():
        write_json(tmp_path / "envs" / f"{doc.cell_id}.json", env_1(doc))
    result = judged(str(tmp_path / "envs"))
    assert result.state is verdict.State.NO_GO
    assert [f.kind for f in result.reasons] == ["failed"]


def test_a_matrix_of_schema_1_still_merges(tmp_path: Path) -> None:
    path = write_json(tmp_path / "matrix.json", matrix_1(documents()))
    matrix = merge.merge_paths([str(path)])
    assert sorted(matrix.documents) == [LINUX, WINDOWS]
    assert matrix.raw[LINUX]["schema"] == 1  # kept as read: a matrix written again embeds it unchanged
    assert json.loads(merge.dumps(matrix))["schema"] == 2
    assert judged(str(path)).state is verdict.State.NO_GO


def test_a_baseline_embedding_schema_1_documents_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stored = baseline.from_matrix(merge.Matrix("run-0", {d.cell_id: d for d in documents()}), "main").to_dict()
    stored["matrix"] = matrix_1(documents())
    stored["matrix"]["run_id"] = "run-0"
    path = write_json(tmp_path / ".readiness" / "baselines" / "main.json", stored)
    loaded = baseline.load(path)
    assert sorted(loaded.matrix.documents) == [LINUX, WINDOWS]
    for doc in documents():
        write_json(tmp_path / "envs" / f"{doc.cell_id}.json", doc.to_dict())
    assert cli.main(["verdict", "envs", "--baseline", "main", "--json", "verdict.json"]) == 1
    judged_now = json.loads((tmp_path / "verdict.json").read_text(encoding="utf-8"))
    assert judged_now["baseline"] == "main (run run-0)"


def test_a_schema_1_matrix_holds_no_not_run(tmp_path: Path) -> None:
    data = matrix_1(documents())
    broken = copy.deepcopy(data)
    broken["checks"][0]["outcomes"][LINUX] = "not_run"
    with pytest.raises(SchemaError, match=r"\$\.checks\[0\]\.outcomes\.linux-x86_64-cpython3\.12"):
        reader.validate("matrix.json", broken)
