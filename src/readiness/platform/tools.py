"""The package tools readiness runs: uv, and pip (of this Python, else run by uv)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from typing import List

from readiness.model.errors import ReadinessError


class ToolMissing(ReadinessError):
    """A tool readiness needs is not installed."""


def uv_command() -> List[str]:
    """How to run uv: the `uv` on PATH, else the one the `uv` package ships."""
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return [str(find_uv_bin())]
    except (ImportError, FileNotFoundError):
        raise ToolMissing("uv is needed to install a cell's packages: `pip install uv`") from None


def pip_command() -> List[str]:
    """pip of this Python when it has one, else pip run by uv (uv-made environments have no pip)."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    return [*uv_command(), "tool", "run", "pip"]
