"""Sampling that stops when settled: the sign-test bound, the stopping rule, the budgets a cell reads,
`evidence.sample` end to end, and measurements of the emulated (Wine) lane in the judge."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from conftest import read_document
from envdocs import check, env

from readiness.cell.sampling import BUDGETS_ENV, Limit, limits_for, sample_until_settled
from readiness.judge import merge, policy, verdict
from readiness.judge.verdict import Effect
from readiness.model.document import Measurement, Sampling
from readiness.model.statistics import sign_test_bounds
from readiness.render import markdown

pytest_plugins = ["pytester"]


# --- the bound ---------------------------------------------------------------------------------


def test_five_samples_bound_the_median_by_their_extremes() -> None:
    # P(all 5 on one side of the median) = 0.5**5 = 0.031 <= 0.05
    assert sign_test_bounds([3.0, 1.0, 5.0, 2.0, 4.0]) == (1.0, 5.0)


def test_four_samples_bound_nothing() -> None:
    # 0.5**4 = 0.0625 > 0.05: no order statistic is a 95 % bound
    assert sign_test_bounds([1.0, 2.0, 3.0, 4.0]) == (None, None)


def test_known_order_statistics_of_larger_samples() -> None:
    # Binomial(10, 1/2): P(B >= 9) = 11/1024 <= 0.05 < P(B >= 8) = 56/1024
    assert sign_test_bounds([float(x) for x in range(1, 11)]) == (2.0, 9.0)
    # Binomial(15, 1/2): P(B >= 12) = 576/32768 <= 0.05 < P(B >= 11) = 1941/32768
    assert sign_test_bounds([float(x) for x in range(1, 16)]) == (4.0, 12.0)


def test_the_p95_needs_many_samples_for_an_upper_bound() -> None:
    # 0.95**58 > 0.05 >= 0.95**59
    assert sign_test_bounds([1.0] * 58, q=0.95).upper is None
    assert sign_test_bounds([1.0] * 59, q=0.95).upper == 1.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        sign_test_bounds([1.0], q=1.0)


# --- the stopping rule -------------------------------------------------------------------------


def _taker(values: List[float]) -> Any:
    feed: Iterator[float] = iter(values)
    return lambda: next(feed)


def test_samples_well_under_the_budget_stop_at_five() -> None:
    samples, sampling = sample_until_settled(_taker([3.2, 3.0, 3.1, 2.9, 3.05] * 3), 15, [Limit(15.0)],
                                             "startup_s", "s")
    assert len(samples) == 5 and sampling.taken == 5 and sampling.max == 15
    assert sampling.reason == "settled: the median's 95 % upper bound 3.2 s is under the 15 s budget after 5 samples"


def test_samples_well_over_the_budget_stop_at_five_too() -> None:
    samples, sampling = sample_until_settled(_taker([20.0] * 15), 15, [Limit(15.0)], "startup_s", "s")
    assert len(samples) == 5
    assert sampling.reason == "settled: the median's 95 % lower bound 20 s is over the 15 s budget after 5 samples"


def test_samples_straddling_the_budget_run_to_n() -> None:
    samples, sampling = sample_until_settled(_taker([14.0, 16.0] * 5), 10, [Limit(15.0)], "startup_s", "s")
    assert len(samples) == 10 and sampling.taken == 10
    assert sampling.reason == "n reached: 10 samples did not settle the median against the 15 s budget"


def test_no_budget_takes_n() -> None:
    samples, sampling = sample_until_settled(_taker([1.0] * 7), 7, [], "startup_s", "s")
    assert len(samples) == 7 and sampling.reason == "no budget on startup_s: all 7 samples taken"


def test_a_p95_budget_does_not_settle_within_fifteen() -> None:
    samples, _ = sample_until_settled(_taker([1.0] * 15), 15, [Limit(15.0, "p95")], "startup_s", "s")
    assert len(samples) == 15


# --- the budgets a cell reads ------------------------------------------------------------------


def test_budgets_come_from_the_environment_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.readiness.budgets.startup_s]\nmax = 1.0\n", encoding="utf-8")
    environ = {BUDGETS_ENV: json.dumps({"startup_s": {"max": 15.0, "statistic": "p95", "unit": "s"}})}
    assert limits_for("startup_s", tmp_path, environ) == [Limit(15.0, "p95", "s")]
    assert limits_for("other", tmp_path, environ) == []
    assert limits_for("startup_s", tmp_path, {BUDGETS_ENV: "{}"}) == []  # the policy has none


def test_without_the_environment_the_rootdir_pyproject_is_read(tmp_path: Path) -> None:
    assert limits_for("startup_s", tmp_path, {}) == []
    (tmp_path / "pyproject.toml").write_text(
        "[tool.readiness.budgets.startup_s]\nmax = 15.0\nmax_increase_pct = 5.0\n"
        "[tool.readiness.budgets.memory_mb]\nmax_increase_pct = 5.0\n", encoding="utf-8")
    assert limits_for("startup_s", tmp_path, {}) == [Limit(15.0)]
    assert limits_for("memory_mb", tmp_path, {}) == []  # a relative budget alone does not keep sampling going
    (tmp_path / "pyproject.toml").write_text("not toml [", encoding="utf-8")
    assert limits_for("startup_s", tmp_path, {}) == []


def test_validate_gives_cells_the_policys_budgets() -> None:
    from readiness.run.lanes.native import budgets_environ

    rules = policy.parse_policy({"budgets": {"startup_s": {"max": 15.0, "max_increase_pct": 5.0, "unit": "s"},
                                             "memory_mb": {"max_increase_pct": 5.0}}}, "policy.toml")
    assert json.loads(budgets_environ(rules)[BUDGETS_ENV]) == {
        "startup_s": {"max": 15.0, "statistic": "median", "unit": "s", "max_increase_pct": 5.0},
        "memory_mb": {"max": None, "statistic": "median", "unit": None, "max_increase_pct": 5.0}}


# --- evidence.sample end to end ----------------------------------------------------------------

SUITE = """
import sys
import pytest

@pytest.mark.check(id="perf.startup")
def test_startup(evidence):
    taken = evidence.sample("startup_s", [sys.executable, "-c", "pass"], n=N)
    assert len(taken.samples) == taken.sampling.taken
"""


@pytest.fixture
def lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timing lock of this test's own, so other test runs on the machine do not make it wait."""
    monkeypatch.setenv("READINESS_LOCK", str(tmp_path / "timing.lock"))
    monkeypatch.delenv(BUDGETS_ENV, raising=False)


def _measurement(pytester: pytest.Pytester, n: int) -> Dict[str, Any]:
    pytester.makepyfile(test_suite=SUITE.replace("N)", f"{n})"))
    result = pytester.runpytest("--readiness-out", "out")
    result.assert_outcomes(passed=1)
    [path] = sorted((pytester.path / "out").glob("*.json"))
    doc = read_document(path)
    [record] = doc["checks"]
    measurement: Dict[str, Any] = record["measurements"]["startup_s"]
    return measurement


@pytest.mark.usefixtures("lock")
def test_a_budget_from_the_pyproject_settles_after_five_samples(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject="[tool.readiness.budgets.startup_s]\nmax = 15.0\n")
    m = _measurement(pytester, 15)
    assert len(m["samples"]) == 5 and m["unit"] == "s"
    assert m["sampling"]["taken"] == 5 and m["sampling"]["max"] == 15
    assert m["sampling"]["reason"].startswith("settled: the median's 95 % upper bound ")
    assert m["sampling"]["reason"].endswith(" s is under the 15 s budget after 5 samples")


@pytest.mark.usefixtures("lock")
def test_a_budget_the_samples_straddle_runs_to_n(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # every other run sleeps 4 s: half the samples are under the 2.5 s budget, half over it (a run
    # that does not sleep stays under it even on a machine loaded enough to take a second to start Python)
    counter = pytester.path / "count"
    script = (f"import pathlib, time; p = pathlib.Path({str(counter)!r}); k = len(p.read_text()) if p.exists() "
              "else 0; p.write_text('x' * (k + 1)); time.sleep(4.0 if k % 2 else 0)")
    pytester.makepyfile(test_suite=f"""
import sys

def test_startup(evidence):
    evidence.sample("startup_s", [sys.executable, "-c", {script!r}], n=6)
""")
    monkeypatch.setenv(BUDGETS_ENV, json.dumps({"startup_s": {"max": 2.5, "statistic": "median", "unit": "s"}}))
    pytester.runpytest("--readiness-out", "out").assert_outcomes(passed=1)
    [path] = sorted((pytester.path / "out").glob("*.json"))
    m = read_document(path)["checks"][0]["measurements"]["startup_s"]
    assert len(m["samples"]) == 6
    assert m["sampling"] == {"taken": 6, "max": 6,
                             "reason": "n reached: 6 samples did not settle the median against the 2.5 s budget"}


@pytest.mark.usefixtures("lock")
def test_no_budget_takes_all_n_and_says_so(pytester: pytest.Pytester) -> None:
    m = _measurement(pytester, 6)
    assert len(m["samples"]) == 6
    assert m["sampling"] == {"taken": 6, "max": 6, "reason": "no budget on startup_s: all 6 samples taken"}


def test_a_measurement_without_sampling_reads_as_before() -> None:
    assert Measurement.from_dict({"unit": "s", "samples": [1.0]}) == Measurement("s", [1.0])
    with_sampling = Measurement("s", [1.0], None, Sampling(1, 3, "why"))
    assert Measurement.from_dict(with_sampling.to_dict()) == with_sampling


# --- the emulated lane in the judge ------------------------------------------------------------

CELL = "windows-x86_64-wine-cpython3.11"
BASE = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.00]
RULES = {"budgets": {"startup_s": {"max": 15.0, "max_increase_pct": 5.0}}}


def _wine_against(base_lane: str) -> verdict.Verdict:
    now = env(CELL, [check("perf/startup", measurements={"startup_s": [s * 1.5 for s in BASE]})])
    before = env(CELL, [check("perf/startup", measurements={"startup_s": BASE})], run_id="old")
    before.fingerprint["lane"] = base_lane
    rules = policy.parse_policy(RULES, "policy.toml")
    return verdict.decide(merge.Matrix(now.run_id, {CELL: now}), rules, today=dt.date(2026, 11, 30),
                          baseline=merge.Matrix(before.run_id, {CELL: before}))


def test_a_wine_measurement_is_labelled_and_never_compared_with_a_native_baseline() -> None:
    result = _wine_against("native")
    [m] = result.measurements
    assert m.lane == "wine" and m.to_dict()["lane"] == "wine"
    assert m.change is not None and m.change.status == "inconclusive" and not m.change.judged
    [absolute] = [f for f in result.findings if f.kind == "budget"]
    assert f"in {CELL} (emulated: Wine lane) is within the budget of 15 s" in absolute.message
    [claim] = result.by_effect(Effect.INCONCLUSIVE)
    assert claim.message == (f"perf/startup: startup_s in {CELL} (emulated: Wine lane) against the baseline, "
                             "budget +5 %: the baseline was measured in the native lane and this run in the wine "
                             "lane: a measurement of an emulated lane is never compared with a native one")


def test_a_wine_measurement_is_compared_with_a_wine_baseline() -> None:
    result = _wine_against("wine")
    [m] = result.measurements
    assert m.change is not None and m.change.judged and m.change.status == "fail"


def test_the_markdown_report_labels_an_emulated_measurement() -> None:
    result = _wine_against("wine")
    text = markdown._performance(result)
    assert f"| {CELL} (emulated: Wine lane) |" in text.replace("\\_", "_")

