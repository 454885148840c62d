"""How fast `nox -s validate` is against what users run today: plain nox and tox, in one run, pair by pair.

(a) The committed project in benchmarks/validate_speed/ (300 CPU-bound checks of about 2 ms, no
sleeps, every local Python from 3.10): warm validate against plain sequential `nox -R` (uv backend,
the same install and pytest) and against `tox p` (tox-uv, the same Pythons); the same three cold
(`.nox` and `.tox` removed, uv's cache warm); readiness's own time around the cells, which validate
prints. The commands of a round run one after another in rotated order, so drift hits all alike;
the ratio is taken per round and the median printed. CPU time is the whole process tree's.
The floor, for reference: the same four pytest runs in the plain nox environments, one per core
at once, with no nox and no readiness ("bare"): no orchestrator that runs the cells in parallel on
this machine can do better than that, and its ratios to plain nox say how far parallel cells
can go here (CPU time grows when every core is busy: caches, frequency, the hypervisor).
(b) With --demo: the demo's full matrix (native and Wine cells) warm, each Wine cell's share of the
run and the samples each measurement took.

    python benchmarks/validate_speed.py [--rounds 5] [--cold-rounds 3] [--demo] [--demo-only]

Bytecode is cached as on any machine (PYTHONDONTWRITEBYTECODE is dropped for the commands).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Sequence, Tuple

PROJECT = Path(__file__).resolve().parent / "validate_speed"
REPO = PROJECT.parents[1]
OWN = re.compile(r"readiness's own work around them ([0-9.]+) s")
TARGETS = {"warm_nox_wall": 0.6, "warm_nox_cpu": 1.2, "warm_tox_wall": 0.75, "cold_nox_wall": 1.0,
           "cold_tox_wall": 1.0, "own_s": 0.5, "demo_s": 120.0}
Timed = Tuple[float, float, str]  # wall s, CPU s of the process tree, output


def environment() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("READINESS_")}
    versions = Path(env.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if versions.is_dir():  # every pyenv Python's own bin folder on PATH, ahead of pyenv's shims, for all three
        folders = sorted(str(p / "bin") for p in versions.iterdir() if p.name[:2] == "3.")
        kept = [part for part in env.get("PATH", "").split(os.pathsep) if "shims" not in part]
        env["PATH"] = os.pathsep.join(folders + kept)
    return env


def timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Timed:
    """Wall and CPU time (user + system of every process it started) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"`{' '.join(argv)}` failed with {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout + done.stderr


def nox(*args: str) -> List[str]:
    return [sys.executable, "-m", "nox", *args]


def tox(*args: str) -> List[str]:
    return [sys.executable, "-m", "tox", *args]


COMMANDS: Dict[str, Callable[[], List[str]]] = {
    "validate": lambda: nox("-s", "validate"),
    "nox": lambda: nox("-R", "-s", "plain"),
    "tox": lambda: tox("p", "-q"),
    "bare": lambda: [sys.executable, __file__, "--bare"],
}
COLD: Dict[str, Callable[[], List[str]]] = {
    "validate": lambda: nox("-s", "validate"),
    "nox": lambda: nox("-s", "plain"),
    "tox": lambda: tox("p", "-q"),
}


def clean(cwd: Path) -> None:
    for folder in (".nox", ".tox", "reports"):
        shutil.rmtree(cwd / folder, ignore_errors=True)


def rounds(commands: Dict[str, Callable[[], List[str]]], count: int, env: Mapping[str, str], cold: bool,
           ) -> List[Dict[str, Timed]]:
    """`count` rounds of every command, the order rotated each round."""
    names = list(commands)
    result = []
    for index in range(count):
        order = names[index % len(names):] + names[:index % len(names)]
        taken = {}
        for name in order:
            if cold:
                clean(PROJECT)
            taken[name] = timed(commands[name](), PROJECT, env)
        result.append(taken)
        line = "  ".join(f"{name} {taken[name][0]:6.2f} s" for name in names)
        print(f"  round {index + 1} ({'cold' if cold else 'warm'}, order {' '.join(order)}): {line}", flush=True)
    return result


def ratio(taken: List[Dict[str, Timed]], a: str, b: str, field: int) -> float:
    return statistics.median(t[a][field] / t[b][field] for t in taken)


def median(taken: List[Dict[str, Timed]], name: str, field: int) -> float:
    return statistics.median(t[name][field] for t in taken)


def verdict(value: float, target: float) -> str:
    return f"target <= {target:g}: {'met' if value <= target else 'NOT MET'}"


def project_figures(warm_rounds: int, cold_rounds: int) -> None:
    env = environment()
    print(f"(a) {PROJECT.relative_to(REPO)}: 300 CPU-bound checks x {len(pythons())} Pythons "
          f"({', '.join(pythons())}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    clean(PROJECT)
    for name in COLD:  # build every environment once
        timed(COLD[name](), PROJECT, env)
    warm = rounds(COMMANDS, warm_rounds, env, cold=False)
    cold = rounds(COLD, cold_rounds, env, cold=True) if cold_rounds else []
    own = [float(m.group(1)) for t in warm for m in [OWN.search(t["validate"][2])] if m]
    print(f"\nwarm, medians of {warm_rounds} rounds:")
    for name in COMMANDS:
        print(f"  {name:<9} wall {median(warm, name, 0):6.2f} s   CPU {median(warm, name, 1):6.2f} s")
    lines = [
        ("warm validate / plain nox -R, wall", ratio(warm, "validate", "nox", 0), TARGETS["warm_nox_wall"]),
        ("warm validate / plain nox -R, CPU", ratio(warm, "validate", "nox", 1), TARGETS["warm_nox_cpu"]),
        ("warm validate / tox p, wall", ratio(warm, "validate", "tox", 0), TARGETS["warm_tox_wall"]),
    ]
    floor = [("floor: bare pytest one per core / plain nox -R, wall", ratio(warm, "bare", "nox", 0)),
             ("floor: bare pytest one per core / plain nox -R, CPU", ratio(warm, "bare", "nox", 1)),
             ("floor: bare pytest one per core / tox p, wall", ratio(warm, "bare", "tox", 0)),
             ("warm validate / bare pytest one per core, wall", ratio(warm, "validate", "bare", 0)),
             ("warm validate / bare pytest one per core, CPU", ratio(warm, "validate", "bare", 1))]
    if cold:
        print(f"cold (.nox, .tox removed; uv cache warm), medians of {cold_rounds} rounds:")
        for name in COLD:
            print(f"  {name:<9} wall {median(cold, name, 0):6.2f} s   CPU {median(cold, name, 1):6.2f} s")
        lines += [("cold validate / cold plain nox, wall", ratio(cold, "validate", "nox", 0), TARGETS["cold_nox_wall"]),
                  ("cold validate / cold tox p, wall", ratio(cold, "validate", "tox", 0), TARGETS["cold_tox_wall"])]
    print("\nratios (median of the per-round ratios):")
    for label, value, target in lines:
        print(f"  {label:<40} {value:5.2f}   {verdict(value, target)}")
    if own:
        value = statistics.median(own)
        print(f"  {'readiness own time around the cells (s)':<40} {value:5.2f}   {verdict(value, TARGETS['own_s'])}")
    print("for reference (no target):")
    for label, value in floor:
        print(f"  {label:<52} {value:5.2f}")


def bare() -> None:
    """The plain environments' pytest runs, one per core at once, nothing around them (the floor)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(python: str) -> int:
        interpreter = PROJECT / ".nox" / f"plain-{python.replace('.', '-')}" / "bin" / "python"
        argv = [str(interpreter), "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider"]
        return subprocess.run(argv, cwd=PROJECT, stdout=subprocess.DEVNULL, check=False).returncode

    with ThreadPoolExecutor(os.cpu_count() or 1) as workers:
        codes = list(workers.map(one, pythons()))
    sys.exit(max(codes))


def pythons() -> List[str]:
    text = (PROJECT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r"^pythons = \[(.*)\]", text, re.M)
    return re.findall(r'"([0-9.]+)"', match.group(1)) if match else []


def demo_figures(repeat: int) -> None:
    env = environment()
    print(f"\n(b) the demo's full matrix (repository root), warm, {os.cpu_count()} cores")
    timed(nox("-s", "validate"), REPO, env)  # warm every cell, the Wine ones included
    for index in range(repeat):
        wall, cpu, _ = timed(nox("-s", "validate"), REPO, env)
        print(f"  run {index + 1}: {wall:6.1f} s wall, {cpu:6.1f} s CPU   {verdict(wall, TARGETS['demo_s'])}")
        run_id = (REPO / "reports" / "latest").read_text(encoding="utf-8").strip()
        for path in sorted((REPO / "reports" / "runs" / run_id / "envs").glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            share = f"{100 * doc['duration_s'] / wall:5.1f} % of the run" if "wine" in path.stem else ""
            samples = ", ".join(f"{name} {m['sampling']['taken']}/{m['sampling']['max']} samples"
                                for check in doc.get("checks", [])
                                for name, m in (check.get("measurements") or {}).items() if m.get("sampling"))
            print(f"    {path.stem:<40} {doc['duration_s']:6.1f} s {share:<17} {samples}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds (default 5)")
    parser.add_argument("--cold-rounds", type=int, default=3, help="cold rounds (default 3; 0: none)")
    parser.add_argument("--demo", action="store_true", help="also time the demo's full matrix")
    parser.add_argument("--demo-only", action="store_true", help="only time the demo's full matrix")
    parser.add_argument("--demo-repeat", type=int, default=2)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare()
    if not args.demo_only:
        project_figures(args.rounds, args.cold_rounds)
    if args.demo or args.demo_only:
        demo_figures(args.demo_repeat)


if __name__ == "__main__":
    main()
