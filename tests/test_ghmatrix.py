"""`readiness matrix`: the planned CI cells, as a plan document or a GitHub Actions matrix."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from readiness import cli
from readiness.model import schema

POLICY = """
[tool.readiness]
pythons = ["3.11", "3.12"]

[tool.readiness.profiles.ci]
required_cells = ["linux-*", "macos-arm64-cpython3.12"]

[tool.readiness.profiles.nothing]
required_cells = ["freebsd-*"]
"""


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "pyproject.toml"
    path.write_text(POLICY, encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["matrix", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_github_matrix_is_every_runner_times_every_python(
    capsys: pytest.CaptureFixture[str], config: str
) -> None:
    code, out, _ = run(capsys, "--github", "--config", config)
    assert code == 0
    assert json.loads(out) == {"include": [
        {"os": "ubuntu-latest", "python": "3.11", "cell": "linux-x86_64-cpython3.11"},
        {"os": "ubuntu-latest", "python": "3.12", "cell": "linux-x86_64-cpython3.12"},
        {"os": "windows-latest", "python": "3.11", "cell": "windows-x86_64-cpython3.11"},
        {"os": "windows-latest", "python": "3.12", "cell": "windows-x86_64-cpython3.12"},
        {"os": "macos-latest", "python": "3.11", "cell": "macos-arm64-cpython3.11"},
        {"os": "macos-latest", "python": "3.12", "cell": "macos-arm64-cpython3.12"},
    ]}
    assert out.count("\n") == 1  # one line, ready for $GITHUB_OUTPUT


def test_a_profile_keeps_only_its_required_cells(
    capsys: pytest.CaptureFixture[str], config: str
) -> None:
    code, out, _ = run(capsys, "--github", "--config", config, "--profile", "ci")
    assert code == 0
    assert [job["cell"] for job in json.loads(out)["include"]] == [
        "linux-x86_64-cpython3.11", "linux-x86_64-cpython3.12", "macos-arm64-cpython3.12",
    ]


def test_without_github_it_prints_a_plan_document(
    capsys: pytest.CaptureFixture[str], config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READINESS_RUN_ID", "gh-1234-2")
    code, out, _ = run(capsys, "--config", config, "--profile", "ci")
    assert code == 0
    plan = json.loads(out)
    jsonschema.Draft202012Validator(schema.shipped("plan", 1)).validate(plan)
    assert (plan["kind"], plan["run_id"], plan["profile"]) == ("readiness/plan", "gh-1234-2", "ci")
    assert [(c["id"], c["python"]) for c in plan["cells"]] == [
        ("linux-x86_64-cpython3.11", "3.11"), ("linux-x86_64-cpython3.12", "3.12"),
        ("macos-arm64-cpython3.12", "3.12"),
    ]


def test_this_repositorys_ci_profile_covers_three_systems_and_five_pythons(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, out, _ = run(capsys, "--github", "--profile", "ci")
    jobs = json.loads(out)["include"]
    assert code == 0
    assert len(jobs) == 15
    assert {job["os"] for job in jobs} == {"ubuntu-latest", "windows-latest", "macos-latest"}
    assert "macos-arm64-cpython3.13" in [job["cell"] for job in jobs]


def test_without_pythons_in_the_policy_every_supported_python_is_planned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bare = tmp_path / "policy.toml"
    bare.write_text('required_cells = ["windows-*"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "--github", "--config", str(bare))
    assert code == 0
    pythons = [job["python"] for job in json.loads(out)["include"]]
    assert pythons == ["3.9", "3.10", "3.11", "3.12", "3.13"]


def test_required_cells_matching_no_ci_cell_is_an_error(
    capsys: pytest.CaptureFixture[str], config: str
) -> None:
    code, out, err = run(capsys, "--github", "--config", config, "--profile", "nothing")
    assert (code, out) == (2, "")
    assert "required_cells ['freebsd-*'] match none of the CI cells" in err
    assert "linux-x86_64-cpython3.11" in err


def test_an_unknown_profile_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], config: str
) -> None:
    code, _, err = run(capsys, "--github", "--config", config, "--profile", "cii")
    assert code == 2
    assert "no profile 'cii'; did you mean 'ci'?" in err


def test_help_lists_the_matrix_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "print the planned CI matrix" in capsys.readouterr().out


def test_the_matrix_leaves_out_the_pythons_the_target_does_not_support(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "pyproject.toml").write_text("[project]\nname = 'lib'\nversion = '1'\n"
                                                   "requires-python = '>=3.10'\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.readiness]\npythons = ['3.9', '3.10']\n"
                                             "target = {path = 'lib'}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["matrix", "--github"]) == 0
    out, err = capsys.readouterr()
    assert {job["python"] for job in json.loads(out)["include"]} == {"3.10"}
    assert "readiness: no 3.9 jobs: the target requires Python >=3.10" in err
