"""A program's process group: started in one of its own, signalled, killed and waited for until
every process in it is gone (the process layer, `process`, runs every program through it)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

_WINDOWS = os.name == "nt"
KILL_WAIT_S = 10.0  # how long a killed group may take to be gone


def new_group() -> Dict[str, Any]:
    """Popen's arguments that start a program in a process group of its own."""
    if _WINDOWS:
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def live_members(pgid: int) -> List[int]:
    """The processes of a group that still run (a zombie waits for its parent: it is dead)."""
    try:
        os.killpg(pgid, 0)  # mostly the group is gone already: then no process's stat need be read
    except ProcessLookupError:
        return []
    except PermissionError:
        signalled = False
    else:
        signalled = True
    proc = Path("/proc")
    if not proc.is_dir():
        return [pgid] if signalled else []
    found = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8", errors="replace").rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we looked
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def _wait_group_gone(pgid: int, deadline: float) -> None:
    # Killed processes that are not our children (Wine double-forks the ones a Windows
    # program starts) exit on their own time: wait until none of the group still runs.
    while live_members(pgid) and time.monotonic() < deadline:
        signal_group(pgid, signal.SIGKILL)  # one forked while the first kill was under way
        time.sleep(0.02)


def kill_group(popen: subprocess.Popen[bytes]) -> None:
    """Kill a program and every process in its group; return once they are gone."""
    deadline = time.monotonic() + KILL_WAIT_S
    if _WINDOWS:
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(popen.pid)],
                       stdin=subprocess.DEVNULL, capture_output=True, check=False)
    else:
        signal_group(popen.pid, signal.SIGKILL)
    try:
        popen.wait(timeout=KILL_WAIT_S)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()
    if not _WINDOWS:
        _wait_group_gone(popen.pid, deadline)


def signal_program(popen: subprocess.Popen[bytes], signum: int) -> None:
    """SIGINT or SIGTERM to the whole group (Windows: CTRL_BREAK, or terminate)."""
    if not _WINDOWS:
        signal_group(popen.pid, signum)
    elif signum == signal.SIGINT:
        popen.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    else:
        popen.terminate()


def wait_exit(popen: subprocess.Popen[bytes], timeout: Optional[float]) -> int:
    """`popen.wait(timeout)` without its polling (a wake-up every few milliseconds, in every cell's
    thread): on Linux the process's pidfd is waited on, one wake-up when it ends or times out."""
    if timeout is None or popen.returncode is not None or not hasattr(os, "pidfd_open"):
        return popen.wait(timeout=timeout)
    try:
        pidfd = os.pidfd_open(popen.pid)  # not reaped yet (no returncode): the pid is still this program's
    except OSError:  # a kernel without pidfds
        return popen.wait(timeout=timeout)
    try:
        ending = select.poll()
        ending.register(pidfd, select.POLLIN)
        ended = ending.poll(max(0.0, timeout) * 1000)
    finally:
        os.close(pidfd)
    if not ended:
        raise subprocess.TimeoutExpired(popen.args, timeout)
    return popen.wait()
