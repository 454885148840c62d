"""How much CPU this process's programs want: the cores that the sessions it started (every cell
runs in a session of its own, with whatever that starts) kept busy or were ready to (runnable,
waiting for a core another process had) over the last window, from `/proc`, for the cell pool's
decision to start another cell (README, "Options of `nox -s validate`": `-j`). A cell waiting
for a turn at the timing lock, for a service or for the network leaves its core to another cell;
one that the machine's other users keep from running does not.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, Optional, Tuple

PROC = Path("/proc")


def available() -> bool:
    """Whether the processes' CPU times can be read here (Linux)."""
    return (PROC / "self" / "stat").is_file()


def _waited(pid: int) -> float:
    """Seconds the process's main thread spent runnable but not running (0 where not recorded)."""
    try:
        with open(f"{PROC}/{pid}/schedstat", "rb") as stat:  # noqa: PTH123
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _processes() -> Dict[int, Tuple[int, int, float]]:
    """pid -> (parent pid, session id, CPU seconds so far) of every process that can be read."""
    tick = float(os.sysconf("SC_CLK_TCK"))
    found = {}
    # Names and bytes, not a Path and decoded text per process (the PTH noqa): while cells wait to
    # start, this reads every process of the machine twice a second.
    for name in os.listdir(PROC):  # noqa: PTH208
        if not name[:1].isdigit():
            continue
        try:
            with open(f"{PROC}/{name}/stat", "rb") as stat:  # noqa: PTH123
                fields = stat.read().rpartition(b")")[2].split()
            found[int(name)] = (int(fields[1]), int(fields[3]), (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, ValueError, IndexError):
            continue  # it ended while we looked
    return found


class OwnUse:
    """Cores (0 to the CPU count) the sessions this process started kept busy or waited for, over
    the last window of at least `window_s`; None until a whole window has been seen."""

    def __init__(self, window_s: float = 0.5) -> None:
        self.cores = os.cpu_count() or 1
        self._window_s = window_s
        self._seen: Dict[int, float] = {}
        self._since: Optional[float] = None
        self._busy: Optional[float] = None

    def busy_cores(self) -> Optional[float]:
        now = time.monotonic()
        if self._since is not None and now - self._since < self._window_s:
            return self._busy
        table, me = _processes(), os.getpid()
        ours = {pid for pid, (parent, _, _) in table.items() if parent == me}  # each a session's leader
        seen = {pid: used + _waited(pid) for pid, (_, session, used) in table.items() if session in ours}
        if self._since is not None:
            spent = sum(used - self._seen.get(pid, 0.0) for pid, used in seen.items())
            self._busy = max(0.0, spent) / (now - self._since)
        self._seen, self._since = seen, now
        return self._busy
