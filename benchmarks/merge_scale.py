"""Scale benchmark (not a test): merge, verdict and every renderer over synthetic env documents.

3 OSes x 6 Pythons (18 cells) x 2,000 checks with measurements, at a quarter, half and full
size, each timed in a fresh process that also reports its peak RSS, so linear growth can be seen.
Target at full size: under 3 s and 500 MiB in total.

    python benchmarks/merge_scale.py [--checks 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
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


def timed(stages: List[Tuple[str, float, float]], name: str, work: Callable[[], T]) -> T:
    """Run `work`, noting its wall and CPU seconds (CPU time holds steady on a busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    stages.append((name, time.perf_counter() - start, time.process_time() - cpu))
    return result


def pipeline(folder: Path, out: Path) -> Tuple[List[Tuple[str, float, float]], str, int]:
    """Merge, judge, then render and write each format in turn (terminal to a file too); timed."""
    rules = policy.Policy(source="bench", is_default=False,
                          budgets=(policy.Budget("latency_s", max=0.5, max_increase_pct=5.0),))
    stages: List[Tuple[str, float, float]] = []
    matrix = timed(stages, "load + merge", lambda: merge.merge_paths([str(folder)]))
    result = timed(stages, "verdict", lambda: verdict.decide(matrix, rules, today=dt.date(2026, 11, 30)))
    stamp = "2026-11-30T00:00:00Z"
    for name in FORMATS:
        def report(name: str = name) -> None:
            _write(render.render(name, matrix, result, generated_at=stamp), out)

        timed(stages, f"report {name}", report)
    return stages, result.state.value, len(matrix.cells)


def _write(outputs: List[render.Output], out: Path) -> None:
    for output in outputs:
        write_text(out / output.path, output.text)


def measure(folder: Path, out: Path) -> None:
    """In a process of its own: run the pipeline once, print its stages and peak RSS as JSON."""
    stages, state, cells = pipeline(folder, out)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"stages": stages, "state": state, "cells": cells, "rss_mib": rss}))


def run(checks: int, keep: Path) -> Tuple[float, float, float]:
    """Write the documents, then time the pipeline over them in a fresh process; (wall s, cpu s, MiB)."""
    folder = keep / f"envs-{checks}"
    folder.mkdir(parents=True, exist_ok=True)
    size = make_documents(folder, checks)
    # A fresh process per size: its peak RSS is this size's alone, not the largest so far.
    argv = [sys.executable, __file__, "--measure", str(folder), str(keep / f"out-{checks}")]
    report = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    total = sum(wall for _, wall, _ in report["stages"])
    cpu = sum(cpu for _, _, cpu in report["stages"])
    print(f"\n{report['cells']} cells x {checks} checks ({size / 2**20:.1f} MiB of env documents), "
          f"verdict {report['state']}")
    for name, wall, cpu_s in report["stages"]:
        print(f"  {name:<16} {wall:7.3f} s   cpu {cpu_s:7.3f} s")
    print(f"  {'total':<16} {total:7.3f} s   cpu {cpu:7.3f} s   peak RSS {report['rss_mib']:.0f} MiB")
    return total, cpu, report["rss_mib"]


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=2000, help="checks per cell at full size")
    parser.add_argument("--keep", type=Path, help="keep the documents and reports in this folder")
    parser.add_argument("--measure", nargs=2, type=Path, metavar=("ENVS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(*args.measure)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        figures = {fraction: run(args.checks // fraction, keep) for fraction in (4, 2, 1)}
    (quarter, quarter_cpu, quarter_rss), (full, full_cpu, full_rss) = figures[4], figures[1]
    print(f"\nfull / quarter size: time x{full / quarter:.2f}, cpu x{full_cpu / quarter_cpu:.2f}, "
          f"peak RSS x{full_rss / quarter_rss:.2f} (linear growth: x4 at most)")
    print(f"full size: {full:.2f} s wall, {full_cpu:.2f} s cpu (target < 3 s), "
          f"{full_rss:.0f} MiB (target < 500 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
