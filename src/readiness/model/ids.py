"""The names documents use: cell ids, run ids, the files named after a cell, and document times.

A cell id is `<os>-<arch>[-wine]-<impl><X.Y>[t]`, e.g. `linux-x86_64-cpython3.12` or
`windows-x86_64-wine-cpython3.11` (README, "Writing a check"). It is built and read here only.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Optional, Union

from readiness.model.errors import UsageError

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# The schemas' `cell_id`. A cell id names files (envs/<cell>.json, logs/<cell>.log,
# coverage/<cell>.coverage, ctrf/<cell>.json), so nothing else may pass for one: no separator,
# no `..`, no drive, no control character can match.
CELL_ID_PATTERN = re.compile(
    r"(linux|windows|macos|[a-z][a-z0-9]{0,15})-[a-z0-9_]{1,16}(-wine)?-(cpython|pypy|[a-z][a-z0-9]{0,15})"
    r"[0-9]{1,2}\.[0-9]{1,3}t?"
)
_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86_64": "x86_64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8": "arm64",
}


def os_family(platform_name: str = sys.platform) -> str:
    """`linux`, `windows`, `macos`, or the platform's own name for anything else."""
    if platform_name.startswith("linux"):
        return "linux"
    if platform_name in ("win32", "cygwin"):
        return "windows"
    if platform_name == "darwin":
        return "macos"
    return re.sub(r"[^a-z0-9]", "", platform_name.lower())[:16] or "unknown"


def normalise_arch(machine: str) -> str:
    """`x86_64` or `arm64` for the common spellings; other machines keep a sanitised name."""
    key = machine.lower()
    return _ARCH_ALIASES.get(key, re.sub(r"[^a-z0-9_]", "", key)[:16] or "unknown")


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define: every readiness
# process (every cell's plugin too) defines it.
class CellId(NamedTuple):
    """The parts of a cell id, `<os>-<arch>[-wine]-<impl><X.Y>[t]`: built and read here alone."""

    os: str
    arch: str
    implementation: str
    python: str  # X.Y
    wine: bool = False
    free_threaded: bool = False

    def __str__(self) -> str:
        lane = "-wine" if self.wine else ""
        threaded = "t" if self.free_threaded else ""
        return check_cell_id(f"{self.os}-{self.arch}{lane}-{self.implementation}{self.python}{threaded}")

    @property
    def os_group(self) -> str:
        """`linux`, `windows-wine`: the OS column a cell falls in."""
        return f"{self.os}-wine" if self.wine else self.os

    @property
    def python_group(self) -> str:
        """`cpython3.12`: the Python column a cell falls in."""
        return f"{self.implementation}{self.python}{'t' if self.free_threaded else ''}"

    @property
    def version_key(self) -> "tuple[int, int]":
        return version_key(self.python)

    @classmethod
    def parse(cls, cell: Any) -> "CellId":
        """The parts of a cell id; anything that is not one is refused (see `check_cell_id`)."""
        match = _CELL_PARTS.fullmatch(check_cell_id(cell))
        assert match is not None  # check_cell_id accepted it
        return cls(match["os"], match["arch"], match["impl"], match["python"], bool(match["wine"]),
                   bool(match["t"]))

    @classmethod
    def of(cls, print_: Mapping[str, Any]) -> "CellId":
        """The cell a fingerprint stands for."""
        return cls(str(print_["os"]), str(print_["arch"]), str(print_["implementation"]),
                   ".".join(str(print_["python_version"]).split(".")[:2]), print_["lane"] == "wine",
                   bool(print_["free_threaded"]))


_CELL_PARTS = re.compile(
    r"(?P<os>[a-z][a-z0-9]{0,15})-(?P<arch>[a-z0-9_]{1,16})(?P<wine>-wine)?-(?P<impl>[a-z][a-z0-9]{0,15}?)"
    r"(?P<python>[0-9]{1,2}\.[0-9]{1,3})(?P<t>t?)"
)


def version_key(python: str) -> "tuple[int, int]":
    """`3.9` < `3.10`: an X.Y (or X.Yt) as numbers, for ordering cells and Pythons."""
    major, _, minor = python.rstrip("t").partition(".")
    try:
        return int(major), int(minor.split(".")[0])
    except ValueError:
        return (0, 0)


def cell_sort_key(cell: str) -> "tuple[Any, ...]":
    """Cells in reading order: OS, arch, lane, implementation, then the Python version as numbers
    (3.9 before 3.10); anything that is not a cell id after every cell, by its text."""
    try:
        parts = CellId.parse(cell)
    except UsageError:
        return (1, cell)
    return (0, parts.os, parts.arch, parts.wine, parts.implementation, parts.version_key,
            parts.free_threaded, cell)


def cell_id(print_: Mapping[str, Any]) -> str:
    """The cell id a fingerprint stands for."""
    return str(CellId.of(print_))


def check_cell_id(cell: Any) -> str:
    """`cell` when it is a cell id; anything else (a path, `..`, a drive, a NUL) is refused."""
    if not isinstance(cell, str) or not CELL_ID_PATTERN.fullmatch(cell):
        raise UsageError(
            f"cell id {cell!r} is not a cell id: it is <os>-<arch>[-wine]-<implementation><X.Y>[t], "
            "e.g. linux-x86_64-cpython3.12, and names files in the run folder, so it cannot be a path"
        )
    return cell


def cell_file(folder: Union[str, "os.PathLike[str]"], cell: Any, suffix: str) -> Path:
    """The file `<folder>/<cell><suffix>` (say envs/<cell>.json), never one outside `folder`."""
    return Path(folder) / f"{check_cell_id(cell)}{suffix}"


def check_run_id(value: Any, source: str) -> str:
    """`value` when it is a run id (it names the run folder); `source` says where it came from."""
    if not isinstance(value, str) or not RUN_ID_PATTERN.fullmatch(value):
        raise UsageError(
            f"{source}={value!r} is not a valid run id: use up to 128 letters, "
            "digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def new_run_id(now: Optional[datetime] = None) -> str:
    """A fresh local run id: UTC time (sortable) and a random suffix (unique)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def utc_now() -> str:
    """The current time as the documents write it."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
