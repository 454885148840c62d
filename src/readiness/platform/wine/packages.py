"""Installing a Wine cell's packages from Linux: Windows wheels into a target folder, by uv.

Nothing runs under Wine here: venv and pip are what Wine 8.0 breaks on CPython 3.12+.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import List, Optional, Sequence

from readiness.platform import process
from readiness.platform.tools import ToolMissing, uv_command
from readiness.platform.wine.lane import WineError, WinePython
from readiness.platform.wine.launch import launch_and_copy


def install_packages(
    py: WinePython,
    target_dir: Path | str,
    requirements: Sequence[str],
    constraints: Path | str | None = None,
    *,
    log_path: Path | str | None = None,
    timeout: Optional[float] = None,
) -> None:
    """Install Windows builds of requirements for py's X.Y into target_dir, from Linux.

    requirements are what `uv pip install` takes (specs, paths, `-r FILE`).
    """
    try:
        uv = uv_command()
    except ToolMissing as exc:  # the lane reports its own errors
        raise WineError(str(exc)) from None
    argv = [*uv, "pip", "install", "--python-platform", "x86_64-pc-windows-msvc",
            "--python-version", py.python, "--target", str(target_dir)]
    if constraints is not None:
        argv += ["--constraint", str(constraints)]
    output = process.Capture()
    sinks: List[process.Sink] = [output]
    with contextlib.ExitStack() as stack:
        if log_path is not None:
            sinks.append(process.file_sink(stack.enter_context(Path(log_path).open("ab"))))
        code = launch_and_copy([*argv, *requirements], dict(os.environ), timeout=timeout,
                               sinks=sinks)
    if code != 0:
        tail = "\n".join(output.text().strip().splitlines()[-15:])
        raise WineError(
            f"installing {' '.join(requirements)} for Windows CPython {py.python} into "
            f"{target_dir} failed (uv exited with {code}); check that every requirement has a "
            f"Windows wheel or builds without a compiler:\n{tail}"
        )
