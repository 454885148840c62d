"""What interpreter discovery deals in: candidates, verified interpreters, rejections, the result.

A command runner is injected everywhere a program is run, so tests give recorded output. The
records are named tuples, immutable as frozen dataclasses would be and a quarter of the cost to
define (validate loads them on every run to plan its cells).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence, Tuple

from readiness.model.ids import CellId

MINIMUM = (3, 9)
PROBE_TIMEOUT_S = 10.0


class CommandResult(NamedTuple):
    """What a finished command printed, and its exit code.

    The default runner gives stdout and stderr together in `stdout`, as they arrived.
    """

    returncode: int
    stdout: str
    stderr: str = ""


# Runs argv with a timeout in seconds; raises OSError when it cannot start and
# subprocess.TimeoutExpired when it does not finish. Tests give recorded output instead.
CommandRunner = Callable[[Sequence[str], float], CommandResult]


class Candidate(NamedTuple):
    """A file that may be a Python, and the source that pointed at it."""

    path: str
    source: str


class Interpreter(NamedTuple):
    """A verified interpreter: what it is, where it is, and which cell it stands for."""

    executable: str
    version: str
    version_info: Tuple[int, int, int]
    implementation: str
    free_threaded: bool
    arch: str
    os: str
    source: str
    lane: str = "native"

    @property
    def minor(self) -> str:
        """`3.12` for 3.12.1: the X.Y of session names and cell ids."""
        return f"{self.version_info[0]}.{self.version_info[1]}"

    @property
    def cell(self) -> str:
        """The cell id, `<os>-<arch>[-wine]-<impl><X.Y>[t]`."""
        return str(CellId(self.os, self.arch, self.implementation, self.minor, self.lane == "wine",
                          self.free_threaded))


class Rejected(NamedTuple):
    """A candidate that is not used, and why."""

    path: str
    source: str
    reason: str


class Discovery(NamedTuple):
    """Every interpreter found: one chosen per cell, the others shadowed, and the rejected."""

    chosen: Tuple[Interpreter, ...] = ()
    shadowed: Tuple[Interpreter, ...] = ()
    rejected: Tuple[Rejected, ...] = ()

    def for_cell(self, cell: str) -> Optional[Interpreter]:
        """The interpreter chosen for a cell id, or None."""
        return next((found for found in self.chosen if found.cell == cell), None)

    def for_python(self, minor: str, lane: str = "native") -> Optional[Interpreter]:
        """The chosen (GIL) interpreter for `3.12` in a lane, or None."""
        return next(
            (found for found in self.chosen
             if found.minor == minor and found.lane == lane and not found.free_threaded),
            None,
        )

    def shadowed_by(self, interpreter: Interpreter) -> Optional[Interpreter]:
        """The chosen interpreter that takes a shadowed one's cell."""
        return self.for_cell(interpreter.cell)
