"""One writer for every file readiness produces: atomic replacement, UTF-8, `-` for stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


def write_text(target: PathLike, text: str) -> None:
    """Write `text` to `target` atomically, or to stdout when `target` is `-`.

    Readers never see a half-written file: the text goes to a temporary file in the same
    folder, which then replaces the target in one step.
    """
    if os.fspath(target) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_bytes(target, text.encode("utf-8"))


def write_bytes(target: PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically, creating missing parent folders."""
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _replace(tmp: str, path: Path) -> None:
    # On Windows os.replace fails while another process has the target open for reading;
    # a short retry covers a reader (say, the live board) that is between open and close.
    for attempt in range(20):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 19:
                raise
            import time

            time.sleep(0.05)
