"""A native cell's environment: the uv virtual environment of its `checks-X.Y` nox session
(`.nox/checks-X-Y`), built and filled the same way whether validate or the session does it.

validate builds it itself (no nox process per cell: README, "Performance"); the session lets nox
create it and then installs through `install` here, so both leave the same environment and stamp.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

from readiness.model.output import write_text
from readiness.platform import tools
from readiness.run import ownwheel
from readiness.run.cellrun import log_note
from readiness.run.install import InstallRequest, Warmth, build_step, check_install

STAMP = ".readiness-install"  # the digests of the install this environment holds (run/install.py)


def location(project: Path, python: str) -> Path:
    """Where nox keeps the `checks-X.Y` session's environment (nox turns `.` into `-`)."""
    return project / ".nox" / f"checks-{python.replace('.', '-')}"


def interpreter(env: Path) -> Path:
    """The environment's own python."""
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environ(env: Path, base: Mapping[str, str]) -> Dict[str, str]:
    """`base` with the environment activated, as nox runs a session's commands."""
    bin_dir = interpreter(env).parent
    activated = dict(base, VIRTUAL_ENV=str(env), PATH=os.pathsep.join([str(bin_dir), base.get("PATH", "")]))
    activated.pop("PYTHONHOME", None)
    return activated


def ensure(env: Path, python: str, base_interpreter: Optional[str], log: Path, base: Mapping[str, str]) -> bool:
    """Create the environment for Python X.Y unless one made from the same interpreter is there;
    whether it was (re)created (a new one holds no install yet)."""
    if _reusable(env, python, base_interpreter):
        return False
    log_note(log, f"readiness: creating the environment {env.name} for Python {python}")
    shutil.rmtree(env, ignore_errors=True)
    argv = [*tools.uv_command(), "venv", "--quiet", "--python", base_interpreter or python, str(env)]
    build_step(argv, log, base, f"creating the environment {env.name}")
    return True


def _reusable(env: Path, python: str, base_interpreter: Optional[str]) -> bool:
    """Made by uv from this X.Y (and from this interpreter's folder, when known), and still runnable."""
    config = _pyvenv_cfg(env)
    if not interpreter(env).exists() or "uv" not in config:
        return False
    if not config.get("version_info", "").startswith(f"{python.rstrip('t')}."):
        return False
    if base_interpreter is None:
        return True
    home = Path(config.get("home", ""))
    return _same(home, Path(base_interpreter).parent)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _pyvenv_cfg(env: Path) -> Dict[str, str]:
    try:
        text = (env / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def install(env: Path, request: InstallRequest, log: Path, base: Mapping[str, str],
            ignore: Sequence[Path] = ()) -> None:
    """Carry out the install request, unless the environment already holds exactly this install.

    The target (when editable) is installed in place, so its sources are live; readiness from a
    local folder is its wheel, built once for every cell (run/ownwheel.py). What needs a
    reinstall is a change to the install itself (the request, or a file it names), or to the
    files of a local project installed as a copy. An environment whose request changed
    is synced exactly: a package the target no longer asks for must not make a check pass.
    """
    state = check_install(env / STAMP, request, live=True, ignore=ignore)
    if state.warmth is Warmth.CURRENT:
        log_note(log, "readiness: the environment already has this install")
        return
    extra = state.reinstall_arguments()
    if state.warmth is Warmth.REQUEST:
        log_note(log, "readiness: the install request changed since this environment was built (an extra, group, "
              "requirement or a file it names); syncing it exactly, removing what is no longer asked for")
        extra.append("--exact")
    elif state.warmth is Warmth.SOURCES:
        log_note(log, state.rebuild_note())
    wheel = ownwheel.wheel(request.readiness, log, base)
    argv = [*tools.uv_command(), "pip", "install", "--python", str(interpreter(env)),
            *request.arguments(live=True, wheel=wheel), *extra]
    (env / STAMP).unlink(missing_ok=True)  # an install that stops half way leaves no stamp
    build_step(argv, log, environ(env, base), "installing the cell's packages")
    write_text(env / STAMP, state.stamp)
