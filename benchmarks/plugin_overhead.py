"""What the readiness plugin costs a check suite run: wall time with and without it, and writing.

Runs 2,000 trivial checks with plain pytest and with the plugin writing a document, serial and
under pytest-xdist (-n 2), several times each, and prints medians and ratios. Then times writing
a document of 10,000 checks. Targets: the plugin adds at most 5 % wall time; writing a
10,000-check document takes under 0.5 s.

    python benchmarks/plugin_overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKS = 2000
SUITE = "import pytest\n\n@pytest.mark.parametrize('n', range({n}))\ndef test_check(n):\n    assert n >= 0\n"


def _time_run(folder: Path, extra: list[str]) -> float:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py", *extra]
    start = time.perf_counter()
    subprocess.run(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _compare(folder: Path, label: str, workers: list[str], repeat: int) -> None:
    plain, plugin = [], []
    for _ in range(repeat):  # interleaved, so drift in machine load hits both alike
        plain.append(_time_run(folder, workers))
        plugin.append(_time_run(folder, [*workers, "--readiness-out", str(folder / "out")]))
    base, with_plugin = statistics.median(plain), statistics.median(plugin)
    print(f"{label:<8} plain {base:6.2f} s   with plugin {with_plugin:6.2f} s   "
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
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("READINESS_OUT", None)
    print(f"{CHECKS:,} trivial checks, {args.repeat} runs each, medians; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_suite.py").write_text(SUITE.format(n=CHECKS), encoding="utf-8")
        _compare(folder, "serial", [], args.repeat)
        _compare(folder, "-n 2", ["-n", "2"], args.repeat)
    _time_write(10_000, args.repeat)


if __name__ == "__main__":
    main()
