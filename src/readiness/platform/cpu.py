"""How busy the machine's CPUs are: the idle time of all of them since the last look, from the
system's own counters (Linux `/proc/stat`, Windows `GetSystemTimes`), for the cell pool's
decision to start another cell (README, "Options of `nox -s validate`": `-j`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

Counters = Tuple[float, float]  # (idle, total) CPU seconds summed over every CPU, since boot


def counters() -> Optional[Counters]:
    """The system's idle and total CPU time, or None where it cannot be read."""
    try:
        return _windows() if sys.platform == "win32" else _linux()
    except (OSError, ValueError, AttributeError):
        return None


def _linux() -> Optional[Counters]:
    first = Path("/proc/stat").read_text(encoding="utf-8").split("\n", 1)[0].split()
    if first[:1] != ["cpu"]:
        return None
    ticks = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    return float(ticks[3] + ticks[4]), float(sum(ticks))


def _windows() -> Optional[Counters]:
    import ctypes
    from ctypes import wintypes

    idle, kernel, user = wintypes.FILETIME(), wintypes.FILETIME(), wintypes.FILETIME()
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]  # Windows only
    if not kernel32.GetSystemTimes(ctypes.byref(idle), ctypes.byref(kernel), ctypes.byref(user)):
        return None

    def value(t: wintypes.FILETIME) -> float:
        return float((t.dwHighDateTime << 32) | t.dwLowDateTime)

    return value(idle), value(kernel) + value(user)  # kernel time includes the idle time


class IdleMeter:
    """Idle cores (0 to the CPU count) over the last window of at least `window_s`, read on demand."""

    def __init__(self, window_s: float = 0.5) -> None:
        self.cores = os.cpu_count() or 1
        self._window_s = window_s
        self._last: Optional[Tuple[float, Counters]] = None
        self._idle: Optional[float] = None

    def idle_cores(self) -> Optional[float]:
        """None until a whole window has been seen, or where the counters cannot be read."""
        now, taken = time.monotonic(), counters()
        if taken is None:
            return None
        if self._last is None:
            self._last = (now, taken)
            return None
        since, (idle_then, total_then) = self._last
        if now - since >= self._window_s and taken[1] > total_then:
            self._idle = self.cores * (taken[0] - idle_then) / (taken[1] - total_then)
            self._last = (now, taken)
        return self._idle
