"""Coverage of the target: each cell records its own, validate archives and combines them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from envdocs import check, env, write

from readiness import cli
from readiness.judge import policy
from readiness.model.errors import PolicyError
from readiness.run import coverage as coverage_merge

coverage = pytest.importorskip("coverage")

# A function named like a secret: `coverage json` reports it under that name, which must not be
# masked on the way (a masked key breaks the report, and the cell's coverage was lost).
PACKAGE = '''def add(a, b):
    return a + b


def issue_token():
    return "nt"
'''
SUITE = '''import tinypkg


def test_add():
    assert tinypkg.add(1, 2) == 3
'''
LINUX = "linux-x86_64-cpython3.12"
WINE = "windows-x86_64-wine-cpython3.12"


def make_project(root: Path) -> None:
    (root / "src" / "tinypkg").mkdir(parents=True)
    (root / "src" / "tinypkg" / "__init__.py").write_text(PACKAGE, encoding="utf-8")
    (root / "checks").mkdir()
    (root / "checks" / "test_tiny.py").write_text(SUITE, encoding="utf-8")


def run_cell(root: Path) -> Dict[str, Any]:
    """One real cell: cellrun under coverage, the tiny package as its source."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "COV"))}
    env.update(READINESS_RUN_ID="run-1", PYTHONPATH=str(root / "src"))
    run = root / "reports" / "runs" / "run-1"
    done = subprocess.run(
        [sys.executable, "-m", "readiness.run.cellrun", "--out", str(run / "envs"), "--log-dir", str(run / "logs"),
         "--coverage-data", str(run / "coverage" / "{cell}.coverage"), "--coverage-source", "tinypkg",
         "--", "checks", "-p", "no:cacheprovider"],
        cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout.decode("utf-8", "replace")[-2000:]
    (doc,) = sorted((run / "envs").glob("*.json"))
    data: Dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))
    return data


def windows_data_file(path: Path, files: List[str]) -> None:
    """A data file as a Windows cell writes it: every statement of tinypkg ran, Windows names."""
    data = coverage.CoverageData(basename=str(path))
    data.add_lines({name: [1, 2, 5, 6] for name in files})
    data.write()


def test_a_cell_records_its_coverage_in_its_document(tmp_path: Path) -> None:
    make_project(tmp_path)
    doc = run_cell(tmp_path)
    cell = doc["cell"]["id"]
    assert doc["coverage"] == {"percent": 75.0, "covered_lines": 3, "num_statements": 4,
                               "data_file": f"coverage/{cell}.coverage", "source": ["tinypkg"]}
    assert (tmp_path / "reports" / "runs" / "run-1" / "coverage" / f"{cell}.coverage").is_file()
    assert [c["outcome"] for c in doc["checks"]] == ["passed"]


def test_windows_and_linux_data_files_combine_onto_the_sources(tmp_path: Path) -> None:
    make_project(tmp_path)
    cell = run_cell(tmp_path)["cell"]["id"]
    run = tmp_path / "reports" / "runs" / "run-1"
    # A Wine cell's relative names, and a Windows CI job's absolute ones (downloaded artifact).
    windows_data_file(run / "coverage" / f"{WINE}.coverage", [r".nox\wine-3.12\site\tinypkg\__init__.py"])
    ci = tmp_path / "artifacts" / "windows"
    ci.mkdir(parents=True)
    windows_data_file(ci / "windows-x86_64-cpython3.13.coverage",
                      [r"C:\hostedtoolcache\Python\3.13\x64\Lib\site-packages\tinypkg\__init__.py"])

    summary = coverage_merge.combine_run(run, root=tmp_path, source=["tinypkg"], target_path=None,
                                         mixed_from=[str(tmp_path / "artifacts")], python=sys.executable)

    assert summary is not None and summary["note"] is None
    assert (summary["percent"], summary["covered_lines"], summary["num_statements"]) == (100.0, 4, 4)
    assert sorted(summary["inputs"]) == sorted(
        f"coverage/raw/{name}.coverage" for name in (cell, WINE, "windows-x86_64-cpython3.13"))
    combined = coverage.CoverageData(basename=str(run / "coverage" / "combined.coverage"))
    combined.read()
    assert sorted(combined.measured_files()) == ["src/tinypkg/__init__.py"]
    config = (run / "coverage" / "combine.coveragerc").read_text(encoding="utf-8")
    assert "[paths]\ntinypkg =\n    src/tinypkg\n" in config
    assert json.loads((run / "coverage" / "combined.json").read_text(encoding="utf-8"))["percent"] == 100.0


def test_raw_data_files_are_archived_before_the_combine(tmp_path: Path) -> None:
    make_project(tmp_path)
    cell = run_cell(tmp_path)["cell"]["id"]
    run = tmp_path / "reports" / "runs" / "run-1"
    original = (run / "coverage" / f"{cell}.coverage").read_bytes()

    coverage_merge.combine_run(run, root=tmp_path, source=["tinypkg"], target_path=None, python=sys.executable)

    assert (run / "coverage" / "raw" / f"{cell}.coverage").read_bytes() == original
    assert (run / "coverage" / f"{cell}.coverage").read_bytes() == original  # the cell's file is kept too
    assert not (run / "coverage" / ".combine").exists()
    # Combining again (a re-judged run) gives the same figure from the same inputs.
    again = coverage_merge.combine_run(run, root=tmp_path, source=["tinypkg"], target_path=None,
                                       python=sys.executable)
    assert again is not None and again["percent"] == 75.0 and again["inputs"] == [f"coverage/raw/{cell}.coverage"]


def test_every_cell_is_archived_even_with_the_same_bytes_as_another(tmp_path: Path) -> None:
    folder, ci = tmp_path / "coverage", tmp_path / "ci"
    folder.mkdir()
    ci.mkdir()
    for name in ("linux-x86_64-cpython3.12", "linux-x86_64-cpython3.13"):
        (folder / f"{name}.coverage").write_bytes(b"same")
    (ci / "linux-x86_64-cpython3.12.coverage").write_bytes(b"other job")

    copies = coverage_merge.archive(coverage_merge.data_files([folder, ci, folder]), folder / "raw")

    assert sorted(p.name for p in copies) == [
        "linux-x86_64-cpython3.12-2.coverage", "linux-x86_64-cpython3.12.coverage",
                                              "linux-x86_64-cpython3.13.coverage"]
    assert {p.read_bytes() for p in copies} == {b"same", b"other job"}


def test_no_data_files_means_no_combined_coverage(tmp_path: Path) -> None:
    assert coverage_merge.combine_run(tmp_path, root=tmp_path, source=["tinypkg"], target_path=None) is None


def test_the_source_folder_is_found_in_src_or_flat_layouts(tmp_path: Path) -> None:
    (tmp_path / "demo" / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "flat").mkdir()
    assert coverage_merge.source_folder(tmp_path, "demo", "pkg") == "demo/src/pkg"
    assert coverage_merge.source_folder(tmp_path, None, "flat") == "flat"
    assert coverage_merge.source_folder(tmp_path, None, "elsewhere") == "elsewhere"


def test_the_policy_reads_coverage_and_rejects_typos() -> None:
    rules = policy.parse_policy({"coverage": {"source": ["readiness_demo"]}}, "pyproject.toml")
    assert rules.coverage.source == ("readiness_demo",) and rules.coverage.enabled
    assert not policy.default_policy().coverage.enabled
    with pytest.raises(PolicyError, match=r"coverage: unknown key 'sources'; did you mean 'source'\?"):
        policy.parse_policy({"coverage": {"sources": ["x"]}}, "pyproject.toml")
    with pytest.raises(PolicyError, match=r"unknown key 'covrage'; did you mean 'coverage'\?"):
        policy.parse_policy({"covrage": {"source": ["x"]}}, "pyproject.toml")


def test_reports_show_coverage_per_cell_and_combined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    linux = env(LINUX, [check("health")])
    linux.coverage = {"percent": 75.0, "covered_lines": 3, "num_statements": 4,
                      "data_file": f"coverage/{LINUX}.coverage", "source": ["tinypkg"]}
    run = tmp_path / "run"
    write(run / "envs", linux, env(WINE, [check("health")]))
    matrix_file = run / "matrix.json"
    assert cli.main(["merge", str(run / "envs"), "-o", str(matrix_file)]) == 0
    data = json.loads(matrix_file.read_text(encoding="utf-8"))
    data["coverage"] = {"percent": 100.0, "covered_lines": 4, "num_statements": 4, "source": ["tinypkg"],
                        "inputs": ["coverage/raw/a.coverage", "coverage/raw/b.coverage"]}
    matrix_file.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()

    assert cli.main(["report", str(matrix_file)]) == 0
    out = capsys.readouterr().out
    assert "  coverage of tinypkg:\n" in out
    assert f"    {LINUX}: 75.0% (3 of 4 lines)\n" in out
    assert f"    {WINE}: not measured\n" in out
    assert "    combined: 100.0% (4 of 4 lines) over 2 data file(s)\n" in out
    out_dir = tmp_path / "out"
    assert cli.main(["report", str(matrix_file), "--format", "md", "-o", str(out_dir)]) == 0
    report = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "  - combined: 100.0% (4 of 4 lines) over 2 data file(s)" in report
