"""One writer for every file readiness produces: atomic replacement, UTF-8, `-` for stdout;
and `printable`, which makes text from documents inert on a terminal."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

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
    _write(target, _utf8(text))


def write_bytes(target: PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically, creating missing parent folders."""
    _write(target, (data,))


_PART = 1 << 20  # characters encoded at a time


def _utf8(text: str) -> Iterator[bytes]:
    """The text's UTF-8 bytes a part at a time: a report of tens of megabytes is not copied whole
    once more, into memory the process would have to be given first."""
    try:
        for start in range(0, len(text), _PART):
            yield text[start:start + _PART].encode("utf-8")
    except UnicodeEncodeError:
        text.encode("utf-8")  # the error of the whole text (a lone surrogate), as it was written before
        raise


def _write(target: PathLike, parts: Iterable[bytes]) -> None:
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
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
            Path(tmp).replace(path)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 19:
                raise
            import time

            time.sleep(0.05)


# What a terminal acts on instead of showing: C0 and C1 controls (ESC, CSI, BEL, CR, BS...),
# DEL, lone surrogates, and the Unicode controls that reorder text or break lines (bidi marks,
# embeddings, overrides and isolates; U+2028 and U+2029).
_OTHER_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNPRINTABLE = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")
_UNPRINTABLE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_CONTROLS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: Any, *, keep_newlines: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`): inert on a terminal."""
    shown = str(text)
    if shown.isprintable():  # no control at all (checked in C: the pattern takes far longer)
        return shown
    pattern = _UNPRINTABLE_BUT_NEWLINE if keep_newlines else _UNPRINTABLE
    return pattern.sub(_escape, shown)


def _escape(match: "re.Match[str]") -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
