"""Timing measurements: repeated runs of a command in fresh subprocesses, and their statistics.

Timing checks hold a lock shared by the cells of a run, so concurrent cells do not skew each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, List, Mapping, Optional, Sequence, Tuple

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

from readiness.model.errors import ReadinessError

LOCK_ENV = "READINESS_LOCK"
DEFAULT_LOCK_NAME = "readiness-timing.lock"
_POLL_S = 0.05
_STDERR_TAIL = 2000


class MeasurementError(ReadinessError):
    """A measured command failed or did not finish, so its samples would mean nothing."""


@dataclass(frozen=True)
class LockHold:
    """A held timing lock: where it lives and how long the holder waited for it."""

    path: Path
    waited_s: float


def sample_command(
    argv: Sequence[str],
    n: int,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 120.0,
    cwd: Optional[Path] = None,
) -> List[float]:
    """Wall-clock seconds of `n` runs of `argv`, each in a fresh process; any failed run raises.

    stdin is closed and output goes to pipes: a Windows program under Wine dies at start when
    given a regular file as a standard stream.
    """
    if n < 1:
        raise ValueError(f"need at least one sample, got n={n}")
    return [_time_once(argv, env, timeout, cwd) for _ in range(n)]


def _time_once(
    argv: Sequence[str], env: Optional[Mapping[str, str]], timeout: float, cwd: Optional[Path]
) -> float:
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=None if env is None else dict(env),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MeasurementError(f"{_show(argv)} did not finish within {timeout} s") from None
    except OSError as exc:
        raise MeasurementError(f"{_show(argv)} could not start: {exc}") from None
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", errors="replace")[-_STDERR_TAIL:]
        raise MeasurementError(f"{_show(argv)} exited with {completed.returncode}: {tail.strip()}")
    return elapsed


@dataclass(frozen=True)
class Timed:
    """One timed run: its wall-clock seconds and, where the platform says (Linux), how many of them
    it was ready to run but waited for a CPU that other processes held (its main thread's run-queue
    delay). `own_s` leaves that wait out: what the run costs on a CPU of its own, sleeps included."""

    wall_s: float
    waited_s: Optional[float] = None

    @property
    def own_s(self) -> float:
        return self.wall_s if self.waited_s is None else max(self.wall_s - self.waited_s, 0.0)


def time_command(argv: Sequence[str], env: Optional[Mapping[str, str]] = None, timeout: float = 120.0,
                 cwd: Optional[Path] = None) -> Timed:
    """One run of `argv` in a fresh process, as `sample_command` times it, with its wait for a CPU
    where the platform records one; a failed run raises."""
    if not _SCHEDSTAT:
        return Timed(_time_once(argv, env, timeout, cwd))
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=None if env is None else dict(env), cwd=cwd)
    except OSError as exc:
        raise MeasurementError(f"{_show(argv)} could not start: {exc}") from None
    with proc:
        drains = [_drain(stream) for stream in (proc.stdout, proc.stderr)]
        ended: List[float] = []
        waiter = threading.Thread(target=_exit_of, args=(proc.pid, ended), daemon=True)
        waiter.start()
        waiter.join(timeout)
        if waiter.is_alive():
            proc.kill()
            for thread in [waiter] + [drain for drain, _ in drains]:
                thread.join(_AFTER_KILL_S)
            raise MeasurementError(f"{_show(argv)} did not finish within {timeout} s")
        returncode = proc.wait()
        ended = ended or [time.perf_counter()]
        for thread, _ in drains:
            thread.join()
    if returncode != 0:
        tail = b"".join(drains[1][1]).decode("utf-8", errors="replace")[-_STDERR_TAIL:]
        raise MeasurementError(f"{_show(argv)} exited with {returncode}: {tail.strip()}")
    return Timed(ended[0] - started, ended[1] if len(ended) > 1 else None)


_AFTER_KILL_S = 5.0  # how long a killed run's exit and pipes are waited for
# Linux keeps each task's run-queue delay in /proc/<pid>/schedstat (its second field, in ns).
_SCHEDSTAT = sys.platform.startswith("linux") and Path("/proc/self/schedstat").is_file()


def _exit_of(pid: int, ended: List[float]) -> None:
    """Wait for `pid` to exit without reaping it, so its schedstat can still be read: the time it
    ended, and its run-queue delay in seconds when readable."""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # reaped already (elsewhere, or killed past its timeout): no timing here
        return
    ended.append(time.perf_counter())
    with suppress(OSError, ValueError, IndexError):
        ended.append(int(Path(f"/proc/{pid}/schedstat").read_text(encoding="ascii").split()[1]) / 1e9)


def _drain(stream: Optional[IO[bytes]]) -> Tuple[threading.Thread, List[bytes]]:
    """Read a child's pipe to its end in a thread, so a chatty child never blocks on a full pipe."""
    chunks: List[bytes] = []

    def read() -> None:
        # A grandchild may hold the pipe open past a timeout, when it is closed under the reader.
        with suppress(OSError, ValueError):
            chunks.append(stream.read() if stream else b"")

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, chunks


def _show(argv: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(argv)) if sys.platform == "win32" else " ".join(argv)


def lock_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The run's timing lock: `READINESS_LOCK`, else one file in the system temp folder."""
    env = os.environ if environ is None else environ
    configured = env.get(LOCK_ENV)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / DEFAULT_LOCK_NAME


@contextmanager
def timing_lock(path: Optional[Path] = None, timeout: Optional[float] = None) -> Iterator[LockHold]:
    """Hold the cross-process timing lock while the block runs; TimeoutError after `timeout` s."""
    target = lock_path() if path is None else path
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with target.open("a+b") as handle:
        _acquire(handle, started, timeout, target)
        try:
            yield LockHold(path=target, waited_s=time.monotonic() - started)
        finally:
            _unlock_byte(handle)


class Turns:
    """The run's timing lock taken for each sample (or pair) rather than for a whole measurement: a
    Wine cell's slow samples and a native cell's quick ones take turns instead of queueing for
    minutes, and every sample still runs alone. Between two turns the lock stays free a moment, so
    a cell that polls for it gets it."""

    GAP_S = 2 * _POLL_S

    def __init__(self) -> None:
        self.waited_s = 0.0
        self._taken = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self._taken:
            time.sleep(self.GAP_S)
        with timing_lock() as hold:
            self.waited_s += hold.waited_s
            self._taken += 1
            yield


def _acquire(handle: IO[bytes], started: float, timeout: Optional[float], target: Path) -> None:
    while not _try_byte_lock(handle):
        if timeout is not None and time.monotonic() - started >= timeout:
            raise TimeoutError(
                f"timing lock {target} still held by another process after {timeout} s"
            )
        time.sleep(_POLL_S)


def _try_lock(handle: IO[bytes]) -> bool:
    """One non-blocking attempt at an exclusive lock on the file's first byte."""
    handle.seek(0)
    try:
        if sys.platform == "win32":
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _try_byte_lock(handle: IO[bytes]) -> bool:
    """The timing lock: an exclusive lock on the file's first byte that a Windows Python under Wine
    and a Linux one exclude each other with (Wine's LockFileEx is a POSIX record lock on Linux, so
    this is one too, not flock), so timed checks of native and Wine cells take turns."""
    if sys.platform == "win32":
        return _try_lock(handle)
    handle.seek(0)
    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
    except OSError:
        return False
    return True


def _unlock_byte(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        _unlock(handle)
        return
    fcntl.lockf(handle.fileno(), fcntl.LOCK_UN, 1, 0)


def _unlock(handle: IO[bytes]) -> None:
    handle.seek(0)
    if sys.platform == "win32":
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def machine_load() -> Optional[Tuple[float, float, float]]:
    """The 1, 5 and 15 minute load averages, or None where the platform has none (Windows)."""
    if sys.platform == "win32":
        return None
    try:
        return os.getloadavg()
    except OSError:
        return None
