"""Renderers: one module per format behind one small protocol, written through one writer.

Library API:

    write_reports(matrix, verdict, out_dir, formats, *, generated_at=None) -> list of paths
        out_dir "-" writes to stdout (formats that make one file only).
    render(name, matrix, verdict, *, generated_at=None, color=False) -> list of Output
    FORMATS: the format names (terminal, md, html, junit, ctrf, json, github)

Every renderer is a pure function of (matrix, verdict, context) returning `Output`s: a path
relative to the output folder and the text. The generated time is `SOURCE_DATE_EPOCH` when set,
else the time the newest document finished (now only when there is none): the same evidence
renders to the same bytes, in any folder, process or day.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from readiness.judge import gcpause
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.model.errors import UsageError
from readiness.model.output import PathLike, write_text
from readiness.render import ctrf, github, html, jsonout, junit, markdown, terminal
from readiness.render.common import Context, Output, Renderer, generated_at_from_environment

RENDERERS: Dict[str, Renderer] = {
    "terminal": terminal.render,
    "md": markdown.render,
    "html": html.render,
    "junit": junit.render,
    "ctrf": ctrf.render,
    "json": jsonout.render,
    "github": github.render,
}
FORMATS = tuple(RENDERERS)
# What `readiness report -o DIR` writes when no --format is given.
FILE_FORMATS = ("md", "html", "junit", "ctrf", "json")

__all__ = ["FILE_FORMATS", "FORMATS", "Context", "Output", "render", "write_reports"]


def render(name: str, matrix: Matrix, verdict: Verdict, *, generated_at: Optional[str] = None,
           color: bool = False) -> List[Output]:
    """The files format `name` makes for this matrix and verdict."""
    if name not in RENDERERS:
        raise UsageError(f"unknown report format {name!r} (known: {', '.join(FORMATS)})")
    context = Context(generated_at or _generated_at(matrix), color)
    with gcpause.paused():
        return RENDERERS[name](matrix, verdict, context)


def _generated_at(matrix: Matrix) -> str:
    """SOURCE_DATE_EPOCH when set, else when the newest of the matrix's documents finished."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        return generated_at_from_environment()
    newest: Optional[dt.datetime] = None
    for doc in matrix.documents.values():
        try:
            finished = dt.datetime.fromisoformat(str(doc.finished_at).replace("Z", "+00:00"))
        except ValueError:
            continue
        if finished.tzinfo is None:
            finished = finished.replace(tzinfo=dt.timezone.utc)
        newest = finished if newest is None else max(newest, finished)
    if newest is None:
        return generated_at_from_environment()
    return newest.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_reports(matrix: Matrix, verdict: Verdict, out_dir: PathLike, formats: Sequence[str], *,
                  generated_at: Optional[str] = None, color: bool = False) -> List[str]:
    """Render `formats` into `out_dir` (atomic writes) or to stdout for "-"; return what was written."""
    written: List[str] = []
    for name in formats:
        outputs = render(name, matrix, verdict, generated_at=generated_at, color=color)
        if os.fspath(out_dir) == "-" or name == "terminal":
            written += _to_stdout(name, outputs)
        elif name == "github":
            written += github.append(outputs)
        else:
            for output in outputs:
                target = Path(out_dir) / output.path
                write_text(target, output.text)
                written.append(target.as_posix())
    return written


def _to_stdout(name: str, outputs: List[Output]) -> List[str]:
    if len(outputs) > 1:
        raise UsageError(f"format {name} writes {len(outputs)} files: give -o DIR, not -")
    for output in outputs:
        write_text("-", output.text)
    return ["-"]
