"""What the cell checked: the target project's name, version, commit and a hash of its sources.

The orchestrator, which sees the source tree, passes what it knows through `READINESS_TARGET_*`
variables (a Windows interpreter under Wine has no git); anything not passed is found here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from readiness.model.document import Target

# Folders that never hold the target's sources.
_SKIP_DIRS = frozenset({".git", ".hg", ".nox", ".tox", ".venv", "venv", "__pycache__", "build",
                        "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache", "reports", "node_modules"})


def describe(name: Optional[str], environ: Mapping[str, str] = os.environ) -> Target:
    """The target as far as it can be known from here."""
    name = name or environ.get("READINESS_TARGET") or None
    version = environ.get("READINESS_TARGET_VERSION") or _installed_version(name)
    root = environ.get("READINESS_TARGET_ROOT")
    commit = environ.get("READINESS_TARGET_COMMIT") or (git_commit(Path(root)) if root else None)
    dirty_text = environ.get("READINESS_TARGET_DIRTY")
    dirty = dirty_text == "1" if dirty_text in ("0", "1") else (git_dirty(Path(root)) if root else None)
    source_hash = environ.get("READINESS_TARGET_SOURCE_HASH") or (
        source_hash_of(Path(root)) if root else _installed_hash(name)
    )
    return Target(name=name, version=version, commit=commit, dirty=dirty, source_hash=source_hash)


def pyproject_tables(pyproject: Path) -> Dict[str, Any]:
    """Every table of a pyproject.toml, or {} when it cannot be read (missing, or not TOML)."""
    try:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # Python 3.9 and 3.10: tomli, a dependency of the plugin there
            import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
        tables: Dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (ImportError, OSError, ValueError):
        return {}
    return tables


def project_table(pyproject: Path) -> Dict[str, object]:
    """The `[project]` table of a pyproject.toml, or {} when it cannot be read."""
    project = pyproject_tables(pyproject).get("project")
    return project if isinstance(project, dict) else {}


def installed_packages(paths: Iterable[str] = ()) -> Dict[str, str]:
    """Every distribution importable here, by normalised name (the first on sys.path wins).

    Names and versions come from the `name-version.dist-info` folder names, which the wheel
    spec fixes, so no metadata file is opened; anything else goes through importlib.metadata.
    """
    found: Dict[str, str] = {}
    for folder in list(paths) or sys.path:
        for name, version in _dist_info_names(folder):
            found.setdefault(name, version)
    for dist in metadata.distributions():
        if not str(getattr(dist, "_path", "")).endswith(".dist-info"):
            other: Optional[str] = dist.metadata["Name"] if dist.metadata else None
            if other:
                found.setdefault(_normalise(other), dist.version or "")
    return dict(sorted(found.items()))


def _dist_info_names(folder: str) -> List[Tuple[str, str]]:
    try:
        entries = [e.name for e in os.scandir(folder or ".") if e.name.endswith(".dist-info")]
    except OSError:
        return []
    pairs = []
    for entry in entries:
        name, _, version = entry[: -len(".dist-info")].rpartition("-")
        if name and version:
            pairs.append((_normalise(name), version))
    return pairs


def _normalise(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def _installed_version(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _installed_hash(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    try:
        files = metadata.files(name) or []
    except metadata.PackageNotFoundError:
        return None
    paths = [Path(str(f.locate())) for f in files if f.suffix in (".py", ".pyi", ".json", ".toml")]
    return _hash_files(sorted(p for p in paths if p.is_file()), None) if paths else None


def source_hash_of(root: Path) -> Optional[str]:
    """A hash of the files under `root` (names and contents), skipping build and VCS folders."""
    if not root.is_dir():
        return None
    return _hash_files(sorted(_source_files(root)), root)


def _source_files(root: Path) -> Iterable[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                yield Path(folder) / name


def _hash_files(paths: Iterable[Path], root: Optional[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        label = path.relative_to(root).as_posix() if root else path.name
        digest.update(label.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


def _git(root: Path, *args: str) -> Optional[str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True, text=True, encoding="utf-8", timeout=10,
            stdin=subprocess.DEVNULL, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_commit(root: Path) -> Optional[str]:
    out = _git(root, "rev-parse", "HEAD")
    return out.strip() if out else None


def git_dirty(root: Path) -> Optional[bool]:
    out = _git(root, "status", "--porcelain", "--untracked-files=no")
    return None if out is None else bool(out.strip())
