"""Find every CPython 3.9+ on the machine and pick one interpreter per cell.

Sources, in order of precedence when several interpreters fall into one cell: pyenv's
`versions/` (active or not), uv-managed Pythons, the Windows `py` launcher, then PATH. Each
candidate is run once to learn what it really is; the Windows-under-Wine lane adds the
interpreters `readiness wine setup` provisioned.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from readiness.model.ids import normalise_arch, os_family
from readiness.platform.probe import PROBE_SCRIPT

MINIMUM = (3, 9)
PROBE_TIMEOUT_S = 10.0

# Precedence within one cell: lower wins (README, "The Windows lane under Wine": `readiness interpreters`).
SOURCES = ("pyenv", "uv", "py-launcher", "path", "wine")
_RANK = {name: rank for rank, name in enumerate(SOURCES)}



@dataclass(frozen=True)
class CommandResult:
    """What a finished command printed, and its exit code."""

    returncode: int
    stdout: str
    stderr: str = ""


# Runs argv with a timeout in seconds; raises OSError when it cannot start and
# subprocess.TimeoutExpired when it does not finish. Tests give recorded output instead.
CommandRunner = Callable[[Sequence[str], float], CommandResult]


def run_command(argv: Sequence[str], timeout: float) -> CommandResult:
    """Run a program with no stdin and captured output (the default CommandRunner).

    On timeout its whole process group is killed, so a wrapper script's children cannot keep
    the pipes open and stall discovery.
    """
    posix = sys.platform != "win32"
    with subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=posix,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process, posix)
            process.communicate()
            raise
    return CommandResult(
        process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
    )


def _kill(process: subprocess.Popen[bytes], posix: bool) -> None:
    if posix:
        try:
            os.killpg(process.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    process.kill()


@dataclass(frozen=True)
class Candidate:
    """A file that may be a Python, and the source that pointed at it."""

    path: str
    source: str


@dataclass(frozen=True)
class Interpreter:
    """A verified interpreter: what it is, where it is, and which cell it stands for."""

    executable: str
    version: str
    version_info: Tuple[int, int, int]
    implementation: str
    free_threaded: bool
    arch: str
    os: str
    source: str
    lane: str = "native"

    @property
    def minor(self) -> str:
        """`3.12` for 3.12.1: the X.Y of session names and cell ids."""
        return f"{self.version_info[0]}.{self.version_info[1]}"

    @property
    def cell(self) -> str:
        """The cell id, `<os>-<arch>[-wine]-<impl><X.Y>[t]`."""
        wine = "-wine" if self.lane == "wine" else ""
        threaded = "t" if self.free_threaded else ""
        return f"{self.os}-{self.arch}{wine}-{self.implementation}{self.minor}{threaded}"


@dataclass(frozen=True)
class Rejected:
    """A candidate that is not used, and why."""

    path: str
    source: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """Every interpreter found: one chosen per cell, the others shadowed, and the rejected."""

    chosen: Tuple[Interpreter, ...] = ()
    shadowed: Tuple[Interpreter, ...] = ()
    rejected: Tuple[Rejected, ...] = ()

    def for_cell(self, cell: str) -> Optional[Interpreter]:
        """The interpreter chosen for a cell id, or None."""
        return next((found for found in self.chosen if found.cell == cell), None)

    def for_python(self, minor: str, lane: str = "native") -> Optional[Interpreter]:
        """The chosen (GIL) interpreter for `3.12` in a lane, or None."""
        return next(
            (found for found in self.chosen
             if found.minor == minor and found.lane == lane and not found.free_threaded),
            None,
        )

    def shadowed_by(self, interpreter: Interpreter) -> Optional[Interpreter]:
        """The chosen interpreter that takes a shadowed one's cell."""
        return self.for_cell(interpreter.cell)


@dataclass
class _Probed:
    found: List[Interpreter] = field(default_factory=list)
    rejected: List[Rejected] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Sources: each takes explicit roots, an environment and a command runner, and returns candidates.


def home_folder(environ: Mapping[str, str]) -> Path:
    """The user's home as the environment says (USERPROFILE on Windows, else HOME)."""
    for key in ("HOME", "USERPROFILE"):
        if environ.get(key):
            return Path(environ[key])
    return Path.home()


def pyenv_root(environ: Mapping[str, str], platform_name: str = sys.platform) -> Path:
    """PYENV_ROOT, or pyenv's default (`~/.pyenv`; pyenv-win's `~/.pyenv/pyenv-win`)."""
    if environ.get("PYENV_ROOT"):
        return Path(environ["PYENV_ROOT"])
    if platform_name == "win32":
        return home_folder(environ) / ".pyenv" / "pyenv-win"
    return home_folder(environ) / ".pyenv"


def pyenv_candidates(root: Path) -> List[Candidate]:
    """Every interpreter under pyenv's `versions/`, whether or not a version is active."""
    versions = root / "versions"
    if not versions.is_dir():
        return []
    found = []
    for folder in sorted(versions.iterdir()):
        for relative in ("bin/python3", "bin/python", "python.exe"):
            executable = folder / relative
            if executable.is_file():
                found.append(Candidate(str(executable), "pyenv"))
                break
    return found


_PATH_NAME = re.compile(r"python(3(\.\d+t?)?)?(\.exe)?", re.IGNORECASE)  # not python3-config


def path_candidates(
    environ: Mapping[str, str], platform_name: str = sys.platform,
) -> List[Candidate]:
    """`python3`, `python3.X` and `python` in every PATH folder.

    pyenv's shims are left out (they dispatch to pyenv's versions, found directly), and so is
    Windows' WindowsApps folder, whose `python.exe` opens the Store instead of running Python.
    """
    separator = ";" if platform_name == "win32" else ":"
    found: List[Candidate] = []
    for entry in environ.get("PATH", "").split(separator):
        folder = Path(entry)
        if not entry or _skipped_path_folder(folder) or not folder.is_dir():
            continue
        try:
            names = sorted(child.name for child in folder.iterdir())
        except OSError:
            continue
        found.extend(
            Candidate(str(folder / name), "path") for name in names
            if _PATH_NAME.fullmatch(name) and _is_program(folder / name, platform_name)
        )
    return found


def _skipped_path_folder(folder: Path) -> bool:
    parts = [part.lower() for part in folder.parts]
    pyenv_shims = parts[-1:] == ["shims"] and any("pyenv" in part for part in parts)
    return pyenv_shims or parts[-1:] == ["windowsapps"]


def _is_program(path: Path, platform_name: str) -> bool:
    if platform_name == "win32":
        return path.suffix.lower() == ".exe" and path.is_file()
    return path.is_file() and os.access(path, os.X_OK)


def uv_python_dirs(
    environ: Mapping[str, str], runner: CommandRunner, platform_name: str = sys.platform,
) -> List[Path]:
    """Where uv keeps its Pythons: `uv python dir` when uv is there, and uv's default folders."""
    folders: List[Path] = []
    try:
        done = runner(["uv", "python", "dir"], PROBE_TIMEOUT_S)
        if done.returncode == 0 and done.stdout.strip():
            folders.append(Path(done.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.SubprocessError):
        pass
    if environ.get("UV_PYTHON_INSTALL_DIR"):
        folders.append(Path(environ["UV_PYTHON_INSTALL_DIR"]))
    if platform_name == "win32":
        if environ.get("APPDATA"):
            folders.append(Path(environ["APPDATA"]) / "uv" / "python")
    else:
        data = environ.get("XDG_DATA_HOME") or str(home_folder(environ) / ".local" / "share")
        folders.append(Path(data) / "uv" / "python")
    return list(dict.fromkeys(folders))


_UV_FOLDER = re.compile(
    r"(?P<impl>[a-z]+)-(?P<version>\d+\.\d+)(?P<rest>[^-]*)-(?P<os>[a-z]+)-(?P<arch>[^-]+)-(?P<libc>[^-]+)"
)


def uv_candidates(folders: Iterable[Path], platform_name: str = sys.platform) -> List[Candidate]:
    """The interpreter of every installation in uv's folders (`cpython-3.12.1-linux-x86_64-gnu`)."""
    found: List[Candidate] = []
    for root in folders:
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            match = _UV_FOLDER.fullmatch(folder.name)
            if match is None or not folder.is_dir():
                continue
            executable = _uv_executable(folder, match, platform_name)
            if executable is not None:
                found.append(Candidate(str(executable), "uv"))
    return found


def _uv_executable(folder: Path, match: re.Match[str], platform_name: str) -> Optional[Path]:
    threaded = "t" if "freethreaded" in match["rest"] else ""
    if platform_name == "win32":
        names = [f"python{match['version']}{threaded}.exe", "python.exe"]
        options = [folder / name for name in (names if threaded else names[1:])]
    else:
        bin_dir = folder / "bin"
        options = [bin_dir / f"python{match['version']}{threaded}", bin_dir / "python3"]
    return next((option for option in options if option.is_file()), None)


# `py -0p` prints one line per registered Python, in the old (`-3.9-64`) or new (`-V:3.12`)
# spelling, an optional `*` for the default, then the path (which may contain spaces).
_PY_LAUNCHER_LINE = re.compile(
    r"\s*-(?:V:)?(?P<tag>\S+)\s+(?:\*\s+)?(?P<path>(?:[A-Za-z]:\\|\\\\).*?)(?:\s+\*)?\s*"
)


def parse_py_launcher(output: str) -> List[Candidate]:
    """The interpreters listed by `py -0p` (Windows' Python launcher)."""
    found = []
    for line in output.splitlines():
        match = _PY_LAUNCHER_LINE.fullmatch(line)
        if match:
            found.append(Candidate(match["path"], "py-launcher"))
    return found


def py_launcher_candidates(
    runner: CommandRunner, platform_name: str = sys.platform,
) -> List[Candidate]:
    """What Windows' `py` launcher knows about; nothing elsewhere or when it is not installed."""
    if platform_name != "win32":
        return []
    try:
        done = runner(["py", "-0p"], PROBE_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_py_launcher(done.stdout) if done.returncode == 0 else []


def candidates(
    environ: Mapping[str, str], runner: CommandRunner, platform_name: str = sys.platform,
) -> List[Candidate]:
    """Every native candidate from every source, highest precedence first."""
    return [
        *pyenv_candidates(pyenv_root(environ, platform_name)),
        *uv_candidates(uv_python_dirs(environ, runner, platform_name), platform_name),
        *py_launcher_candidates(runner, platform_name),
        *path_candidates(environ, platform_name),
    ]


# ---------------------------------------------------------------------------------------------
# Verification: run each candidate once, concurrently.


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
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return rejected(f"exited with {done.returncode}: {last}")
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
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
        return os.path.normcase(str(Path(path).resolve()))
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
    from readiness.platform import wine

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
    runner: CommandRunner = run_command,
    platform_name: str = sys.platform,
    timeout: float = PROBE_TIMEOUT_S,
    include_wine: bool = True,
) -> Discovery:
    """Every CPython 3.9+ on this machine, one per cell, plus the Wine lane's when provisioned."""
    interpreters, rejected = probe_all(candidates(environ, runner, platform_name), runner, timeout)
    if include_wine and platform_name != "win32":
        wine_found, wine_rejected = wine_interpreters(environ)
        interpreters += wine_found
        rejected += wine_rejected
    chosen, shadowed = choose(interpreters)
    return Discovery(chosen, shadowed, tuple(sorted(rejected, key=lambda item: item.path)))


# ---------------------------------------------------------------------------------------------
# Output


def format_table(discovery: Discovery) -> str:
    """What `readiness interpreters` prints: chosen per cell, then shadowed, then rejected."""
    lines = ["cell                              python    source       executable"]
    lines += [_row(found.cell, found.version, found.source, found.executable)
              for found in discovery.chosen]
    if not discovery.chosen:
        lines.append("(no CPython 3.9+ found)")
    if discovery.shadowed:
        lines += ["", "shadowed (another interpreter takes the cell):"]
        for found in discovery.shadowed:
            winner = discovery.shadowed_by(found)
            by = f"  (by {winner.source} {winner.version})" if winner else ""
            lines.append(_row(found.cell, found.version, found.source, found.executable) + by)
    if discovery.rejected:
        lines += ["", "rejected:"]
        lines += [f"  {item.path}  [{item.source}]: {item.reason}" for item in discovery.rejected]
    return "\n".join(lines) + "\n"


def _row(cell: str, version: str, source: str, executable: str) -> str:
    return f"{cell:<33} {version:<9} {source:<12} {executable}"


def command(args: argparse.Namespace) -> int:
    """`readiness interpreters`: print what was found, where, and what was shadowed."""
    sys.stdout.write(format_table(discover()))
    return 0

