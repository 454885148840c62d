"""Small files one process of a cell hands another while it runs (the progress file the live board
reads, what each xdist worker collected): replaced in one step, without waiting for the disk."""

from __future__ import annotations

import os
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (readers see the old file or the new one), creating its
    folder; no fsync, unlike the documents' writer: these files matter only while the run lasts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
