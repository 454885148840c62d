"""Bounded input benchmark (not a test): peak memory and seconds of `readiness verdict` and
`readiness report` on huge, numerous and deeply nested inputs, each in a child process.

    python benchmarks/bounded_input.py [--keep DIR] [--only NAME ...]

Cases: the 18 x 2,000 matrix of merge_scale.py (a large real run), 10,000 one-check documents,
evidence nested 900 deep, a 200 MiB document, a document of 10^6 checks, five 60 MiB documents
(past the merge's 256 MiB), and the worst a merge still reads: 256 MiB holding 500,000 check
results (two documents of 249,000 checks, two of 1,000 checks with 60 KB of evidence each).
Peak RSS is the child's own (VmHWM from /proc at its exit; os.wait4's ru_maxrss would also count
the pages of this process it was forked from), so it is what a user's machine needs. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import merge_scale

MiB = 1024 * 1024
OUTCOMES = ("error", "failed", "flaky", "xpassed", "skipped", "deselected", "xfailed", "passed", "not_applicable")


def _document(cell: str, checks: int, evidence: Any = None) -> Tuple[str, str, str]:
    """(head, one check, tail) of a valid env document of `checks` passing checks, as JSON text."""
    os_name, arch = cell.split("-")[:2]
    record = {"id": "CHECK", "nodeid": "", "title": "", "category": "g", "severity": "major", "platforms": None,
              "outcome": "passed", "attempts": 1, "duration_s": 0, "message": None, "longrepr": None,
              "first_failure": None, "evidence": {} if evidence is None else {"value": evidence},
              "measurements": {}}
    data: Dict[str, Any] = {
        "kind": "readiness/env", "schema": 1, "tool_version": "0.1.0", "run_id": "bench",
        "cell": {"id": cell, "fingerprint": {
            "os": os_name, "os_release": "bench", "arch": arch, "implementation": "cpython",
            "python_version": "3.12.1", "free_threaded": False, "executable": "/usr/bin/python", "runner": "nox",
            "lane": "native", "ci": None, "machine": {"cpu": "bench", "cores": 2, "platform": f"{os_name}-{arch}"}}},
        "target": {"name": None, "version": None, "commit": None, "dirty": None, "source_hash": None},
        "installed": {}, "started_at": "2026-11-30T10:00:00Z", "finished_at": "2026-11-30T10:00:05Z",
        "duration_s": 5.0, "state": "complete", "reason": None, "collected": "COLLECTED", "checks": "CHECKS",
        "summary": {**{o: 0 for o in OUTCOMES}, "passed": checks}, "coverage": None,
    }
    text = json.dumps(data)
    head, rest = text.split('"COLLECTED"')
    middle, tail = rest.split('"CHECKS"')
    return head + "COLLECTED" + middle, json.dumps(record), tail


def write_document(path: Path, cell: str, checks: int, evidence: Any = None, padding: int = 0) -> None:
    """Write an env document of `checks` checks from a template, streamed (fast, little memory)."""
    head, record, tail = _document(cell, checks, evidence)
    before, after = head.split("COLLECTED")
    with path.open("w", encoding="utf-8") as handle:
        handle.write(before + "[" + ",".join(f'"c{i}"' for i in range(checks)) + "]" + after + "[")
        for start in range(0, checks, 10_000):
            chunk = range(start, min(checks, start + 10_000))
            handle.write(("," if start else "") + ",".join(record.replace('"CHECK"', f'"c{i}"') for i in chunk))
        handle.write("]" + tail)
        handle.write(" " * padding)


def typical(folder: Path) -> None:
    merge_scale.make_documents(folder, 2000)


def ten_thousand(folder: Path) -> None:
    head, record, tail = _document("linux-CELL-cpython3.12", 1)
    text = head.replace("COLLECTED", '["c0"]') + "[" + record.replace('"CHECK"', '"c0"') + "]" + tail
    for index in range(10_000):
        (folder / f"linux-a{index}-cpython3.12.json").write_text(text.replace("CELL", f"a{index}"), encoding="utf-8")


def deep(folder: Path) -> None:
    value: Any = 1
    for _ in range(900):
        value = [value]
    write_document(folder / "linux-x86_64-cpython3.12.json", "linux-x86_64-cpython3.12", 1, value)
    write_document(folder / "linux-x86_64-cpython3.13.json", "linux-x86_64-cpython3.13", 1)


def huge(folder: Path) -> None:
    write_document(folder / "linux-x86_64-cpython3.12.json", "linux-x86_64-cpython3.12", 1)
    with (folder / "linux-x86_64-cpython3.13.json").open("wb") as handle:
        handle.write(b'{"kind": "readiness/env", "padding": "')
        handle.seek(200 * MiB - 2)
        handle.write(b'"}')


def million(folder: Path) -> None:
    write_document(folder / "linux-x86_64-cpython3.12.json", "linux-x86_64-cpython3.12", 1_000_000)


def over_budget(folder: Path) -> None:
    for minor in range(10, 15):
        write_document(folder / f"linux-x86_64-cpython3.{minor}.json", f"linux-x86_64-cpython3.{minor}", 1,
                       padding=60 * MiB)


def at_the_limits(folder: Path) -> None:
    for arch in ("a", "b"):
        write_document(folder / f"linux-{arch}-cpython3.12.json", f"linux-{arch}-cpython3.12", 249_000)
    for arch in ("c", "d"):
        write_document(folder / f"linux-{arch}-cpython3.12.json", f"linux-{arch}-cpython3.12", 1_000, "x" * 60_000)


CASES: Dict[str, Callable[[Path], None]] = {
    "typical": typical, "10k-documents": ten_thousand, "deep-evidence": deep, "200MiB-document": huge,
    "million-checks": million, "over-budget": over_budget, "at-the-limits": at_the_limits,
}


MEASURED = """
import atexit, runpy, sys
out, sys.argv = sys.argv[1], ["readiness", *sys.argv[2:]]
def peak():
    with open("/proc/self/status", encoding="utf-8") as status, open(out, "w", encoding="utf-8") as handle:
        handle.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
runpy.run_module("readiness", run_name="__main__", alter_sys=True)
"""


def measure(args: List[str], cwd: Path) -> Tuple[int, float, float, str]:
    """Exit code, seconds, peak RSS (MiB) and the finding or last line of output of one command."""
    out, peak = cwd / "output.txt", cwd / "peak.txt"
    start = time.perf_counter()
    with out.open("wb") as handle:
        code = subprocess.call([sys.executable, "-c", MEASURED, str(peak), *args], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                               env={**os.environ, "NO_COLOR": "1"})
    seconds = time.perf_counter() - start
    lines = [line for line in out.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    finding = next((line.strip() for line in lines if "larger than" in line or "not merged" in line
                    or "nested more than" in line), lines[-1] if lines else "")
    return code, seconds, int(peak.read_text(encoding="utf-8")) / 1024, finding


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="keep the inputs and reports in this folder")
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="run these cases only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for name in args.only or list(CASES):
            folder = root / name / "envs"
            folder.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            CASES[name](folder)
            size = sum(p.stat().st_size for p in folder.iterdir())
            print(f"\n{name}: {len(list(folder.iterdir())):,} file(s), {size / MiB:,.1f} MiB "
                  f"(written in {time.perf_counter() - start:.1f} s)")
            for command in (["verdict", "envs"], ["report", "envs", "-o", "report"]):
                code, seconds, rss, last = measure(command, folder.parent)
                print(f"  {command[0]:<8} exit {code}  {seconds:6.1f} s  peak RSS {rss:6.0f} MiB  | {last[:110]}")
            if not args.keep:
                for path in folder.iterdir():
                    path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
