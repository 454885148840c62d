"""Pausing Python's cycle collector while a merge, a verdict or a report is built."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cycle collection inside: these steps build millions of long-lived objects and no cycles,
    and each full collection would walk them all again. The collector runs as before afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
