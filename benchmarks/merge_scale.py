"""Scale benchmark (not a test): merge, verdict and every renderer over synthetic env documents.

3 OSes x 6 Pythons (18 cells) x 2,000 checks with measurements, at a quarter, half and full
size, each timed in a fresh process that also reports its peak RSS, so linear growth can be seen.
Targets, printed beside each figure: at full size under 3 s of CPU and 500 MiB peak RSS in all,
and growth about linear (full / quarter about 4). CPU seconds are the figure to compare: wall
time on a shared machine says more about the neighbours; the load average is printed too.

    python benchmarks/merge_scale.py [--checks 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
FORMATS = ("terminal", "md", "html", "junit", "ctrf", "json", "github")
TARGET_CPU_S = 3.0
TARGET_RSS_MIB = 500.0
LINEAR = 4.0  # full / quarter size, for growth in proportion to the checks
Stage = Tuple[str, float, float]  # name, wall s, cpu s
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


def timed(stages: List[Stage], name: str, work: Callable[[], T]) -> T:
    """Run `work`, noting its wall and CPU seconds (CPU time holds steady on a busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    stages.append((name, time.perf_counter() - start, time.process_time() - cpu))
    return result


def load_and_merge(stages: List[Stage], folder: Path) -> merge.Matrix:
    """merge_paths, its time split in two: reading and validating the documents (bounded read,
    JSON, schema, typed records), and building the matrix from them (cells chosen, checks x cells rows)."""
    assemble = merge._assemble
    built: List[Stage] = []

    def timed_assemble(loaded: object) -> merge.Matrix:
        return timed(built, "build the matrix", lambda: assemble(loaded))  # type: ignore[arg-type]

    merge._assemble = timed_assemble
    try:
        whole: List[Stage] = []
        matrix = timed(whole, "merge", lambda: merge.merge_paths([str(folder)]))
    finally:
        merge._assemble = assemble
    (_, wall, cpu), (name, build_wall, build_cpu) = whole[0], built[0]
    stages += [("read + validate documents", wall - build_wall, cpu - build_cpu), (name, build_wall, build_cpu)]
    return matrix


def pipeline(folder: Path, out: Path) -> Tuple[List[Stage], str, int]:
    """Merge, judge, then render and write each format in turn (terminal to a file too); timed."""
    rules = policy.Policy(source="bench", is_default=False,
                          budgets=(policy.Budget("latency_s", max=0.5, max_increase_pct=5.0),))
    stages: List[Stage] = []
    matrix = load_and_merge(stages, folder)
    result = timed(stages, "verdict (policy)", lambda: verdict.decide(matrix, rules, today=dt.date(2026, 11, 30)))
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


def run(checks: int, keep: Path) -> Dict[str, object]:
    """Write the documents, then time the pipeline over them in a fresh process."""
    folder = keep / f"envs-{checks}"
    folder.mkdir(parents=True, exist_ok=True)
    size = make_documents(folder, checks)
    # A fresh process per size: its peak RSS is this size's alone, not the largest so far.
    argv = [sys.executable, __file__, "--measure", str(folder), str(keep / f"out-{checks}")]
    report: Dict[str, object] = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    report["size_mib"] = size / 2**20
    return report


def totals(report: Dict[str, object]) -> Tuple[float, float]:
    """(wall s, cpu s) of every stage."""
    stages: List[Stage] = report["stages"]  # type: ignore[assignment]
    return sum(wall for _, wall, _ in stages), sum(cpu for _, _, cpu in stages)


def show(checks: int, report: Dict[str, object], full: bool) -> None:
    wall, cpu = totals(report)
    print(f"\n{report['cells']} cells x {checks} checks ({report['size_mib']:.1f} MiB of env documents), "
          f"verdict {report['state']}")
    if full:  # the split of the size the target is for
        print(f"  {'stage':<26} {'wall s':>7} {'cpu s':>7} {'share':>6}")
        for name, stage_wall, stage_cpu in report["stages"]:  # type: ignore[attr-defined]
            print(f"  {name:<26} {stage_wall:7.3f} {stage_cpu:7.3f} {stage_cpu / cpu:6.0%}")
    target = f"  (target < {TARGET_CPU_S:g} s at full size: {_met(cpu < TARGET_CPU_S)})" if full else ""
    print(f"  {'total':<26} {wall:7.3f} {cpu:7.3f}{target}")
    rss = float(report["rss_mib"])  # type: ignore[arg-type]
    print(f"  {'peak RSS':<26} {rss:7.0f} MiB   (target < {TARGET_RSS_MIB:g} MiB: {_met(rss < TARGET_RSS_MIB)})")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=2000, help="checks per cell at full size")
    parser.add_argument("--keep", type=Path, help="keep the documents and reports in this folder")
    parser.add_argument("--measure", nargs=2, type=Path, metavar=("ENVS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(*args.measure)
        return 0
    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} CPU(s)")
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        reports = {fraction: run(args.checks // fraction, keep) for fraction in (4, 2, 1)}
    for fraction, report in reports.items():
        show(args.checks // fraction, report, full=fraction == 1)
    (_, quarter_cpu), (_, half_cpu), (full_wall, full_cpu) = (totals(reports[f]) for f in (4, 2, 1))
    ratio = full_cpu / quarter_cpu
    rss = float(reports[1]["rss_mib"])  # type: ignore[arg-type]
    rss_ratio = rss / float(reports[4]["rss_mib"])  # type: ignore[arg-type]
    print(f"\ngrowth, cpu s quarter / half / full: {quarter_cpu:.2f} / {half_cpu:.2f} / {full_cpu:.2f}; "
          f"full / quarter x{ratio:.2f} (linear: about x{LINEAR:g}), peak RSS x{rss_ratio:.2f}")
    print(f"full size: {full_cpu:.2f} s cpu (target < {TARGET_CPU_S:g} s: {_met(full_cpu < TARGET_CPU_S)}), "
          f"{full_wall:.2f} s wall, {rss:.0f} MiB peak RSS (target < {TARGET_RSS_MIB:g} MiB: "
          f"{_met(rss < TARGET_RSS_MIB)})")
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
