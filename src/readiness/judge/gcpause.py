"""Pausing Python's cycle collector while a merge, a verdict or a report is built."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cycle collection inside: these steps build millions of long-lived objects and no cycles,
    and each collection would walk them all again. The collector runs as before afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _settle()
        if was_enabled:
            gc.enable()


def _settle() -> None:
    """Move what was built to the oldest generation without a scan (freeze, then unfreeze).

    Left in the youngest generation, every object built while paused would be walked by the
    first collection after it (a tenth of a second for a large merge), then again by the next
    generation's. In the oldest one it is walked only by a full collection, as any old object is.
    """
    gc.freeze()
    gc.unfreeze()
