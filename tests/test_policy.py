"""The policy: `[tool.readiness]`, profiles, typo hints, waivers that must say who and until when."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from envdocs import check, env, write

from readiness import cli
from readiness.judge import policy
from readiness.model.document import Severity
from readiness.model.errors import PolicyError

FULL = """
[project]
name = "svc"

[tool.readiness]
required_cells = ["linux-*", "windows-x86_64-cpython3.12"]
required_checks = ["health"]
pythons = ["3.11", "3.12"]
cell_timeout = 900
only_new_failures_block = true
severity = {"perf/*" = "minor", "db" = "critical"}
target = {path = "demo", extras = ["test"], requirements = "constraints.txt"}
suite = {path = "checks", pytest_args = ["-q"]}
wine = {enabled = true, pythons = ["3.11"]}
flaky = {blocks = true, reruns = 2}

[tool.readiness.budgets.startup_s]
max = 15
max_increase_pct = 5
required = true

[[tool.readiness.waivers]]
check = "db"
cells = ["windows-*"]
reason = "driver missing on Windows"
owner = "ana"
expires = 2026-12-31

[tool.readiness.profiles.local]
required_cells = ["linux-*"]
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so the repository's own pyproject.toml policy never applies."""
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str, name: str = "pyproject.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_key_is_read_into_typed_settings(tmp_path: Path) -> None:
    rules = policy.load_policy(write_config(tmp_path, FULL))
    assert rules.required_cells == ("linux-*", "windows-x86_64-cpython3.12")
    assert rules.severity_of("perf/startup", Severity.MAJOR) == Severity.MINOR
    assert rules.severity_of("other", Severity.INFO) == Severity.INFO
    assert rules.budgets[0] == policy.Budget("startup_s", max=15.0, max_increase_pct=5.0, required=True)
    assert rules.waivers[0].expires == dt.date(2026, 12, 31) and rules.waivers[0].cells == ("windows-*",)
    assert rules.target == policy.TargetSettings("demo", ("test",), requirements="constraints.txt")
    assert rules.suite.pytest_args == ("-q",) and rules.wine.enabled and rules.flaky.reruns == 2
    assert rules.cell_timeout == 900.0 and rules.pythons == ("3.11", "3.12") and rules.only_new_failures_block
    assert rules.profiles == ("local",) and not rules.is_default


def test_a_profile_replaces_top_level_keys(tmp_path: Path) -> None:
    rules = policy.load_policy(write_config(tmp_path, FULL), "local")
    assert rules.required_cells == ("linux-*",) and rules.label.endswith("(profile local)")
    with pytest.raises(PolicyError, match="no profile 'lokal'; did you mean 'local'"):
        policy.load_policy(write_config(tmp_path, FULL), "lokal")


def test_a_bare_toml_file_holds_the_same_keys(tmp_path: Path) -> None:
    rules = policy.load_policy(write_config(tmp_path, 'required_checks = ["a"]\n', "policy.toml"))
    assert rules.required_checks == ("a",)


@pytest.mark.parametrize(("text", "message"), [
    ("required_cell = []", "unknown key 'required_cell'; did you mean 'required_cells'"),
    ("[budgets.x]\nmaxx = 1", "unknown key 'maxx'; did you mean 'max'"),
    ("[budgets.x]\nrequired = true", "give max .absolute. and/or max_increase_pct"),
    ("severity = {a = 'blocker'}", "'blocker' is not a severity"),
    ("cell_timeout = 'long'", "cell_timeout: expected a number"),
    ("pythons = '3.12'", "pythons: expected an array of strings"),
    ("target = {path = 1}", "target.path: expected a non-empty string"),
    ("[[waivers]]\ncheck = 'a'\nowner = 'x'\nexpires = 2030-01-01", r"waivers\[0\]\.reason: is required"),
    ("[[waivers]]\ncheck = 'a'\nreason = 'r'\nexpires = 2030-01-01", r"waivers\[0\]\.owner: is required"),
    ("[[waivers]]\ncheck = 'a'\nreason = 'r'\nowner = 'o'", r"waivers\[0\]\.expires: is required"),
    ("[[waivers]]\ncheck = 'a'\nreason = ''\nowner = 'o'\nexpires = 2030-01-01", "reason: expected a non-empty"),
    ("[[waivers]]\ncheck = 'a'\nreason = 'r'\nowner = 'o'\nexpires = 'soon'", "expected a date"),
    ("[profiles.ci]\nprofiles = {}", "profiles.ci: unknown key 'profiles'"),
    ("flaky = {blocks = 'yes'}", "flaky.blocks: expected true or false"),
    ("= broken", "not valid TOML"),
])
def test_bad_policies_are_refused_with_the_key_and_a_hint(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy.load_policy(write_config(tmp_path, text, "policy.toml"))


def test_a_bad_policy_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, env("linux-x86_64-cpython3.12", [check("a")]))
    config = write_config(tmp_path, "[tool.readiness]\nrequired_checkz = []\n")
    assert cli.main(["verdict", str(tmp_path), "--config", config]) == 2
    assert "did you mean 'required_checks'" in capsys.readouterr().err


def test_a_bad_policy_stops_only_readiness_sessions_with_the_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text(
        "import nox\nfrom readiness.nox import register\nregister()\n\n"
        "@nox.session(python=False)\ndef hello(session):\n    session.log('hello ran')\n", encoding="utf-8")
    write_config(tmp_path, "[project]\nname = 'svc'\n\n[tool.readiness]\npythons = '3.12'\n")
    message = "[tool.readiness].pythons: expected an array of strings, found a string"

    def nox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nox", "-f", str(tmp_path / "noxfile.py"), *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    listed = nox("-l")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert "readiness: warning: " in listed.stderr and f"pyproject.toml {message}\n" in listed.stderr
    assert "validate" in listed.stdout and "hello" in listed.stdout
    other = nox("-s", "hello")
    assert other.returncode == 0 and "hello ran" in other.stderr
    for session in ("validate", "checks-3.11"):
        done = nox("-s", session)
        assert done.returncode == 2 and "Traceback" not in done.stderr, session
        assert done.stderr.endswith(f"pyproject.toml {message}\n") and "readiness: error: " in done.stderr


def test_the_targets_requires_python_decides_the_checks_sessions(tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text("from readiness.nox import register\nregister()\n", encoding="utf-8")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "pyproject.toml").write_text("[project]\nname = 'lib'\nversion = '1'\n"
                                                   "requires-python = '>=3.10'\n", encoding="utf-8")
    write_config(tmp_path, "[tool.readiness]\npythons = ['3.9', '3.10', '3.11']\ntarget = {path = 'lib'}\n")
    done = subprocess.run([sys.executable, "-m", "nox", "-f", str(tmp_path / "noxfile.py"), "-l"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "checks-3.10" in done.stdout and "checks-3.11" in done.stdout and "checks-3.9" not in done.stdout
    assert "readiness: no checks-3.9 session: the target requires Python >=3.10" in done.stderr


def test_without_a_policy_the_default_applies_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, "[project]\nname = 'x'\nversion = '1.2'\n")
    rules = policy.load_policy()
    assert rules.is_default and rules.label == "default policy"
    # Each check keeps its declared severity (the plugin records `major` when none is declared).
    assert rules.severity_of("anything", Severity.MINOR) == Severity.MINOR
    assert rules.severity_of("anything", Severity.CRITICAL) == Severity.CRITICAL
    assert (rules.project.name, rules.project.version) == ("x", "1.2")
    with pytest.raises(PolicyError, match="no policy"):
        policy.load_policy(profile="ci")


def test_pyproject_in_the_working_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, FULL)
    assert policy.load_policy().source.endswith("pyproject.toml")


def test_a_config_without_a_readiness_table_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"has no \[tool.readiness\] table"):
        policy.load_policy(write_config(tmp_path, "[project]\nname = 'x'\n"))
