"""Timing in fresh subprocesses, the cross-process timing lock, and summary statistics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from readiness.cell.measure import MeasurementError, lock_path, machine_load, sample_command, timing_lock
from readiness.model.statistics import percentile, summarize

PYTHON = sys.executable


def test_sample_command_returns_one_positive_sample_per_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    script = f"open({str(runs)!r}, 'a', encoding='utf-8').write('run\\n')"
    samples = sample_command([PYTHON, "-c", script], n=4)
    assert len(samples) == 4
    assert all(sample > 0 for sample in samples)
    assert runs.read_text(encoding="utf-8").splitlines() == ["run"] * 4


def test_sample_command_passes_the_environment() -> None:
    script = "import os, sys; sys.exit(0 if os.environ.get('CELL') == 'linux-x' else 3)"
    assert len(sample_command([PYTHON, "-c", script], n=1, env={"CELL": "linux-x"})) == 1
    with pytest.raises(MeasurementError, match="exited with 3"):
        sample_command([PYTHON, "-c", script], n=1, env={"CELL": "other"})


def test_sample_command_gives_the_child_a_closed_stdin() -> None:
    script = "import sys; sys.exit(0 if sys.stdin.read() == '' else 4)"
    assert len(sample_command([PYTHON, "-c", script], n=1)) == 1


def test_a_failing_run_reports_its_stderr() -> None:
    script = "import sys; sys.stderr.write('import broke: no module named x'); sys.exit(2)"
    with pytest.raises(MeasurementError, match=r"exited with 2: import broke: no module named x"):
        sample_command([PYTHON, "-c", script], n=3)


def test_a_run_past_its_timeout_is_an_error() -> None:
    with pytest.raises(MeasurementError, match=r"did not finish within 0\.5 s"):
        sample_command([PYTHON, "-c", "import time; time.sleep(30)"], n=1, timeout=0.5)


def test_a_missing_program_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MeasurementError, match="could not start"):
        sample_command([str(tmp_path / "no-such-program")], n=1)


def test_zero_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        sample_command([PYTHON, "-c", "pass"], n=0)


def test_lock_path_comes_from_the_environment(tmp_path: Path) -> None:
    assert lock_path({"READINESS_LOCK": str(tmp_path / "run.lock")}) == tmp_path / "run.lock"
    assert lock_path({}).name == "readiness-timing.lock"


HOLDER = """
import sys
from pathlib import Path
from readiness.cell.measure import timing_lock
with timing_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _start_holder(lock: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [PYTHON, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_the_lock_excludes_another_process_until_it_lets_go(tmp_path: Path) -> None:
    lock = tmp_path / "timing.lock"
    holder = _start_holder(lock)
    try:
        with pytest.raises(TimeoutError, match="still held by"), timing_lock(lock, timeout=0.3):
            pass
    finally:
        holder.communicate(input="release\n", timeout=30)
    assert holder.returncode == 0
    with timing_lock(lock, timeout=30) as hold:
        assert hold.path == lock


WORKER = """
import sys, time
from pathlib import Path
from readiness.cell.measure import timing_lock
log = Path(sys.argv[2])
for _ in range(3):
    with timing_lock(Path(sys.argv[1])):
        with log.open("a", encoding="utf-8") as out:
            out.write(f"start {sys.argv[3]}\\n")
        time.sleep(0.05)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"end {sys.argv[3]}\\n")
"""


def test_concurrent_holders_never_interleave(tmp_path: Path) -> None:
    lock, log = tmp_path / "timing.lock", tmp_path / "log.txt"
    workers = [
        subprocess.Popen(
            [PYTHON, "-c", WORKER, str(lock), str(log), name], stdin=subprocess.DEVNULL
        )
        for name in ("a", "b")
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12
    for start, end in zip(lines[::2], lines[1::2]):
        assert start.startswith("start ") and end == "end " + start.split()[1]


def test_the_lock_is_reentrant_across_sequential_blocks(tmp_path: Path) -> None:
    lock = tmp_path / "nested" / "timing.lock"
    for _ in range(2):
        with timing_lock(lock, timeout=5) as hold:
            assert hold.waited_s >= 0
    assert lock.is_file()


def test_machine_load_is_three_averages_or_none() -> None:
    load = machine_load()
    if sys.platform == "win32":
        assert load is None
    else:
        assert load is not None and len(load) == 3 and all(value >= 0 for value in load)


def test_summarize_known_samples() -> None:
    summary = summarize([3.0, 1.0, 2.0, 4.0, 10.0])
    assert summary == {
        "n": 5,
        "median": 3.0,
        "mean": 4.0,
        "stdev": pytest.approx(3.5355339, rel=1e-6),
        "min": 1.0,
        "max": 10.0,
        "p95": 10.0,
    }


def test_summarize_one_sample_has_no_stdev() -> None:
    assert summarize([0.5])["stdev"] is None


def test_summarize_refuses_no_samples() -> None:
    with pytest.raises(ValueError, match="without samples"):
        summarize([])


def test_percentile_is_nearest_rank() -> None:
    samples = [float(value) for value in range(1, 21)]
    assert percentile(samples, 95.0) == 19.0
    assert percentile(samples, 50.0) == 10.0
    assert percentile(samples, 100.0) == 20.0
    with pytest.raises(ValueError, match="0 < q <= 100"):
        percentile(samples, 0.0)
