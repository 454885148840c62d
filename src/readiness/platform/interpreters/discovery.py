"""Find every CPython 3.9+ on the machine and pick one interpreter per cell.

Sources, in order of precedence when several interpreters fall into one cell: pyenv's
`versions/` (active or not), uv-managed Pythons, the Windows `py` launcher, then PATH. Each
candidate is run once to learn what it really is; the Windows-under-Wine lane adds the
interpreters `readiness wine setup` provisioned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from readiness.model.ids import normalise_arch, os_family
from readiness.platform import process
from readiness.platform.interpreters.cache import CachedRunner, cache_home
from readiness.platform.interpreters.records import (
    MINIMUM,
    PROBE_TIMEOUT_S,
    Candidate,
    CommandResult,
    CommandRunner,
    Discovery,
    Interpreter,
    Rejected,
)
from readiness.platform.interpreters.sources import candidates
from readiness.platform.probe import PROBE_SCRIPT

# Precedence within one cell: lower wins (README, "The Windows lane under Wine": `readiness interpreters`).
SOURCES = ("pyenv", "uv", "py-launcher", "path", "wine")
_RANK = {name: rank for rank, name in enumerate(SOURCES)}
CACHE_FILE = "interpreters.json"


def run_command(argv: Sequence[str], timeout: float) -> CommandResult:
    """Run a program with no stdin, its output (stdout and stderr) captured: the default runner.

    On timeout its whole process group is killed, so a wrapper script's children cannot keep
    the pipe open and stall discovery.
    """
    output = process.Capture()
    try:
        code = process.run(argv, process.Options(timeout=timeout), [output])
    except process.ProcessTimeout:
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    return CommandResult(code, output.text())


def probe(
    candidate: Candidate, runner: CommandRunner, timeout: float = PROBE_TIMEOUT_S,
) -> Interpreter | Rejected:
    """Run a candidate once and say what it is, or why it is not usable."""

    def rejected(reason: str) -> Rejected:
        return Rejected(candidate.path, candidate.source, reason)

    try:
        done = runner([candidate.path, "-E", "-s", "-c", PROBE_SCRIPT], timeout)
    except subprocess.TimeoutExpired:
        return rejected(f"did not answer within {timeout:g} s")
    except OSError as exc:
        return rejected(f"cannot be started: {exc.strerror or exc}")
    if done.returncode != 0:
        last = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
        return rejected(f"exited with {done.returncode}: {last}")
    try:
        # The last JSON line: a warning on stderr may come after it on the shared pipe.
        facts = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
        return _judge(candidate, facts)
    except (ValueError, IndexError, KeyError, TypeError):
        return rejected("printed something that is not the probe's JSON")


def _judge(candidate: Candidate, facts: Mapping[str, object]) -> Interpreter | Rejected:
    major, minor, micro = (int(part) for part in list(facts["version_info"])[:3])  # type: ignore[call-overload]
    implementation = str(facts["implementation"])
    reason = None
    if implementation != "cpython":
        reason = f"{implementation} {facts['version']}: only CPython is supported"
    elif (major, minor) < MINIMUM:
        reason = f"Python {facts['version']} is older than {MINIMUM[0]}.{MINIMUM[1]}"
    elif facts["venv"]:
        reason = "a virtual environment, not a base interpreter"
    if reason:
        return Rejected(candidate.path, candidate.source, reason)
    arch = normalise_arch(str(facts["machine"]))
    if facts["bits"] == 32 and arch == "x86_64":
        arch = "x86"
    return Interpreter(
        executable=str(facts["executable"]) or candidate.path, version=str(facts["version"]),
        version_info=(major, minor, micro), implementation=implementation,
        free_threaded=bool(facts["free_threaded"]), arch=arch,
        os=os_family(str(facts["platform"])), source=candidate.source,
    )


def _unique(found: Iterable[Candidate]) -> List[Candidate]:
    """One candidate per file (symlinks resolved), keeping the source of highest precedence."""
    seen: Dict[str, Candidate] = {}
    for candidate in found:
        seen.setdefault(_same_file_key(candidate.path), candidate)
    return list(seen.values())


def _same_file_key(path: str) -> str:
    try:
        return os.path.normcase(os.path.realpath(path))  # what Path.resolve() gives, without its Path and stat
    except (OSError, RuntimeError):
        return os.path.normcase(path)


def probe_all(
    found: Sequence[Candidate], runner: CommandRunner, timeout: float = PROBE_TIMEOUT_S,
) -> Tuple[List[Interpreter], List[Rejected]]:
    """Probe candidates concurrently; several paths to one interpreter count once."""
    unique = _unique(found)
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(unique)))) as pool:
        results = list(pool.map(lambda candidate: probe(candidate, runner, timeout), unique))
    interpreters: Dict[str, Interpreter] = {}
    rejected = [result for result in results if isinstance(result, Rejected)]
    for result in results:
        if isinstance(result, Interpreter):
            interpreters.setdefault(_same_file_key(result.executable), result)
    return list(interpreters.values()), rejected


def choose(
    interpreters: Iterable[Interpreter],
) -> Tuple[Tuple[Interpreter, ...], Tuple[Interpreter, ...]]:
    """One interpreter per cell: by source precedence, then the newest patch; the rest shadowed."""
    ordered = sorted(
        interpreters,
        key=lambda found: (found.cell, _RANK.get(found.source, len(SOURCES)),
                           tuple(-part for part in found.version_info), found.executable),
    )
    chosen: List[Interpreter] = []
    shadowed: List[Interpreter] = []
    for found in ordered:
        (shadowed if chosen and chosen[-1].cell == found.cell else chosen).append(found)
    return tuple(sorted(chosen, key=_cell_order)), tuple(shadowed)


def _cell_order(found: Interpreter) -> Tuple[int, str, Tuple[int, int, int], bool]:
    return (found.lane == "wine", found.os, found.version_info, found.free_threaded)


def wine_interpreters(environ: Mapping[str, str]) -> Tuple[List[Interpreter], List[Rejected]]:
    """The Windows CPythons `readiness wine setup` provisioned (verified when provisioned)."""
    from readiness.platform.wine import lane as wine

    found = [
        Interpreter(
            executable=str(python.executable), version=python.full_version,
            version_info=python.version_info, implementation="cpython", free_threaded=False,
            arch="x86_64", os="windows", source="wine", lane="wine",
        )
        for python in wine.installed(environ)
    ]
    if not found:
        return [], []
    reason = wine.wine_available(environ)
    if reason is None:
        return found, []
    return [], [Rejected(found_.executable, "wine", reason) for found_ in found]


def discover(
    environ: Mapping[str, str] = os.environ,
    *,
    runner: Optional[CommandRunner] = None,
    platform_name: str = sys.platform,
    timeout: float = PROBE_TIMEOUT_S,
    include_wine: bool = True,
) -> Discovery:
    """Every CPython 3.9+ on this machine, one per cell, plus the Wine lane's when provisioned.

    With the default runner, what each program answered is cached by its file (see `cache`).
    """
    cached = None if runner is not None else CachedRunner(run_command, cache_home(environ) / CACHE_FILE, environ)
    ask = runner or cached
    assert ask is not None
    interpreters, rejected = probe_all(candidates(environ, ask, platform_name), ask, timeout)
    if cached is not None:
        cached.save()
    if include_wine and platform_name != "win32":
        wine_found, wine_rejected = wine_interpreters(environ)
        interpreters += wine_found
        rejected += wine_rejected
    chosen, shadowed = choose(interpreters)
    return Discovery(chosen, shadowed, tuple(sorted(rejected, key=lambda item: item.path)))
