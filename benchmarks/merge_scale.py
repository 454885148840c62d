"""Scale benchmark (not a test): merge, verdict and every renderer over synthetic env documents.

3 OSes x 6 Pythons (18 cells) x 2,000 checks with measurements, at a quarter, half and full
size, so linear growth can be seen. Target at full size: under 3 s and 500 MiB in total.

    python benchmarks/merge_scale.py [--checks 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Callable, Dict, List, Tuple, TypeVar

from readiness import render
from readiness.judge import merge, policy, verdict
from readiness.model import document
from readiness.model.document import CellState, CheckRecord, EnvDocument, Measurement, Outcome, Severity
from readiness.model.output import write_text

OSES = ("linux", "windows", "macos")
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
FORMATS = ("terminal", "md", "html", "junit", "ctrf", "json")
T = TypeVar("T")


def make_documents(folder: Path, checks: int, seed: int = 1) -> int:
    """Write 18 env documents of `checks` checks each; return the bytes written."""
    rng = random.Random(seed)
    total = 0
    for os_name in OSES:
        for python in PYTHONS:
            cell = f"{os_name}-x86_64-cpython{python}"
            doc = EnvDocument(
                run_id="bench", cell_id=cell, fingerprint=_fingerprint(os_name, python), state=CellState.COMPLETE,
                started_at="2026-11-30T10:00:00Z", finished_at="2026-11-30T10:05:00Z", duration_s=300.0,
                installed={f"package-{i}": f"1.{i}" for i in range(60)},
                checks=[_record(i, rng) for i in range(checks)],
            )
            doc.collected = [c.id for c in doc.checks]
            path = folder / f"{cell}.json"
            document.dump(doc, path)
            total += path.stat().st_size
    return total


def _fingerprint(os_name: str, python: str) -> Dict[str, object]:
    return {"os": os_name, "os_release": "bench", "arch": "x86_64", "implementation": "cpython",
            "python_version": f"{python}.0", "free_threaded": False, "executable": "/usr/bin/python",
            "runner": "nox", "lane": "native", "ci": None,
            "machine": {"cpu": "bench", "cores": 2, "platform": f"{os_name}-x86_64"}}


def _record(index: int, rng: random.Random) -> CheckRecord:
    failed = rng.random() < 0.01
    return CheckRecord(
        id=f"suite/module_{index // 50}/check_{index}", outcome=Outcome.FAILED if failed else Outcome.PASSED,
        nodeid=f"checks/test_{index // 50}.py::test_{index}", title=f"check {index}",
        category=("health", "fix", "integration", "api", "performance")[index % 5],
        severity=(Severity.CRITICAL, Severity.MAJOR, Severity.MINOR)[index % 3], duration_s=rng.random(),
        message="AssertionError: expected 200, got 500" if failed else None,
        longrepr="Traceback ...\n" * 10 if failed else None, evidence={"status": 200, "index": index},
        measurements={"latency_s": Measurement("s", [rng.uniform(0.01, 0.02) for _ in range(5)])},
    )


def timed(stages: List[Tuple[str, float]], name: str, work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    stages.append((name, time.perf_counter() - start))
    return result


def pipeline(folder: Path, out: Path) -> Tuple[List[Tuple[str, float]], str, int]:
    """Merge, judge, then render and write each format in turn (terminal to a file too); timed."""
    rules = policy.Policy(source="bench", is_default=False,
                          budgets=(policy.Budget("latency_s", max=0.5, max_increase_pct=5.0),))
    stages: List[Tuple[str, float]] = []
    matrix = timed(stages, "load + merge", lambda: merge.merge_paths([str(folder)]))
    result = timed(stages, "verdict", lambda: verdict.decide(matrix, rules, today=dt.date(2026, 11, 30)))
    stamp = "2026-11-30T00:00:00Z"
    for name in FORMATS:
        timed(stages, f"report {name}", lambda: _write(render.render(name, matrix, result, generated_at=stamp), out))
    return stages, result.state.value, len(matrix.cells)


def _write(outputs: List[render.Output], out: Path) -> None:
    for output in outputs:
        write_text(out / output.path, output.text)


def run(checks: int, keep: Path) -> None:
    folder = keep / f"envs-{checks}"
    folder.mkdir(parents=True, exist_ok=True)
    size = make_documents(folder, checks)
    stages, state, cells = pipeline(folder, keep / f"out-{checks}")
    # Memory in a second pass: tracemalloc slows Python down several times, so not while timing.
    tracemalloc.start()
    pipeline(folder, keep / f"out-{checks}-mem")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = sum(seconds for _, seconds in stages)
    print(f"\n{cells} cells x {checks} checks ({size / 2**20:.1f} MiB of env documents), verdict {state}")
    for name, seconds in stages:
        print(f"  {name:<16} {seconds:7.3f} s")
    print(f"  {'total':<16} {total:7.3f} s   peak traced memory {peak / 2**20:.0f} MiB")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=2000, help="checks per cell at full size")
    parser.add_argument("--keep", type=Path, help="keep the documents and reports in this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        for fraction in (4, 2, 1):
            run(args.checks // fraction, keep)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (whole benchmark, incl. tracemalloc overhead): {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
