"""A fingerprint of the local projects a cell installs as copies (not editable), so a warm cell
rebuilds them when their files changed, and only then.

Every file under a project counts (path, size, modification time), except what tools write
beside the sources: coverage's `.coverage*` data files, hidden folders (.git, .nox, .tox, .venv, caches), `__pycache__`,
`node_modules`, `*.egg-info`, a virtual environment (a folder holding `pyvenv.cfg`), the project's
top-level `build/` and `dist/`, and the folders the caller names (the run's reports).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence, Set

_ANYWHERE = {"__pycache__", "node_modules"}
_AT_TOP = {"build", "dist"}


def fingerprint(folders: Iterable[Path], ignore: Sequence[Path] = ()) -> str:
    """One digest of every counted file under `folders` (empty text for no folders)."""
    skip = {str(path.resolve()) for path in ignore}
    digest = hashlib.sha256()
    counted = False
    for folder in folders:
        counted = True
        root = folder.resolve()
        digest.update(f"{root}\0".encode("utf-8", "surrogateescape"))
        for line in sorted(_entries(str(root), str(root), skip)):
            digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest() if counted else ""


def _entries(top: str, folder: str, skip: Set[str]) -> Iterator[str]:
    try:
        listing = list(os.scandir(folder))
    except OSError:  # unreadable or gone: nothing of it can be built either
        return
    for entry in listing:
        try:
            if entry.is_dir(follow_symlinks=False):
                if not _ignored(entry, top, folder, skip):
                    yield from _entries(top, entry.path, skip)
            elif entry.is_file() and not entry.name.startswith(".coverage"):  # coverage's data files
                info = entry.stat()
                yield f"{os.path.relpath(entry.path, top)}\0{info.st_size}\0{info.st_mtime_ns}\n"
        except OSError:
            continue


def _ignored(entry: os.DirEntry, top: str, folder: str, skip: Set[str]) -> bool:  # type: ignore[type-arg]
    name = entry.name
    if name.startswith(".") or name in _ANYWHERE or name.endswith(".egg-info"):
        return True
    if folder == top and name in _AT_TOP:
        return True
    return entry.path in skip or Path(entry.path, "pyvenv.cfg").is_file()
