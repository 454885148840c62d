"""The one way readiness starts a program: in its own process group, its output copied through
the redactor to any sinks, and the whole group killed, and waited for, on timeout or interrupt.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Callable, Iterator, List, Mapping, NamedTuple, Optional, Sequence

from readiness.cell.redact import Redactor, StreamRedactor
from readiness.model.errors import ReadinessError
from readiness.platform import groups

Sink = Callable[[bytes], object]
_WINDOWS = os.name == "nt"
DRAIN_S = 5.0  # how long output is still copied once the program has ended
_POLL_S = 0.1
_READ_SIZE = 65536
_SMALL_READ = 4096  # a read this short had emptied the pipe: the program writes little at a time
_GATHER_S = 0.25  # how long such a program's output is left to gather before the next read


class ProcessTimeout(ReadinessError):
    """A program ran past its timeout; its whole process group was killed."""

    def __init__(self, message: str, returncode: Optional[int] = None) -> None:
        super().__init__(message)
        self.returncode = returncode


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class Options(NamedTuple):
    """How to start a program, and how to end it."""

    env: Optional[Mapping[str, str]] = None  # None: this process's environment
    cwd: Optional[Path] = None
    timeout: Optional[float] = None  # seconds; past it the whole group is killed
    what: str = ""  # names the program in the timeout message (default: its first two words)
    crlf_to_lf: bool = False  # Windows line endings become Linux ones (Wine launches)
    interrupt_grace: Optional[float] = None  # on Ctrl-C: SIGINT (CTRL_BREAK) first, kill after this
    kill_leftovers: bool = False  # when it ends, kill what it left running in its group

    def environ(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env


# --- sinks -----------------------------------------------------------------------------------


def file_sink(stream: IO[bytes]) -> Sink:
    """A sink that writes each chunk at once, so a log or a console shows progress."""

    def write(chunk: bytes) -> None:
        stream.write(chunk)
        stream.flush()

    return write


class Capture:
    """A sink that keeps everything in memory, or its last `limit` bytes; `raw`: unredacted, for
    output readiness parses and never shows (masking a "token" key breaks a JSON report)."""

    def __init__(self, limit: Optional[int] = None, raw: bool = False) -> None:
        self.limit = limit
        self.raw = raw
        self._chunks: List[bytes] = []
        self._size = 0

    def __call__(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self.limit is not None and self._size > 2 * self.limit:  # a long-lived program
            self._chunks = [self.data]
            self._size = len(self._chunks[0])

    @property
    def data(self) -> bytes:
        data = b"".join(self._chunks)
        return data if self.limit is None else data[-self.limit:]

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def tail(path: Path, lines: int) -> str:
    """The last lines of a log, redacted, for a document's reason ("" when it cannot be read)."""
    try:
        text = path.read_bytes()[-65536:].decode("utf-8", errors="replace")
    except OSError:
        return ""
    return Redactor.from_environment().text("\n".join(text.splitlines()[-lines:]))


# --- copying the output ----------------------------------------------------------------------


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


class _Copier:
    """Copies a pipe to the sinks in a thread: line endings fixed, then redacted.

    EOF alone is not enough to stop: a Wine launch that starts wineserver hands its output to
    the server and Wine's services, which keep the pipe open (silently) for as long as the
    server lives. Once the program has ended, the pipe is drained and the copy stops.
    """

    def __init__(self, pipe: IO[bytes], sinks: Sequence[Sink], options: Options) -> None:
        self._pipe = pipe
        self._sinks = list(sinks)
        self._endings = _LineEndings() if options.crlf_to_lf else None
        self._scrub = StreamRedactor(Redactor.from_environment(options.environ()))
        self._ended = threading.Event()
        self._stop_at = float("inf")
        self._thread = threading.Thread(target=self._copy, daemon=True)
        self._thread.start()

    def finish(self, join_s: float = 2 * DRAIN_S) -> None:
        """Stop once the pipe is drained (or DRAIN_S from now); close it when the copy is done."""
        self._stop_at = time.monotonic() + DRAIN_S
        self._ended.set()
        self._thread.join(join_s)
        if not self._thread.is_alive():  # closing under a blocked reader would wait for it
            self._pipe.close()

    def _copy(self) -> None:
        for chunk in self._chunks():
            self._pass(self._endings.feed(chunk) if self._endings else chunk)
        if self._endings is not None:
            self._pass(self._endings.flush())
        self._write(self._scrub.flush(), raw=False)

    def _pass(self, data: bytes) -> None:
        self._write(data, raw=True)
        self._write(self._scrub.feed(data), raw=False)

    def _chunks(self) -> Iterator[bytes]:
        fd = self._pipe.fileno()
        while True:
            if not _WINDOWS:  # select() takes no pipes on Windows: there, read to EOF
                ready, _, _ = select.select([fd], [], [], _POLL_S)
                if self._ended.is_set() and (not ready or time.monotonic() > self._stop_at):
                    return
                if not ready:
                    continue
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                return
            yield chunk
            if len(chunk) < _SMALL_READ:
                # A program writing a little at a time (pytest's progress dots) would wake this thread
                # at every write: what it writes meanwhile is read in one go. The copy is the same;
                # a program that ends is not waited for (finish() sets the event).
                self._ended.wait(_GATHER_S)

    def _write(self, data: bytes, raw: bool) -> None:
        if not data:
            return
        for sink in [s for s in self._sinks if getattr(s, "raw", False) is raw]:
            try:
                sink(data)
            except (OSError, ValueError):  # a closed console or log: the others still get it
                self._sinks.remove(sink)


# --- starting and ending ---------------------------------------------------------------------


class Running:
    """A started program whose output is being copied; `wait()` ends it in every case."""

    def __init__(self, argv: Sequence[str], options: Options, sinks: Sequence[Sink]) -> None:
        self.argv = list(argv)
        self.options = options
        self._popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=None if options.env is None else dict(options.env), cwd=options.cwd, **groups.new_group(),
        )
        assert self._popen.stdout is not None
        self._copier = _Copier(self._popen.stdout, sinks, options)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> Optional[int]:
        return self._popen.returncode

    def poll(self) -> Optional[int]:
        return self._popen.poll()

    def wait(self, tick: Optional[Callable[[], object]] = None, tick_s: float = 0.5) -> int:
        """The exit code. Past the timeout the group is killed and ProcessTimeout raised; on
        Ctrl-C (or any other exception) the group is stopped and the exception goes on.
        `tick` is called every `tick_s` seconds while the program runs."""
        try:
            code = self._wait(tick, tick_s)
            if self.options.kill_leftovers:
                groups.kill_group(self._popen)
            return code
        except subprocess.TimeoutExpired:
            groups.kill_group(self._popen)
            raise ProcessTimeout(f"{self._what()} did not finish within {self.options.timeout:g} s; "
                                 "its processes were killed", self._popen.returncode) from None
        except KeyboardInterrupt:
            self._interrupt()
            raise
        except BaseException:
            groups.kill_group(self._popen)
            raise
        finally:
            self._copier.finish()

    def terminate(self, grace: float = 5.0) -> None:
        """SIGTERM to the group, SIGKILL to what is left after `grace` seconds; all waited for."""
        if self._popen.poll() is None:
            groups.signal_program(self._popen, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=grace)
        groups.kill_group(self._popen)
        self._copier.finish()

    def _wait(self, tick: Optional[Callable[[], object]], tick_s: float) -> int:
        timeout = self.options.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        watched = getattr(_scope, "stop", None) is not None
        while True:
            if _stop_requested():
                raise KeyboardInterrupt  # another thread stopped this work: end it as Ctrl-C would
            step = None if tick is None else tick_s
            if watched:
                step = _POLL_S * 2 if step is None else min(step, _POLL_S * 2)
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                step = left if step is None else min(step, left)
            try:
                return groups.wait_exit(self._popen, step)
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
            if tick is not None:
                tick()

    def _interrupt(self) -> None:
        """Interrupt first when the caller gave a grace period (the program may clean up)."""
        grace = self.options.interrupt_grace
        if grace is not None:
            groups.signal_program(self._popen, signal.SIGINT)
            try:
                self._popen.wait(timeout=grace)
                if not self.options.kill_leftovers:
                    return
            except subprocess.TimeoutExpired:
                pass
        groups.kill_group(self._popen)

    def _what(self) -> str:
        return self.options.what or f"`{' '.join(self.argv[:2])}`"


_scope = threading.local()  # the stop event of the work this thread does (see `cancellable`)


@contextlib.contextmanager
def cancellable(stop: threading.Event) -> Iterator[None]:
    """While the block runs in this thread, every program it waits for is stopped (as on Ctrl-C:
    KeyboardInterrupt in this thread) once `stop` is set: how one thread stops another's work."""
    previous = getattr(_scope, "stop", None)
    _scope.stop = stop
    try:
        yield
    finally:
        _scope.stop = previous


def _stop_requested() -> bool:
    stop = getattr(_scope, "stop", None)
    return stop is not None and stop.is_set()


def start(argv: Sequence[str], options: Optional[Options] = None, sinks: Sequence[Sink] = ()) -> Running:
    """Start a program (stdin from /dev/null, stdout and stderr on one pipe) in its own group."""
    return Running(argv, options or Options(), sinks)


def run(argv: Sequence[str], options: Optional[Options] = None, sinks: Sequence[Sink] = ()) -> int:
    """Run a program to its end, copying its output to the sinks; its exit code."""
    return start(argv, options, sinks).wait()


def capture(argv: Sequence[str], options: Optional[Options] = None, raw: bool = False) -> "tuple[int, str]":
    """Run a program to its end; its exit code and what it printed (stdout and stderr, redacted
    unless `raw`: see Capture)."""
    output = Capture(raw=raw)
    return run(argv, options, [output]), output.text()


class Service:
    """A long-running program (a server) in its own group, what it prints kept in memory."""

    def __init__(self, argv: Sequence[str], options: Optional[Options] = None) -> None:
        self._output = Capture(limit=65536)
        self._running = start(argv, options, [self._output])

    @property
    def returncode(self) -> Optional[int]:
        return self._running.returncode

    def poll(self) -> Optional[int]:
        return self._running.poll()

    def output(self) -> str:
        """What it printed so far."""
        return self._output.text()

    def stop(self, grace: float = 5.0) -> None:
        """Terminate it, kill it (and what it started) after `grace` seconds, and wait."""
        self._running.terminate(grace)
