"""Shared test helpers: documents built in tmp_path, and tools that must exist under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str, found: Optional[str] = None) -> str:
    """The path of an external tool; missing, it fails under CI=true and skips elsewhere."""
    path = found or shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (.ci/run installs it)"
    if IN_CI:
        pytest.fail(f"{message}; under CI a test never skips for a missing tool")
    pytest.skip(message)
