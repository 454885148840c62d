"""Real projects from the package index for end-to-end tests: sdists that ship their tests, pinned by
version and sha256, downloaded once into a cache and unpacked into a test's own folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from readiness.platform.tools import pip_command


@dataclass(frozen=True)
class Sdist:
    name: str
    version: str
    sha256: str

    @property
    def file(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}.tar.gz"


# sha256 as the index served them on 2026-12-01 (`sha256sum` after `pip download --no-binary :all:`).
ITSDANGEROUS = Sdist("itsdangerous", "2.2.0", "e0050c0b7da1eea53ffaf149c0cfbb5c6e2e2b69c4bef22c81fa6eb73e5f6173")
PATHSPEC = Sdist("pathspec", "1.1.1", "17db5ecd524104a120e173814c90367a96a98d07c45b2e10c2f3919fff91bf5a")


def cache() -> Path:
    explicit = os.environ.get("READINESS_TEST_SDISTS")
    base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base if explicit else base / "readiness" / "test-sdists"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(sdist: Sdist) -> Path:
    """The verified sdist in the cache, downloaded from the index when it is not there yet."""
    folder = cache()
    path = folder / sdist.file
    if not (path.is_file() and _sha256(path) == sdist.sha256):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([*pip_command(), "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"{sdist.name}=={sdist.version}", "--dest", str(folder)], check=True,
                       stdin=subprocess.DEVNULL, timeout=600)
    actual = _sha256(path)
    assert actual == sdist.sha256, f"{path}: sha256 {actual}, pinned {sdist.sha256}"
    return path


def unpack(sdist: Sdist, into: Path) -> Path:
    """The project's source tree, unpacked under `into`."""
    with tarfile.open(fetch(sdist)) as archive:
        archive.extractall(into, filter="data") if sys.version_info >= (3, 12) else archive.extractall(into)
    return into / f"{sdist.file[: -len('.tar.gz')]}"
