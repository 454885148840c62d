"""The Windows-under-Wine lane: real Windows CPythons run by Debian's Wine 8.0 on Linux.

`lane`: what is pinned, where it lives, whether it can run; `provisioning`: `readiness wine
setup`, the interpreters and the lane's Wine prefix in a cache folder; `packages`: a cell's
packages installed from Linux into a target folder; `launch`: the Windows interpreter run with
that folder on PYTHONPATH, every launch through pipes.
"""

from __future__ import annotations

from readiness.platform.tools import uv_command
from readiness.platform.wine.lane import (
    DISTRIBUTIONS,
    ENABLE_COMMAND,
    Distribution,
    WineError,
    WinePython,
    WineTimeout,
    WineUnavailable,
    installed,
    manifest_path,
    not_run_reason,
    prefix_folder,
    python_folder,
    to_windows_path,
    windows_python,
    wine_available,
    wine_home,
)
from readiness.platform.wine.launch import Launch, capture, launch_and_copy, run
from readiness.platform.wine.packages import install_packages
from readiness.platform.wine.provisioning import (
    add_arguments,
    apply_workarounds,
    command,
    download,
    ensure_prefix,
    provision,
    setup,
    unpack,
    verify,
)

__all__ = [
    "DISTRIBUTIONS",
    "ENABLE_COMMAND",
    "Distribution",
    "Launch",
    "WineError",
    "WinePython",
    "WineTimeout",
    "WineUnavailable",
    "add_arguments",
    "apply_workarounds",
    "capture",
    "command",
    "download",
    "ensure_prefix",
    "install_packages",
    "installed",
    "launch_and_copy",
    "manifest_path",
    "not_run_reason",
    "prefix_folder",
    "provision",
    "python_folder",
    "run",
    "setup",
    "to_windows_path",
    "unpack",
    "uv_command",
    "verify",
    "windows_python",
    "wine_available",
    "wine_home",
]
