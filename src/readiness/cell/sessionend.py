"""How a pytest session ended, as the env document tells it: run to the end, interrupted (Ctrl-C,
SIGINT), stopped early on purpose (-x, --maxfail, pytest.exit()), or crashed; and so why a
collected check that never ran did not."""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple

import pytest

from readiness.model.document import CellState, CheckRecord, Outcome

# pytest-xdist ends a worker that got a KeyboardInterrupt with this error (pytest_testnodedown),
# and its controller then stops the session with "<worker> received keyboard-interrupt".
WORKER_INTERRUPT = "keyboard-interrupt"
INTERRUPTED = "interrupted"


class SessionEnd(NamedTuple):  # not a frozen dataclass: defining one costs each recording process ~2 ms
    """How the pytest session ended, as far as the document's state is concerned."""

    exitstatus: int
    interrupted: bool = False  # a real interrupt (KeyboardInterrupt, SIGINT), here or in an xdist worker
    stopped: Optional[str] = None  # why pytest ended the session early on purpose (-x, pytest.exit())
    internal_error: Optional[str] = None  # the last line of pytest's internal error

    @property
    def unrun_reason(self) -> str:
        """Why a collected check has no result: the message of its `not_run` record."""
        if self.interrupted:
            return INTERRUPTED
        if self.exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            return f"the cell crashed ({self._internal_error_text()})"
        if self.exitstatus == pytest.ExitCode.USAGE_ERROR:
            return "pytest could not run the suite (usage error)"
        if self.stopped:
            return f"the session stopped early ({self.stopped})"
        return "the session stopped before it"

    def _internal_error_text(self) -> str:
        detail = f": {self.internal_error}" if self.internal_error else ""
        return f"pytest stopped with an internal error{detail}"

    def state(self, records: List[CheckRecord]) -> Tuple[CellState, Optional[str]]:
        """`complete`, or why the evidence of this cell is short, and by how much.

        A module that failed to import is an `error` record of a complete cell, not a short run."""
        unrun = sum(1 for record in records if record.outcome is Outcome.NOT_RUN)
        if self.interrupted:
            return CellState.INTERRUPTED, f"interrupted (Ctrl-C or SIGINT); {unrun} check(s) did not run"
        if self.exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            return CellState.CRASHED, f"{self._internal_error_text()}; {unrun} check(s) did not run"
        if self.exitstatus == pytest.ExitCode.USAGE_ERROR:
            return CellState.CRASHED, "pytest could not run the suite (usage error, exit 4): see the cell's log"
        if unrun:
            why = f" ({self.stopped})" if self.stopped else ""
            return CellState.INTERRUPTED, f"the session stopped early{why}; {unrun} check(s) did not run"
        return CellState.COMPLETE, None


class Stop:
    """What the recorder learns, while the session ends, of how it ended."""

    def __init__(self) -> None:
        self.interrupted = False
        self.stopped: Optional[str] = None
        self.internal_error: Optional[str] = None

    def keyboard_interrupt(self, value: BaseException) -> None:
        """pytest_keyboard_interrupt: pytest calls it for a real interrupt and for its own stops
        (collection errors, a plugin's `shouldstop`, pytest.exit(), xdist's -x): tell them apart."""
        own = own_stop(value)
        if own is None:
            self.interrupted = True
        elif self.stopped is None:
            self.stopped = own

    def internalerror(self, value: BaseException) -> None:
        """pytest_internalerror: an interrupt that surfaced as one (here, or in an xdist worker,
        whose error arrives as text) is still an interrupt; else its first line says what broke."""
        lines = [last_line(line) for line in str(value).splitlines()]
        if isinstance(value, KeyboardInterrupt) or any(line.startswith("KeyboardInterrupt") for line in lines):
            self.interrupted = True
        elif self.internal_error is None:
            self.internal_error = f"{type(value).__name__}: {lines[0]}" if lines else type(value).__name__

    def end(self, exitstatus: int, session: pytest.Session) -> SessionEnd:
        stopped = self.stopped or _session_stop(session)
        return SessionEnd(int(exitstatus), self.interrupted, stopped, self.internal_error)


def own_stop(value: BaseException) -> Optional[str]:
    """Why pytest, xdist or a check ended the session on purpose; None for a real interrupt."""
    if isinstance(value, pytest.exit.Exception):
        return f"pytest.exit(): {value.msg}"
    kind = type(value)
    xdist_stop = kind.__name__ == "Interrupted" and kind.__module__.startswith("xdist.")
    if isinstance(value, pytest.Session.Interrupted) or xdist_stop:
        text = str(value)
        return None if WORKER_INTERRUPT in text else text
    return None


def _session_stop(session: pytest.Session) -> Optional[str]:
    """-x or --maxfail ("stopping after 1 failures"), or a plugin's stop, as pytest recorded it."""
    for value in (session.shouldfail, session.shouldstop):
        if value:
            return value if isinstance(value, str) else "a plugin stopped the session"
    return None


def last_line(text: str) -> str:
    """The last non-empty line of an error's text, without pytest's `E   ` prefix."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line[1:].strip() if line.startswith("E ") else line
