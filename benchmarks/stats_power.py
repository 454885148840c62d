"""Power benchmark (not a test): how often the relative-budget judgement is right on real samples.

Two steps:

    python benchmarks/stats_power.py record --python VENV/bin/python [--quiet 150] [--busy 100]
        times the demo's startup (interpreter, import, app build, first request: the probe of
        checks/test_performance.py) in fresh processes, some while a busy loop holds the other
        core, and writes benchmarks/data/startup_samples.json.
    python benchmarks/stats_power.py [--rounds 2000] [--n 15] [--budget 5]
        resamples the recorded samples into a baseline run and a current run of `n` samples
        each (as checks/test_performance.py takes), multiplies the current run by a known
        shift (0, 2, 5 and 10 %), judges each pair with readiness.judge.compare.judge_relative and
        prints the rates of NO-GO, INCONCLUSIVE and PASS per shift.

Targets: at most 1 % false NO-GO at a 0 % shift, at least 90 % detection (NO-GO) at 10 %.
Both runs of a pair come from the same condition (quiet or busy): the machine fingerprint
does not see load, so a pair mixing them is what a shared CI runner can produce; those
rates are printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "startup_samples.json"
PROBE = """
import sys
from starlette.testclient import TestClient
from readiness_demo import create_app
with TestClient(create_app()) as client:
    sys.exit(0 if client.get("/health").status_code == 200 else 1)
"""
BUSY_LOOP = "while True:\n    pass\n"
SHIFTS = (0.0, 2.0, 5.0, 10.0)
SWEEP = (15, 30, 60, 120, 240)  # samples per run for the sample-size table
BLOCK = 25  # samples per block; quiet and busy blocks alternate, so drift hits both alike


# --- recording ---------------------------------------------------------------------------------


def time_once(python: str) -> float:
    started = time.perf_counter()
    completed = subprocess.run([python, "-c", PROBE], stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"the probe failed: {completed.stderr.decode('utf-8', 'replace')[-2000:]}")
    return elapsed


def record_block(python: str, count: int, busy: bool) -> List[Dict[str, Any]]:
    loop: Optional[subprocess.Popen[bytes]] = None
    if busy:
        loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL)
        time.sleep(0.5)
    try:
        return [{"seconds": time_once(python), "busy": busy, "load1": _load()} for _ in range(count)]
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()


def _load() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def record(python: str, quiet: int, busy: int, out: Path) -> None:
    time_once(python)  # warm the file cache once; not recorded
    samples: List[Dict[str, Any]] = []
    left = {False: quiet, True: busy}
    while left[False] or left[True]:
        for is_busy in (False, True):
            count = min(BLOCK, left[is_busy])
            if count:
                samples += record_block(python, count, is_busy)
                left[is_busy] -= count
                print(f"recorded {len(samples)} samples", file=sys.stderr)
    data = {
        "what": "wall-clock seconds of the demo's startup probe (checks/test_performance.py) in fresh processes",
        "recorded_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "platform": platform.platform(), "python": _python_version(python)},
        "busy": "a busy loop in another process held one core while busy samples were taken",
        "samples": samples,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(samples)} samples to {out}", file=sys.stderr)


def _python_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip()


# --- resampling ----------------------------------------------------------------------------------


def load_samples(path: Path) -> Dict[str, List[float]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pools: Dict[str, List[float]] = {"quiet": [], "busy": []}
    for sample in data["samples"]:
        pools["busy" if sample["busy"] else "quiet"].append(float(sample["seconds"]))
    return pools


def rates(pools: Sequence[List[float]], cross: bool, shift: float, n: int, rounds: int,
          budget: float, min_effect: float, seed: int) -> Dict[str, float]:
    """Per cent of pairs judged fail (NO-GO), inconclusive and pass at a known shift."""
    from readiness.judge.compare import measured_change

    rng = random.Random(seed)
    counts = {"fail": 0, "inconclusive": 0, "pass": 0}
    needed: List[int] = []
    for _ in range(rounds):
        base_pool = rng.choice(pools)
        new_pool = rng.choice(pools) if cross else base_pool
        base = _draw(rng, base_pool, n)
        new = [s * (1 + shift / 100.0) for s in _draw(rng, new_pool, n)]
        change = measured_change(base, new, budget, min_effect)
        counts[change.status] += 1
        if change.samples_needed is not None:
            needed.append(change.samples_needed)
    result = {key: value / rounds * 100.0 for key, value in counts.items()}
    result["needed"] = float(sorted(needed)[len(needed) // 2]) if needed else 0.0
    return result


def _draw(rng: random.Random, pool: List[float], n: int) -> List[float]:
    """n samples of the pool: without replacement while it is large enough, else with."""
    return rng.sample(pool, n) if n <= len(pool) else rng.choices(pool, k=n)


def report(pools: Dict[str, List[float]], n: int, rounds: int, budget: float, min_effect: float) -> None:
    from readiness.judge.compare import RELATIVE_TEST

    for name, pool in pools.items():
        ordered = sorted(pool)
        print(f"{name}: {len(pool)} samples, median {ordered[len(ordered) // 2]:.4f} s, "
              f"min {ordered[0]:.4f} s, max {ordered[-1]:.4f} s")
    print(f"\ntest: {RELATIVE_TEST}")
    print(f"budget: +{budget:g} %, min effect {min_effect:g} s, {n} samples per run, {rounds} pairs per row\n")
    settings = [("same condition (quiet/quiet or busy/busy)", False), ("mixed conditions (any pair)", True)]
    both = [pools["quiet"], pools["busy"]]
    for title, cross in settings:
        print(title)
        print(f"  {'shift':>6}  {'NO-GO':>7}  {'INCONCL.':>8}  {'PASS':>7}  {'samples to settle (median)':>26}")
        for index, shift in enumerate(SHIFTS):
            r = rates(both, cross, shift, n, rounds, budget, min_effect, seed=index)
            print(f"  {shift:>5g} %  {r['fail']:>6.1f} %  {r['inconclusive']:>7.1f} %  {r['pass']:>6.1f} %"
                  f"  {r['needed']:>26g}")
        print()
    print("false NO-GO = NO-GO at a 0 % shift; detection = NO-GO at a 10 % shift (budget +5 %)\n")
    print("samples per run needed (same condition):")
    print(f"  {'n':>4}  {'false NO-GO at 0 %':>18}  {'PASS at 0 %':>11}  {'detection at 10 %':>17}")
    for size in SWEEP:
        zero = rates(both, False, 0.0, size, rounds // 4, budget, min_effect, seed=100 + size)
        ten = rates(both, False, 10.0, size, rounds // 4, budget, min_effect, seed=200 + size)
        print(f"  {size:>4}  {zero['fail']:>16.1f} %  {zero['pass']:>9.1f} %  {ten['fail']:>15.1f} %")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["record", "resample"], default="resample")
    parser.add_argument("--python", default=sys.executable, help="an interpreter with the demo installed")
    parser.add_argument("--quiet", type=int, default=150)
    parser.add_argument("--busy", type=int, default=100)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--n", type=int, default=15)
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--min-effect", type=float, default=0.0, help="minimum effect, in seconds")
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.python, args.quiet, args.busy, args.data)
        return 0
    report(load_samples(args.data), args.n, args.rounds, args.budget, args.min_effect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
