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
    assert "1 check(s) differ between cells:" in out
    assert f"  {LINUX9}: failed" in out and f"  {WINE}: skipped" in out
    assert "  by OS:     linux failed, windows-wine skipped" in out
    assert "  by Python: cpython3.12 skipped, cpython3.9 failed" in out
    assert f"    anyio: {LINUX12} 4.6, {LINUX9} 4.1, {WINE} 4.6" in out
    assert "\nwin\n" not in out and "\nsame\n" not in out  # not applicable is not a difference


def test_compare_by_os_folds_cells_worst_wins(envs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs), "--by", "os"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["check", "linux", "windows-wine"]
    assert lines[3].split() == ["db", "failed", "skipped"]
    assert lines[5].split() == ["win", "not_applicable", "passed"]


def test_compare_by_python(envs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(envs), "--by", "python"]) == 0
    assert capsys.readouterr().out.splitlines()[3].split() == ["db", "skipped", "failed"]


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
