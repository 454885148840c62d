"""Where Pythons may be: pyenv's versions, uv-managed Pythons, the Windows `py` launcher, PATH.

Each source takes explicit roots, an environment and a command runner, and returns candidates.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Mapping, Optional

from readiness.platform.interpreters.records import PROBE_TIMEOUT_S, Candidate, CommandRunner


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
            # Names, not a Path per entry (PTH208): /usr/bin alone holds thousands, milliseconds of
            # Paths; and only the Python-like ones are sorted.
            names = sorted(name for name in os.listdir(folder) if _python_named(name))  # noqa: PTH208
        except OSError:
            continue
        found.extend(
            Candidate(str(folder / name), "path") for name in names if _is_program(folder / name, platform_name)
        )
    return found


def _python_named(name: str) -> bool:
    return name[:6].lower() == "python" and _PATH_NAME.fullmatch(name) is not None  # the test first: cheap


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
