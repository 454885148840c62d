"""Power benchmark (not a test): how often the paired verdict on a relative budget is right, on real pairs.

Two steps:

    python benchmarks/stats_power.py record [--pairs 240] [--block 20] [--venvs DIR]
        builds two environments of the demo (two uv venvs, each `uv pip install ./demo httpx`
        with demo/constraints.txt: what checks/test_performance.py's probe imports), then times the
        probe in both through the pairing evidence.sample_paired uses (readiness.cell.paired:
        A B / B A, each sample with its timestamp), in blocks of pairs alternating quiet and busy
        (a busy loop in another process on the other core), and writes
        benchmarks/data/startup_pairs.json. Both environments hold the same demo: the true ratio is 1.
        Each sample is timed as sample_paired times it (readiness.cell.measure.time_command: the
        wall time, and how much of it the process waited for a CPU), and beside that the time the
        child measured itself (interpreter start-up excluded) and its CPU time.
    python benchmarks/stats_power.py [--rounds 2000] [--budget 5] [--timing own|wall|inproc|cpu]
                                     [--warmup 0] [--centre] [--n N]
        resamples whole recorded pairs (current and baseline side together, i.i.d. with
        replacement from one condition), multiplies the current side by a known shift (0, 2, 5
        and 10 %), takes pairs until readiness.cell.paired.paired_settled stops them or n is
        reached (as sample_paired does), judges them with the verdict's own function
        (readiness.judge.paired.paired_change) and prints, for each n and condition, the rates of
        NO-GO at +10 %, PASS at 0 % and NO-GO at 0 % (false NO-GO), the mean pairs and seconds
        a cell spends (wall time), and the smallest n that reaches both targets. `own` (the
        default) is what sample_paired compares: the wall time less the wait for a CPU.

Targets: NO-GO at +10 % >= 90 %, PASS at 0 % with the +5 % budget >= 80 %, false NO-GO <= 1 %.
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
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "startup_pairs.json"
# The probe of checks/test_performance.py, printing the seconds it took itself on its last line.
PROBE = """
import time
_started = time.perf_counter()
import sys
from starlette.testclient import TestClient
from readiness_demo import create_app
with TestClient(create_app()) as client:
    ok = client.get("/health").status_code == 200
import os
open(os.environ["PROBE_OUT"], "w").write(str(time.perf_counter() - _started))
sys.exit(0 if ok else 1)
"""
BUSY_LOOP = "while True:\n    pass\n"
SHIFTS = (0.0, 2.0, 5.0, 10.0)
SIZES = (10, 20, 30, 60, 120)  # the most pairs a cell may take
TARGETS = {"detect": 90.0, "pass": 80.0, "false": 1.0}


# --- recording ---------------------------------------------------------------------------------


def build_venvs(where: Path, python: str) -> Dict[str, str]:
    """Two environments of the demo, "current" and "baseline": each's interpreter."""
    pythons = {}
    for side in ("current", "baseline"):
        venv = where / side
        if not (venv / "bin" / "python").exists():
            subprocess.run(["uv", "venv", "-q", str(venv), "-p", python], check=True)
            subprocess.run(["uv", "pip", "install", "-q", "-c", str(ROOT / "demo" / "constraints.txt"),
                            str(ROOT / "demo"), "httpx"], check=True, env=dict(os.environ, VIRTUAL_ENV=str(venv)))
        pythons[side] = str(venv / "bin" / "python")
    return pythons


class Prober:
    """Times the probe with one interpreter (wall seconds, as sample_command does); keeps the child's
    own figure and its CPU seconds (user + system) of each run too."""

    def __init__(self, python: str) -> None:
        self.argv = [python, "-c", PROBE]
        self.out = str(Path(tempfile.gettempdir()) / f"readiness-probe-{os.getpid()}.txt")
        self.inproc: List[float] = []
        self.cpu: List[float] = []

    def __call__(self) -> Any:
        from readiness.cell.measure import time_command

        before = _children_cpu()
        timed = time_command(self.argv, env=dict(os.environ, PROBE_OUT=self.out))
        self.cpu.append(_children_cpu() - before)
        self.inproc.append(float(Path(self.out).read_text(encoding="utf-8")))
        return timed


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def record_block(pythons: Dict[str, str], count: int, busy: bool, block: int) -> List[Dict[str, Any]]:
    from readiness.cell.paired import PairBudgets, take_pairs

    loop: Optional[subprocess.Popen[bytes]] = None
    if busy:
        loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL)
        time.sleep(0.5)
    current, baseline = Prober(pythons["current"]), Prober(pythons["baseline"])
    try:
        pairs, _ = take_pairs(current, baseline, count, PairBudgets(), "s")  # no budget: all `count` pairs
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()
    load = _load()
    return [dict(pair.to_dict(), current_inproc=current.inproc[i], baseline_inproc=baseline.inproc[i],
                 current_cpu=current.cpu[i], baseline_cpu=baseline.cpu[i], busy=busy, block=block, index=i,
                 load1=load)
            for i, pair in enumerate(pairs)]


def _load() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def record(pairs: int, block: int, venvs: Path, python: str, out: Path) -> None:
    """Record blocks of pairs, quiet and busy in turn, writing the file after each block (so a long
    recording can be stopped at any time and keeps what it took)."""
    pythons = build_venvs(venvs, python)
    for side in pythons.values():  # warm the file cache once; not recorded
        Prober(side)()
    recorded: List[Dict[str, Any]] = []
    loads = [_load()]
    left = {False: pairs, True: pairs}
    blocks = 0
    while left[False] or left[True]:
        for busy in (False, True):
            count = min(block, left[busy])
            if count:
                recorded += record_block(pythons, count, busy, blocks)
                blocks += 1
                left[busy] -= count
                loads.append(_load())
                _write(out, recorded, loads, python)
                print(f"recorded {len(recorded)} pairs (load {loads[-1]})", file=sys.stderr)


def _write(out: Path, recorded: List[Dict[str, Any]], loads: List[Optional[float]], python: str) -> None:
    data = {
        "what": ("pairs of the demo's startup probe (checks/test_performance.py) in two environments of the "
                 "same demo, taken by readiness.cell.paired.take_pairs: current/baseline are the process's "
                 "wall seconds, *_wait how many of those it waited for a CPU (run-queue delay), *_inproc the "
                 "seconds the child measured itself (interpreter start-up excluded), *_cpu its CPU seconds"),
        "recorded_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "platform": platform.platform(), "python": _python_version(python),
                    "load1_between_blocks": loads},
        "busy": "a busy loop in another process held one core while busy pairs were taken",
        "pairs": recorded,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(recorded)} pairs to {out}", file=sys.stderr)


def _python_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip()


# --- resampling ----------------------------------------------------------------------------------

Side = Tuple[float, float, float]  # (current, baseline, seconds the pair cost)


def load_pools(path: Path, timing: str, warmup: int) -> Dict[str, List[Side]]:
    """The recorded pairs of each condition, as (current, baseline, wall seconds of both)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    pools: Dict[str, List[Side]] = {"quiet": [], "busy": []}
    for pair in data["pairs"]:
        if pair["index"] < warmup:
            continue
        cost = float(pair["current"]) + float(pair["baseline"])
        pools["busy" if pair["busy"] else "quiet"].append((_timed(pair, "current", timing),
                                                           _timed(pair, "baseline", timing), cost))
    return {name: pool for name, pool in pools.items() if pool}


def centred(pools: Dict[str, List[Side]]) -> Dict[str, List[Side]]:
    """Each pool with its current side divided by the pool's median ratio: both environments hold the
    same demo, so the recorded median's distance from 1 is taken as chance and the shifts become exact."""
    import statistics

    result = {}
    for name, pool in pools.items():
        median = statistics.median(c / b for c, b, _ in pool)
        result[name] = [(c / median, b, cost) for c, b, cost in pool]
    return result


def _timed(pair: Dict[str, Any], side: str, timing: str) -> float:
    """One side's sample as `timing` takes it: "own" is the wall time less the wait for a CPU (what
    sample_paired compares), "wall" the wall time alone, "inproc" and "cpu" the child's figures."""
    if timing == "own":
        return float(pair[side]) - float(pair[f"{side}_wait"])
    return float(pair[side if timing == "wall" else f"{side}_{timing}"])


def one_cell(rng: random.Random, pool: List[Side], shift: float, n: int, budget: float) -> Tuple[str, int, float]:
    """One simulated cell: pairs drawn until sampling stops; its judged status, pairs and seconds."""
    from readiness.cell.paired import PairBudgets, paired_settled
    from readiness.cell.sampling import Limit
    from readiness.judge.paired import paired_change
    from readiness.model.document import Pair, Paired

    budgets = PairBudgets(increases=(budget,), limits=(Limit(15.0),))
    pairs: List[Pair] = []
    seconds = 0.0
    while len(pairs) < n:
        current, baseline, cost = rng.choice(pool)
        pairs.append(Pair(current * (1 + shift / 100.0), baseline, "", "", "current"))
        seconds += cost
        if paired_settled(pairs, budgets, "s"):
            break
    change = paired_change(Paired("HEAD", "0" * 40, pairs, None, ""), budget)
    return change.status, len(pairs), seconds


def rates(pool: List[Side], shift: float, n: int, rounds: int, budget: float, seed: int) -> Dict[str, float]:
    """Per cent of cells judged fail (NO-GO), inconclusive and pass; mean pairs and seconds per cell."""
    rng = random.Random(seed)
    counts = {"fail": 0, "inconclusive": 0, "pass": 0}
    pairs = seconds = 0.0
    for _ in range(rounds):
        status, taken, spent = one_cell(rng, pool, shift, n, budget)
        counts[status] += 1
        pairs += taken
        seconds += spent
    result = {key: value / rounds * 100.0 for key, value in counts.items()}
    return dict(result, pairs=pairs / rounds, seconds=seconds / rounds)


def describe(pools: Dict[str, List[Side]]) -> None:
    import statistics

    for name, pool in pools.items():
        ratios = sorted(c / b for c, b, _ in pool)
        logs = [__import__("math").log(r) for r in ratios]
        print(f"{name}: {len(pool)} pairs, median current {statistics.median(c for c, _, _ in pool):.3f} s, "
              f"median ratio {statistics.median(ratios):.4f}, ratio 10th-90th percentile "
              f"{ratios[len(ratios) // 10]:.3f} to {ratios[len(ratios) * 9 // 10]:.3f}, "
              f"sd of log ratio {statistics.stdev(logs):.4f}")


def table(pools: Dict[str, List[Side]], rounds: int, budget: float, show: Callable[[str], None] = print) -> None:
    show("| n (max pairs) | condition | NO-GO at +10 % | PASS at 0 % | false NO-GO at 0 % | "
         "mean pairs at 0 % / +10 % | seconds per cell at 0 % / +10 % |")
    show("|---|---|---|---|---|---|---|")
    reached: Dict[int, bool] = {}
    for n in SIZES:
        for name, pool in pools.items():
            zero = rates(pool, 0.0, n, rounds, budget, seed=n)
            ten = rates(pool, 10.0, n, rounds, budget, seed=1000 + n)
            ok = (ten["fail"] >= TARGETS["detect"] and zero["pass"] >= TARGETS["pass"]
                  and zero["fail"] <= TARGETS["false"])
            reached[n] = reached.get(n, True) and ok
            show(f"| {n} | {name} | {ten['fail']:.1f} % | {zero['pass']:.1f} % | {zero['fail']:.1f} % | "
                 f"{zero['pairs']:.1f} / {ten['pairs']:.1f} | {zero['seconds']:.0f} / {ten['seconds']:.0f} |")
    smallest = next((n for n in SIZES if reached[n]), None)
    show("")
    show(f"smallest n reaching every target, quiet and busy: {smallest if smallest else 'none up to 120'}")


def shifts(pools: Dict[str, List[Side]], n: int, rounds: int, budget: float) -> None:
    print(f"\nat n = {n}: rates by shift")
    print("| condition | shift | NO-GO | INCONCLUSIVE | PASS |")
    print("|---|---|---|---|---|")
    for name, pool in pools.items():
        for index, shift in enumerate(SHIFTS):
            r = rates(pool, shift, n, rounds, budget, seed=5000 + index)
            print(f"| {name} | +{shift:g} % | {r['fail']:.1f} % | {r['inconclusive']:.1f} % | {r['pass']:.1f} % |")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["record", "resample"], default="resample")
    parser.add_argument("--pairs", type=int, default=240, help="pairs per condition (record)")
    parser.add_argument("--block", type=int, default=20, help="pairs per block; quiet and busy alternate (record)")
    parser.add_argument("--venvs", type=Path, default=Path(tempfile.gettempdir()) / "readiness-stats-power")
    parser.add_argument("--python", default=sys.executable, help="the Python of both environments (record)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--timing", choices=["own", "wall", "inproc", "cpu"], default="own")
    parser.add_argument("--warmup", type=int, default=0, help="pairs left out at the start of each block")
    parser.add_argument("--n", type=int, default=0, help="also print the rates by shift at this n")
    parser.add_argument("--centre", action="store_true", help="centre each condition's median ratio on 1 first")
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.pairs, args.block, args.venvs, args.python, args.data)
        return 0
    pools = load_pools(args.data, args.timing, args.warmup)
    if args.centre:
        pools = centred(pools)
    describe(pools)
    centre = ", each condition centred on a median ratio of 1" if args.centre else ""
    print(f"\ntiming: {args.timing}{centre}; budget +{args.budget:g} %; {args.rounds} simulated cells per row\n")
    table(pools, args.rounds, args.budget)
    if args.n:
        shifts(pools, args.n, args.rounds, args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
