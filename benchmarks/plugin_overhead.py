"""What the readiness plugin costs a check suite run: wall time with and without it, and writing.

Runs 300 CPU-bound checks of about 2 ms each (a busy loop, no sleeps) with plain pytest and with
the plugin writing a document, pair by pair (plain, then plugin), serial and under pytest-xdist
(-n 2), and prints the medians and their ratio. Then times writing a document of 10,000 checks.
Targets: the plugin adds at most 5 % wall time; writing a 10,000-check document takes under 0.5 s.

    python benchmarks/plugin_overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKS = 300
LOOP_S = 0.002
# Each check spins on the CPU for LOOP_S: work the plugin's cost is measured against, with no
# sleeps that would hide that cost behind idle time.
SUITE = """import time

import pytest


@pytest.mark.parametrize("n", range({n}))
def test_check(n):
    end = time.process_time() + {loop}
    total = 0
    while time.process_time() < end:
        total += n
    assert total >= 0
"""


def _time_run(folder: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (of pytest and its workers) of one run of the suite."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _compare(folder: Path, label: str, workers: list[str], repeat: int) -> None:
    plain, plugin = [], []
    for _ in range(repeat):  # pair by pair, so drift in machine load hits both alike
        plain.append(_time_run(folder, workers))
        plugin.append(_time_run(folder, [*workers, "--readiness-out", str(folder / "out")]))
    for index, what in ((0, "wall"), (1, "cpu")):
        base = statistics.median(run[index] for run in plain)
        with_plugin = statistics.median(run[index] for run in plugin)
        print(f"{label:<8} {what:<4} plain {base:6.2f} s   with plugin {with_plugin:6.2f} s   "
              f"ratio {with_plugin / base:5.3f}   ({(with_plugin / base - 1) * 100:+5.1f} %, target <= +5 %)")


def _time_write(checks: int, repeat: int) -> None:
    from readiness.model import document
    from readiness.model.document import CellState, CheckRecord, EnvDocument, Outcome

    doc = EnvDocument(
        run_id="bench", cell_id="linux-x86_64-cpython3.12", fingerprint={}, state=CellState.COMPLETE,
        started_at="2026-11-30T00:00:00Z", finished_at="2026-11-30T00:00:01Z",
        checks=[CheckRecord(id=f"check.{i}", outcome=Outcome.PASSED, evidence={"n": i}) for i in range(checks)],
    )
    with tempfile.TemporaryDirectory() as tmp:
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            document.dump(doc, Path(tmp) / "doc.json")
            samples.append(time.perf_counter() - start)
    print(f"writing a document of {checks:,} checks: median {statistics.median(samples) * 1000:.0f} ms "
          f"(target < 500 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="pairs of runs per mode (at least 5)")
    args = parser.parse_args()
    args.repeat = max(5, args.repeat)
    os.environ.pop("READINESS_OUT", None)
    print(f"{CHECKS:,} checks of ~{LOOP_S * 1000:.0f} ms CPU each, {args.repeat} pairs of runs, medians; "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_suite.py").write_text(SUITE.format(n=CHECKS, loop=LOOP_S), encoding="utf-8")
        _compare(folder, "serial", [], args.repeat)
        _compare(folder, "-n 2", ["-n", "2"], args.repeat)
    _time_write(10_000, args.repeat)


if __name__ == "__main__":
    main()
