"""Locks between validate runs in one repository; the OS releases them when their holder exits.

Two locks keep concurrent runs apart. The repository's lock (`.nox/readiness.lock`) is held by
a run from its first cell to its verdict: runs share the cells' venvs and the Wine lane's package
folders, and would skew each other's timings; a second run waits for it and says for whom. A run
folder's own lock (`reports/runs/<id>/.validate.lock`) is held by its run from start to end; a
second run with the same id is refused instead of writing into the same folder.

Each lock file has a note beside it (`<lock>.json`: run id, pid, since) that names the holder
in messages; only the OS lock decides who holds it, so a crashed holder never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import IO, Any, Callable, Dict, Optional

from readiness.cell.measure import _try_lock, _unlock
from readiness.model import ids
from readiness.model.errors import UsageError
from readiness.model.output import write_text

REPOSITORY_LOCK = Path(".nox") / "readiness.lock"
RUN_LOCK = ".validate.lock"
_POLL_S = 0.2
_NOTE_GRACE_S = 2.0  # how long a waiter gives a new holder to write its note before speaking


class HeldLock:
    """A lock this process holds; `release()` (or leaving a `with` block) lets it go."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: Optional[IO[bytes]] = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            if holder(self.path).get("pid") == os.getpid():
                # Before unlocking: the next holder writes its own. On Windows a waiter reading it
                # just now keeps it; the note is only informative.
                with contextlib.suppress(OSError):
                    _note(self.path).unlink(missing_ok=True)
            _unlock(handle)
        finally:
            handle.close()

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def try_hold(path: Path, run_id: str) -> Optional[HeldLock]:
    """The lock at `path` if no other process holds it (the holder note then names this run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+b")
    try:
        if not _try_lock(handle):
            handle.close()
            return None
        note = {"run_id": run_id, "pid": os.getpid(), "since": ids.utc_now()}
        write_text(_note(path), json.dumps(note) + "\n")
    except BaseException:
        handle.close()
        raise
    return HeldLock(path, handle)


def hold(path: Path, run_id: str, waiting: Callable[[Dict[str, Any]], None],
         going_on: Callable[[], None]) -> HeldLock:
    """Wait for the lock at `path`: call `waiting(holder)` once when it is taken, `going_on()`
    once it is ours after a wait. Ctrl-C (or SIGTERM turned into one) ends the wait."""
    started = time.monotonic()
    said = False
    while True:
        held = try_hold(path, run_id)
        if held is not None:
            if said:
                going_on()
            return held
        if not said:
            found = holder(path)
            if found or time.monotonic() - started >= _NOTE_GRACE_S:
                waiting(found)
                said = True
        time.sleep(_POLL_S)


def holder(path: Path) -> Dict[str, Any]:
    """What the note beside a lock says about its holder ({} when there is none or it is unreadable)."""
    try:
        data = json.loads(_note(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(found: Dict[str, Any]) -> str:
    """'run <id> (pid N)' for messages, or a plain phrase when the holder left no note."""
    if not found.get("run_id"):
        return "another validate run"
    return f"run {found['run_id']} (pid {found.get('pid', '?')}, since {found.get('since', '?')})"


def claim_run(run_dir: Path, run_id: str) -> HeldLock:
    """The run folder's lock, or a UsageError when another run is writing into the same folder."""
    held = try_hold(run_dir / RUN_LOCK, run_id)
    if held is None:
        found = holder(run_dir / RUN_LOCK)
        who = f"pid {found.get('pid', '?')}, since {found.get('since', '?')}" if found else "started just now"
        raise UsageError(
            f"run {run_id} is in use: another validate run ({who}) is writing into {run_dir.as_posix()}/; "
            "give this run another --run-id (or READINESS_RUN_ID), or wait for that one to finish"
        )
    return held


def _note(path: Path) -> Path:
    return path.with_name(path.name + ".json")
