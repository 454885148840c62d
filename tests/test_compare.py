"""`readiness compare`: cells side by side, grouped by OS and Python, with version differences."""

from __future__ import annotations

from pathlib import Path

import pytest
from envdocs import check, env, write
from hypothesis import given
from hypothesis import strategies as st

from readiness import cli
from readiness.judge import rundiff, statistics

LINUX12 = "linux-x86_64-cpython3.12"
LINUX9 = "linux-x86_64-cpython3.9"
WINE = "windows-x86_64-wine-cpython3.12"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so the repository's own pyproject.toml policy never applies."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    write(tmp_path,
          env(LINUX12, [check("db"), check("win", "not_applicable"), check("same")], installed={"anyio": "4.6"}),
          env(LINUX9, [check("db", "failed"), check("win", "not_applicable"), check("same")],
              installed={"anyio": "4.1"}),
          env(WINE, [check("db", "skipped"), check("win"), check("same")], installed={"anyio": "4.6"}))
    return tmp_path


def test_compare_lists_differing_checks_with_version_differences(envs: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cells: {LINUX9}, {LINUX12}, {WINE}\n")  # version order: 3.9 before 3.12
    assert "1 check(s) differ between cells, in 1 pattern(s) of outcomes:" in out
    assert f"  {LINUX9}: failed" in out and f"  {WINE}: skipped" in out
    assert "  by OS:     linux failed, windows-wine skipped" in out
    assert "  by Python: cpython3.9 failed, cpython3.12 skipped" in out
    assert f"  anyio: {LINUX9} 4.1, {LINUX12} 4.6, {WINE} 4.6" in out
    assert "  fails only in cpython3.9 (linux)\n" in out
    assert (f"  passes in {LINUX12}; the failing cells differ in: Python 3.9 (passing: 3.12); "
            "anyio 4.1 (passing: 4.6)") in out
    assert "    db\n" in out
    assert "\n    win\n" not in out and "\n    same\n" not in out  # not applicable is not a difference


def test_compare_by_os_shows_only_checks_that_differ_between_groups(envs: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs), "--by", "os"]) == 0
    lines = capsys.readouterr().out.split("\n\n")[-1].splitlines()
    assert lines[0].split() == ["check", "linux", "windows-wine"]
    assert lines[1].split() == ["db", "failed", "skipped"]
    assert len(lines) == 2  # `win` applies in one group only, `same` is the same everywhere


def test_compare_by_python_lists_pythons_in_version_order(envs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs), "--by", "python"]) == 0
    lines = capsys.readouterr().out.split("\n\n")[-1].splitlines()
    assert lines[0].split() == ["check", "cpython3.9", "cpython3.12"]
    assert lines[1].split() == ["db", "failed", "skipped"]


def test_compare_of_300_checks_says_a_package_difference_once(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cells = [f"linux-x86_64-cpython3.{minor}" for minor in (9, 10, 11, 12, 13)] + [WINE]
    docs = []
    for cell in cells:
        bad = cell.endswith("3.12")
        checks = [check(f"test_signer.py::test_{i}", "failed" if bad and i < 268 else "passed",
                        message="RuntimeError: 3.12 only" if bad and i < 268 else None) for i in range(300)]
        docs.append(env(cell, checks, installed={"pytest": "9.0.3", "cryptography": "44.0" if bad else "43.0"}))
    write(tmp_path / "many", *docs)
    assert cli.main(["compare", str(tmp_path / "many"), "--by", "python"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cells: " + ", ".join(cells)  # 3.9, 3.10, ... 3.13: version order
    header = next(line for line in lines if line.startswith("check "))
    assert header.split() == ["check", "cpython3.9", "cpython3.10", "cpython3.11", "cpython3.12", "cpython3.13"]
    for by in (["--by", "os"], ["--by", "python"]):
        assert cli.main(["compare", str(tmp_path / "many"), *by]) == 0
        out = capsys.readouterr().out
        assert out.count("cryptography") == 1, by
        assert "test_signer.py::test_299" not in out  # the same outcome in every cell: not shown
    assert cli.main(["compare", str(tmp_path / "many")]) == 0
    out = capsys.readouterr().out
    assert "268 check(s) differ between cells, in 1 pattern(s) of outcomes:" in out
    # The difference once above the checks, and once where it explains why they fail.
    assert out.count("cryptography") == 2 and out.count("pytest") == 0
    assert "  fails only in cpython3.12 (linux, windows-wine)\n" in out
    assert ("the failing cells differ in: Python 3.12 (passing: 3.9, 3.10, 3.11, 3.13); "
            "cryptography 44.0 (passing: 43.0)") in out
    assert "test_signer.py::test_267\n" in out and "test_signer.py::test_299" not in out
    assert len(out.splitlines()) < 268 + 20  # each differing check once, the rest said once


def test_compare_with_a_bad_option_exits_2(envs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs), "--by", "arch"]) == 2


def test_baseline_diff_sorts_failures(tmp_path: Path) -> None:
    from readiness.judge import merge

    write(tmp_path / "old", env(LINUX12, [check("a", "failed"), check("b", "failed"), check("c")], run_id="old"))
    write(tmp_path / "new", env(LINUX12, [check("a", "failed"), check("b"), check("c", "error"), check("d", "flaky")]))
    diff = rundiff.baseline_diff(merge.merge_paths([str(tmp_path / "new")]), merge.merge_paths([str(tmp_path / "old")]))
    assert diff.still_failing == [("a", LINUX12)] and diff.fixed == [("b", LINUX12)]
    assert diff.new_failures == [("c", LINUX12)] and diff.flaky == [("d", LINUX12)]


def test_a_clear_slowdown_exceeds_and_noise_does_not() -> None:
    base = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0]
    slow = statistics.measured_change(base, [1.2, 1.22, 1.19, 1.21, 1.2, 1.18], 5.0)
    assert slow.judged and slow.exceeds and slow.p_value is not None and slow.p_value < 0.05
    assert slow.ci_low_pct is not None and slow.ci_low_pct > 5.0
    noise = statistics.measured_change(base, [1.01, 0.99, 1.0, 1.02, 0.98, 1.0], 5.0)
    assert noise.judged and not noise.exceeds


def test_a_change_is_not_judged_across_machines_or_on_too_few_samples() -> None:
    assert "another machine" in statistics.measured_change([1.0] * 5, [2.0] * 5, 5.0, same_machine=False).note
    assert "fewer than 3 samples" in statistics.measured_change([1.0], [2.0], 5.0).note


@given(st.lists(st.floats(0.1, 10), min_size=3, max_size=12), st.lists(st.floats(0.1, 10), min_size=3, max_size=12))
def test_mann_whitney_p_is_a_probability_and_symmetric(a: list, b: list) -> None:
    p = statistics.mann_whitney_p(a, b)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(statistics.mann_whitney_p(b, a))
