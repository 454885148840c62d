"""How fast `nox -s validate` runs the cells, against plain nox running them one after another.

Uses the committed project in benchmarks/validate_speed/ (five Pythons, an I/O-bound suite of
about a second per cell). Prints medians and ratios; targets on 2 cores: warm validate at least
2.5x faster than plain sequential `nox -R`; cold validate (uv) at least 2.5x faster than cold
plain nox with its default virtualenv backend; validate's wall time at most 1.5x the slowest
single cell plus the merge. With --demo, also times the demo suite (reported, not judged).

    python benchmarks/validate_speed.py [--repeat N] [--demo]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

PROJECT = Path(__file__).resolve().parent / "validate_speed"
REPO = PROJECT.parents[1]


def _run(args: List[str], cwd: Path, env: Dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nox", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _slowest_cell(cwd: Path) -> float:
    run_id = (cwd / "reports" / "latest").read_text(encoding="utf-8").strip()
    envs = cwd / "reports" / "runs" / run_id / "envs"
    return max(json.loads(p.read_text(encoding="utf-8"))["duration_s"] for p in envs.glob("*.json"))


def _median(samples: List[float]) -> float:
    return statistics.median(samples)


def measure(cwd: Path, repeat: int) -> None:
    env = dict(os.environ, REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"))
    figures: Dict[str, List[float]] = {k: [] for k in ("cold_validate", "cold_plain_virtualenv",
                                                       "warm_validate", "warm_plain_R", "slowest")}
    for _ in range(repeat):
        shutil.rmtree(cwd / ".nox", ignore_errors=True)
        figures["cold_validate"].append(_run(["-s", "validate"], cwd, env))
        figures["warm_validate"].append(_run(["-s", "validate"], cwd, env))
        figures["slowest"].append(_slowest_cell(cwd))
        shutil.rmtree(cwd / ".nox", ignore_errors=True)
        figures["cold_plain_virtualenv"].append(
            _run(["-s", "plain", "--default-venv-backend", "virtualenv"], cwd, env))
        figures["warm_plain_R"].append(_run(["-R", "-s", "plain", "--default-venv-backend", "virtualenv"], cwd, env))
    m = {k: _median(v) for k, v in figures.items()}
    print(f"medians of {repeat} run(s), {os.cpu_count()} cores")
    print(f"  warm: validate {m['warm_validate']:6.1f} s   plain nox -R sequential {m['warm_plain_R']:6.1f} s   "
          f"speed-up {m['warm_plain_R'] / m['warm_validate']:4.2f}x (target >= 2.5x)")
    print(f"  cold: validate (uv) {m['cold_validate']:6.1f} s   plain nox (virtualenv) {m['cold_plain_virtualenv']:6.1f} s   "
          f"speed-up {m['cold_plain_virtualenv'] / m['cold_validate']:4.2f}x (target >= 2.5x)")
    print(f"  warm validate / slowest cell {m['slowest']:.1f} s: {m['warm_validate'] / m['slowest']:4.2f}x "
          "(target <= 1.5x the slowest cell plus the merge)")


def demo(repeat: int) -> None:
    samples = [_run(["-s", "validate"], REPO, dict(os.environ)) for _ in range(repeat)]
    print(f"  demo suite, warm validate: median {_median(samples):.1f} s (reported, not judged)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    measure(PROJECT, args.repeat)
    if args.demo:
        demo(args.repeat)


if __name__ == "__main__":
    main()
