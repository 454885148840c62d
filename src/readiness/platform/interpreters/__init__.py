"""Interpreter discovery: every CPython 3.9+ on the machine, one chosen per cell.

`sources` finds candidates (pyenv, uv, the `py` launcher, PATH), `discovery` runs each once and
chooses per cell, `listing` is `readiness interpreters`; `records` holds what they pass around.
"""

from __future__ import annotations

from readiness.platform.interpreters.discovery import (
    SOURCES,
    choose,
    discover,
    probe,
    probe_all,
    run_command,
    wine_interpreters,
)
from readiness.platform.interpreters.listing import command, format_table
from readiness.platform.interpreters.records import (
    MINIMUM,
    PROBE_TIMEOUT_S,
    Candidate,
    CommandResult,
    CommandRunner,
    Discovery,
    Interpreter,
    Rejected,
)
from readiness.platform.interpreters.sources import (
    candidates,
    home_folder,
    parse_py_launcher,
    path_candidates,
    py_launcher_candidates,
    pyenv_candidates,
    pyenv_root,
    uv_candidates,
    uv_python_dirs,
)

__all__ = [
    "MINIMUM",
    "PROBE_TIMEOUT_S",
    "SOURCES",
    "Candidate",
    "CommandResult",
    "CommandRunner",
    "Discovery",
    "Interpreter",
    "Rejected",
    "candidates",
    "choose",
    "command",
    "discover",
    "format_table",
    "home_folder",
    "parse_py_launcher",
    "path_candidates",
    "probe",
    "probe_all",
    "py_launcher_candidates",
    "pyenv_candidates",
    "pyenv_root",
    "run_command",
    "uv_candidates",
    "uv_python_dirs",
    "wine_interpreters",
]
