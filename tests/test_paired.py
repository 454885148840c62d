"""Paired measurement in the cell: the median ratio's interval, pairs taken A B / B A until settled,
`evidence.sample_paired` end to end (with a baseline, without one, and with a baseline that failed
to build), and the env document's paired record."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import jsonschema
import pytest
from conftest import read_document

from readiness.cell.baseline_env import (
    BASELINE_ENV_NAMES,
    BASELINE_ERROR_ENV,
    BASELINE_PYTHON_ENV,
    BASELINE_PYTHONPATH_ENV,
    BASELINE_REF_ENV,
    BASELINE_SHA_ENV,
    Baseline,
    baseline_from,
)
from readiness.cell.measure import MeasurementError, Timed, time_command
from readiness.cell.paired import MIN_PAIRS, Pace, PairBudgets, paired_settled, ratio_interval, take_pairs
from readiness.cell.sampling import BUDGETS_ENV, Limit, increases_for
from readiness.model import document, schema
from readiness.model.document import Measurement, Pair, Paired, RatioInterval, Sampling
from readiness.model.errors import SchemaError
from readiness.model.statistics import Interval, fewest_for_interval, median_interval, pairs_needed

pytest_plugins = ["pytester"]
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


# --- the interval ------------------------------------------------------------------------------


def test_six_values_are_the_fewest_with_a_two_sided_95_percent_interval() -> None:
    assert fewest_for_interval(0.95) == MIN_PAIRS == 6
    # 2 * 0.5**6 = 0.031 <= 0.05: the extremes
    assert median_interval([3.0, 1.0, 6.0, 2.0, 5.0, 4.0]) == Interval(1.0, 3.5, 6.0)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == Interval(None, 3.0, None)


def test_known_order_statistics_of_eighteen_values() -> None:
    # Binomial(18, 1/2): P(B <= 4) = 4048/262144 <= 0.025 < P(B <= 5) = 12616/262144
    assert median_interval([float(x) for x in range(1, 19)]) == Interval(5.0, 9.5, 14.0)


def test_pairs_needed_grow_with_the_interval_against_the_distance_to_the_limit() -> None:
    # half-width 0.04 towards the limit, 0.02 away from it: four times the pairs
    assert pairs_needed(10, Interval(0.99, 1.03, 1.07), 1.05) == 40
    assert pairs_needed(10, Interval(0.99, 1.05, 1.07), 1.05) is None  # the median on the limit
    assert pairs_needed(4, Interval(None, 1.0, None), 1.05) == 6


# --- taking pairs ------------------------------------------------------------------------------


class Fake:
    """Two sides that log when each ran, with values from a list, and a clock that ticks per call."""

    def __init__(self, current: List[float], baseline: List[float]) -> None:
        self.log: List[str] = []
        self._current: Iterator[float] = iter(current * 100)
        self._baseline: Iterator[float] = iter(baseline * 100)
        self.ticks = 0

    def side(self, name: str) -> Callable[[], Timed]:
        def take() -> Timed:
            self.log.append(name)
            return Timed(next(self._current if name == "A" else self._baseline))
        return take

    def now(self) -> str:
        self.ticks += 1
        return f"2026-11-30T10:00:{self.ticks:02d}.000Z"

    def take(self, n: int, budgets: PairBudgets) -> Any:
        return take_pairs(self.side("A"), self.side("B"), n, budgets, "s", Pace(now=self.now))


RELATIVE = PairBudgets(increases=(5.0,))


def test_pairs_alternate_a_b_then_b_a_each_sample_with_its_timestamp() -> None:
    fake = Fake([1.0], [1.0])
    pairs, sampling = fake.take(4, PairBudgets())
    assert fake.log == ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert [p.first for p in pairs] == ["current", "baseline", "current", "baseline"]
    assert (pairs[0].current_at, pairs[0].baseline_at) == ("2026-11-30T10:00:01.000Z", "2026-11-30T10:00:02.000Z")
    assert (pairs[1].baseline_at, pairs[1].current_at) == ("2026-11-30T10:00:03.000Z", "2026-11-30T10:00:04.000Z")
    assert sampling == Sampling(4, 4, "no budget: all 4 pairs taken")


def test_a_clear_slowdown_stops_at_six_pairs() -> None:
    pairs, sampling = Fake([2.0, 2.1], [1.0, 1.02]).take(30, RELATIVE)
    assert len(pairs) == 6 and sampling.taken == 6 and sampling.max == 30
    assert sampling.reason.startswith("settled: the median ratio's 95 % interval ")
    assert sampling.reason.endswith(" is over +5 % after 6 pairs")


def test_no_change_stops_at_six_pairs_within_the_budget() -> None:
    pairs, sampling = Fake([1.0, 1.01, 0.99], [1.0]).take(30, RELATIVE)
    assert len(pairs) == 6
    assert sampling.reason == "settled: the median ratio's 95 % interval 0.99 to 1.01 is within +5 % after 6 pairs"


def test_ratios_straddling_the_budget_run_to_n() -> None:
    pairs, sampling = Fake([1.0, 1.1], [1.0]).take(12, RELATIVE)
    assert len(pairs) == 12
    assert sampling == Sampling(12, 12, "n reached: 12 pairs did not settle the +5 % budget(s)")


def test_an_absolute_budget_the_current_samples_straddle_keeps_pairing() -> None:
    budgets = PairBudgets(increases=(5.0,), limits=(Limit(1.0),))
    pairs, sampling = Fake([0.9, 1.1], [0.9, 1.1]).take(10, budgets)  # ratio 1 settled; the 1 s budget is not
    assert len(pairs) == 10 and sampling.reason == "n reached: 10 pairs did not settle the +5 %, 1 s budget(s)"
    settled = paired_settled([Pair(0.5, 0.5, "", "")] * 6, budgets, "s")
    assert "is within +5 % after 6 pairs; settled: the median's 95 % upper bound 0.5 s is under" in settled


def test_the_relative_budgets_come_from_the_environment_validate_sets(tmp_path: Path) -> None:
    environ = {BUDGETS_ENV: json.dumps({"startup_s": {"max": None, "statistic": "median", "unit": "s",
                                                      "max_increase_pct": 5.0}})}
    assert increases_for("startup_s", tmp_path, environ) == [5.0]
    assert increases_for("other_s", tmp_path, environ) == []
    (tmp_path / "pyproject.toml").write_text("[tool.readiness.budgets.startup_s]\nmax_increase_pct = 3\n",
                                             encoding="utf-8")
    assert increases_for("startup_s", tmp_path, {}) == [3.0]


def test_a_pair_leaves_out_the_time_each_side_waited_for_a_cpu() -> None:
    fake = Fake([], [])
    pairs, _ = take_pairs(lambda: Timed(3.0, 1.0), lambda: Timed(2.5, 0.5), 1, PairBudgets(), "s", Pace(now=fake.now))
    [pair] = pairs
    assert (pair.current, pair.current_wait, pair.baseline, pair.baseline_wait) == (3.0, 1.0, 2.5, 0.5)
    assert pair.ratio == 1.0  # 2 s of its own on each side; the wall times alone would say +20 %
    assert Pair(3.0, 2.5, "", "").ratio == 1.2  # where the platform does not say, wall time


def test_time_command_times_a_real_run_and_its_wait_where_linux_says() -> None:
    timed = time_command([sys.executable, "-c", "import time; time.sleep(0.2)"])
    assert timed.wall_s >= 0.2 and timed.own_s >= 0.2  # a sleep is the run's own time, never a wait
    if sys.platform.startswith("linux"):
        assert timed.waited_s is not None and 0.0 <= timed.waited_s <= timed.wall_s
    with pytest.raises(MeasurementError, match="exited with 3: bad"):
        time_command([sys.executable, "-c", "import sys; sys.stderr.write('bad'); sys.exit(3)"])
    with pytest.raises(MeasurementError, match=r"did not finish within 0\.2 s"):
        time_command([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.2)


# --- the baseline a cell is given --------------------------------------------------------------


def test_no_baseline_variable_means_no_baseline() -> None:
    assert baseline_from({}) is None
    assert baseline_from({BASELINE_PYTHON_ENV: "/b/python"}) is None


def test_the_baseline_command_replaces_the_interpreter_and_sets_its_pythonpath() -> None:
    found = baseline_from({BASELINE_REF_ENV: "main", BASELINE_SHA_ENV: SHA, BASELINE_PYTHON_ENV: "/b/python",
                           BASELINE_PYTHONPATH_ENV: "/b/target"})
    assert found == Baseline("main", SHA, "/b/python", "/b/target")
    assert found.argv(["/a/python", "-c", "import x"]) == ["/b/python", "-c", "import x"]
    assert found.env({"PYTHONPATH": "/a/target", "K": "v"}) == {"PYTHONPATH": "/b/target", "K": "v"}
    assert Baseline("main", SHA, "/b/python").env({"K": "v"}) == {"K": "v"}


def test_a_baseline_that_failed_to_build_has_no_command() -> None:
    found = baseline_from({BASELINE_REF_ENV: "v1.2", BASELINE_SHA_ENV: SHA, BASELINE_ERROR_ENV: "no wheel"})
    assert found is not None and found.error == "no wheel" and found.python is None
    with pytest.raises(ValueError, match=r"the baseline at v1\.2 was not built in this cell: no wheel"):
        found.argv(["python"])


# --- evidence.sample_paired end to end ---------------------------------------------------------

# Each side appends its letter to a file, so the test reads the order the sides ran in.
SUITE = """
import sys
import pytest

SIDE = "import pathlib, sys; pathlib.Path(sys.argv[1]).open('a').write(sys.argv[2])"

@pytest.mark.check(id="perf.startup")
def test_startup(evidence):
    argv = [sys.executable, "-c", SIDE, "order.txt"]
    taken = evidence.sample_paired("startup_s", argv + ["A"], argv + ["B"], n=4)
    assert len(taken.samples) == taken.sampling.taken
"""


@pytest.fixture
def cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timing lock of this test's own, no budgets and no baseline unless a test sets them."""
    monkeypatch.setenv("READINESS_LOCK", str(tmp_path / "timing.lock"))
    for name in (BUDGETS_ENV, *BASELINE_ENV_NAMES):
        monkeypatch.delenv(name, raising=False)


def _measurement(pytester: pytest.Pytester) -> Dict[str, Any]:
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest("--readiness-out", "out").assert_outcomes(passed=1)
    [path] = sorted((pytester.path / "out").glob("*.json"))
    found: Dict[str, Any] = read_document(path)["checks"][0]["measurements"]["startup_s"]
    return found


@pytest.mark.usefixtures("cell")
def test_sample_paired_takes_pairs_a_b_then_b_a_with_timestamps(pytester: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASELINE_REF_ENV, "HEAD")
    monkeypatch.setenv(BASELINE_SHA_ENV, SHA)
    monkeypatch.setenv(BASELINE_PYTHON_ENV, sys.executable)
    m = _measurement(pytester)
    assert (pytester.path / "order.txt").read_text(encoding="utf-8") == "ABBAABBA"
    paired = m["paired"]
    assert (paired["ref"], paired["sha"], paired["error"]) == ("HEAD", SHA, None)
    assert [p["first"] for p in paired["pairs"]] == ["current", "baseline", "current", "baseline"]
    assert m["samples"] == [p["current"] for p in paired["pairs"]]
    second = paired["pairs"][1]
    assert second["baseline_at"] < second["current_at"] and second["baseline_at"].endswith("Z")
    assert paired["interval"]["lower"] is None  # four pairs give no 95 % interval
    assert paired["interval"]["method"].startswith("sign test: two-sided distribution-free interval")
    assert paired["stopped"] == m["sampling"]["reason"] == "no budget: all 4 pairs taken"
    if sys.platform.startswith("linux"):
        assert all(p["current_wait"] is not None and p["baseline_wait"] is not None for p in paired["pairs"])


@pytest.mark.usefixtures("cell")
def test_without_a_baseline_sample_paired_samples_the_current_command_alone(pytester: pytest.Pytester) -> None:
    m = _measurement(pytester)
    assert (pytester.path / "order.txt").read_text(encoding="utf-8") == "AAAA"
    assert "paired" not in m and len(m["samples"]) == 4
    assert m["sampling"]["reason"] == "no budget on startup_s: all 4 samples taken"


@pytest.mark.usefixtures("cell")
def test_a_baseline_that_failed_to_build_is_recorded_with_the_current_samples(pytester: pytest.Pytester,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASELINE_REF_ENV, "v1.2")
    monkeypatch.setenv(BASELINE_SHA_ENV, SHA)
    monkeypatch.setenv(BASELINE_ERROR_ENV, "uv pip install failed:\n  No solution found")
    m = _measurement(pytester)
    assert (pytester.path / "order.txt").read_text(encoding="utf-8") == "AAAA"
    assert m["paired"] == {"ref": "v1.2", "sha": SHA, "pairs": [], "interval": None,
                           "stopped": "no pairs: the target at v1.2 was not built in this cell",
                           "error": "uv pip install failed:\n  No solution found"}


# --- the document ------------------------------------------------------------------------------


def _paired(count: int = 6) -> Paired:
    pairs = [Pair(1.0 + i / 100, 1.0, f"2026-11-30T10:00:{2 * i:02d}.000Z", f"2026-11-30T10:00:{2 * i + 1:02d}.000Z",
                  "current" if i % 2 == 0 else "baseline") for i in range(count)]
    return Paired("HEAD", SHA, pairs, ratio_interval(pairs), "settled: ...")


def test_a_paired_measurement_round_trips() -> None:
    m = Measurement("s", [p.current for p in _paired().pairs], 0.5, Sampling(6, 30, "settled: ..."), _paired())
    assert Measurement.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    interval = m.paired.interval if m.paired is not None else None
    assert isinstance(interval, RatioInterval)
    assert (interval.lower, interval.upper, interval.confidence) == (1.0, 1.05, 0.95)
    assert interval.median == pytest.approx(1.025)
    assert Measurement.from_dict({"unit": "s", "samples": [1.0]}).paired is None  # older documents


def _document_with(tmp_path: Path, paired: Dict[str, Any]) -> Path:
    from envdocs import check, env

    record = check("perf/startup", measurements={"startup_s": [1.0]})
    data = env("linux-x86_64-cpython3.12", [record]).to_dict()
    data["checks"][0]["measurements"]["startup_s"]["paired"] = paired
    path = tmp_path / "env.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_document_with_pairs_is_valid_against_the_shipped_schema(tmp_path: Path) -> None:
    path = _document_with(tmp_path, _paired().to_dict())
    read_document(path)  # the loader and the reference validator both accept it
    assert document.load(path).checks[0].measurements["startup_s"].paired == _paired()


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p["pairs"][0].update(first="both"), r"pairs\[0\]\.first"),
    (lambda p: p.update(pairs=p["pairs"] * 2000), r"pairs: holds at most 10000 item\(s\), found 12000"),
    (lambda p: p.update(stopped="x" * 1001), r"stopped"),
    (lambda p: p.pop("error"), r"error: missing"),
])
def test_the_strict_reader_bounds_the_paired_record(tmp_path: Path, change: Any, message: str) -> None:
    paired = _paired().to_dict()
    change(paired)
    path = _document_with(tmp_path, paired)
    with pytest.raises(SchemaError, match=message):
        document.load(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not jsonschema.Draft202012Validator(schema.shipped("env", 2)).is_valid(data)
