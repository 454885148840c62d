"""Running programs for the Wine lane, a Windows CPython above all: always through pipes.

A Windows Python given a regular file as a std handle dies at start under Wine 8.0, so every
launch reads its output through a pipe (CRLF turned into LF) and copies it where it is wanted.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Dict, List, Mapping, Optional, Sequence, Tuple

from readiness.platform import process
from readiness.platform.wine.lane import WinePython, WineTimeout, to_windows_path


def launch_and_copy(
    argv: Sequence[str], env: Mapping[str, str], *, cwd: Optional[Path] = None,
    timeout: Optional[float] = None, sinks: Sequence[process.Sink] = (),
    what: str = "",
) -> int:
    """Run a program through pipes, copying its output (redacted) to each sink as it arrives.

    Whatever the launch leaves running in its process group is killed when it ends; past the
    timeout everything it started is killed and WineTimeout raised.
    """
    options = process.Options(env=env, cwd=cwd, timeout=timeout, what=what, crlf_to_lf=True,
                              kill_leftovers=True)
    try:
        return process.run(argv, options, sinks)
    except process.ProcessTimeout as exc:
        raise WineTimeout(str(exc), exc.returncode) from None


@dataclass(frozen=True)
class Launch:
    """How a Windows python.exe is started: the caller's environment (default: this process's),
    its working folder, a timeout in seconds, and folders put on PYTHONPATH as Windows paths."""

    env: Optional[Mapping[str, str]] = None
    cwd: Path | str | None = None
    timeout: Optional[float] = None
    pythonpath: Sequence[Path | str] = ()
    raw: bool = False  # capture() keeps the output unredacted: for output that is parsed, never shown

    def environ(self, py: WinePython) -> Dict[str, str]:
        environ = py.environ(os.environ if self.env is None else self.env)
        if self.pythonpath:
            environ["PYTHONPATH"] = ";".join(to_windows_path(folder) for folder in self.pythonpath)
        return environ

    def folder(self) -> Optional[Path]:
        return Path(self.cwd) if self.cwd else None


def _describe(py: WinePython, argv: Sequence[str]) -> str:
    shown = " ".join(argv[:2]) if argv and argv[0] == "-m" else " ".join(argv[:1])
    return f"Windows CPython {py.python} under Wine (python.exe {shown})"


def run(
    py: WinePython, argv: Sequence[str], launch: Launch = Launch(), *,
    log_path: Path | str | None = None, echo: Optional[IO[bytes]] = None,
) -> int:
    """Run the Windows python.exe with argv; its output goes through a pipe into log_path (and
    echo). Returns the exit code; raises WineTimeout after killing everything the launch
    started when it runs past the launch's timeout.
    """
    with contextlib.ExitStack() as stack:
        sinks: List[process.Sink] = []
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            sinks.append(process.file_sink(stack.enter_context(Path(log_path).open("ab"))))
        if echo is not None:
            sinks.append(process.file_sink(echo))
        return launch_and_copy([py.wine, str(py.executable), *argv], launch.environ(py), cwd=launch.folder(),
                               timeout=launch.timeout, sinks=sinks, what=_describe(py, argv))


def capture(py: WinePython, argv: Sequence[str], launch: Launch = Launch()) -> Tuple[int, str]:
    """Run the Windows python.exe through pipes and return its exit code and output."""
    output = process.Capture(raw=launch.raw)
    code = launch_and_copy([py.wine, str(py.executable), *argv], launch.environ(py), cwd=launch.folder(),
                           timeout=launch.timeout, sinks=[output], what=_describe(py, argv))
    return code, output.text()
