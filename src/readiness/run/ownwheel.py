"""readiness's own wheel for the cells, built once for each state of its sources and shared by every
cell and run on this machine (`<cache>/readiness/wheels/<key>/`, READINESS_CACHE_HOME moves it).

A cell installs the wheel in a fraction of a second, where building readiness into every cell's
environment cost one to two seconds of CPU each. The key is the fingerprint of its package's files
(path, size, modification time: run/sources.py) and its pyproject.toml, so a change to either
builds a new wheel, which the cells' install check then puts in place of the old one.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Optional

from readiness.platform import tools
from readiness.platform.interpreters.cache import cache_home
from readiness.run import sources
from readiness.run.install import BuildFailed, ReadinessSource, build_step

KEEP = 8  # the wheels of earlier states kept beside the newest (a branch switched back and forth)
_ONE_AT_A_TIME = threading.Lock()  # the cells of one run build it once, the others wait for it


def wheel(source: ReadinessSource, log: Path, env: Mapping[str, str]) -> Optional[Path]:
    """The wheel of readiness from its local folder, built now unless built before; None when a
    cell installs the release from the index instead. BuildFailed names what went wrong."""
    package = source.package()
    if source.folder is None or package is None:
        return None
    wheels = cache_home(env) / "wheels"
    place = wheels / key(source.folder, package)
    with _ONE_AT_A_TIME:
        found = sorted(place.glob("readiness-*.whl"))
        if found:
            return found[0]
        try:
            built = _build(source.folder, place, log, env)
            _prune(wheels, keep=place)
        except OSError as exc:  # the cache cannot be written (READINESS_CACHE_HOME read-only, a full disk)
            raise BuildFailed(f"building readiness's wheel for the cells failed: cannot write {wheels}: "
                              f"{exc.strerror or exc}") from None
        return built


def key(folder: Path, package: Path) -> str:
    """Changes when the wheel would: a file of the package, or the project's pyproject.toml."""
    digest = hashlib.sha256(sources.fingerprint([package]).encode("utf-8"))
    with contextlib.suppress(OSError):  # a folder without one: its package alone counts
        digest.update((folder / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:24]


def _build(folder: Path, place: Path, log: Path, env: Mapping[str, str]) -> Path:
    """Build into a folder of its own, then move it in place: a reader never sees half a wheel."""
    place.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=place.parent))
    try:
        # validate's own Python runs the build backend: it is there wherever validate runs.
        argv = [*tools.uv_command(), "build", "--wheel", "--python", sys.executable, "--out-dir", str(scratch),
                str(folder)]
        build_step(argv, log, env, "building readiness's wheel for the cells")
        made = sorted(scratch.glob("readiness-*.whl"))
        if not made:
            raise BuildFailed(f"building readiness's wheel for the cells left no wheel in {scratch}")
        try:
            scratch.rename(place)
        except OSError:  # another process put the same wheel in place first: use that one
            if not any(place.glob("readiness-*.whl")):
                raise
        return sorted(place.glob("readiness-*.whl"))[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _prune(wheels: Path, keep: Path) -> None:
    """Keep the newest KEEP wheels (and `keep`); a wheel still in use is rebuilt if ever asked for again."""
    def modified(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    folders = sorted((p for p in wheels.iterdir() if p.is_dir() and not p.name.startswith(".")), key=modified)
    for old in folders[:-KEEP]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
