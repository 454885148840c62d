"""The cell fingerprint: which OS, architecture, Python and runner a check suite ran on.

The cell id is derived from the fingerprint, `<os>-<arch>[-wine]-<impl><X.Y>[t]`, e.g.
`linux-x86_64-cpython3.12` or `windows-x86_64-wine-cpython3.11`.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import sys
import sysconfig
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from readiness.errors import UsageError

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# The schemas' `cell_id`. A cell id names files (envs/<cell>.json, logs/<cell>.log,
# coverage/<cell>.coverage, ctrf/<cell>.json), so nothing else may pass for one: no separator,
# no `..`, no drive, no control character can match.
CELL_ID_PATTERN = re.compile(
    r"(linux|windows|macos|[a-z][a-z0-9]{0,15})-[a-z0-9_]{1,16}(-wine)?-(cpython|pypy|[a-z][a-z0-9]{0,15})"
    r"[0-9]{1,2}\.[0-9]{1,3}t?"
)
_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86_64": "x86_64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8": "arm64",
}


def os_family(platform_name: str = sys.platform) -> str:
    """`linux`, `windows`, `macos`, or the platform's own name for anything else."""
    if platform_name.startswith("linux"):
        return "linux"
    if platform_name in ("win32", "cygwin"):
        return "windows"
    if platform_name == "darwin":
        return "macos"
    return re.sub(r"[^a-z0-9]", "", platform_name.lower())[:16] or "unknown"


def normalise_arch(machine: str) -> str:
    """`x86_64` or `arm64` for the common spellings; other machines keep a sanitised name."""
    key = machine.lower()
    return _ARCH_ALIASES.get(key, re.sub(r"[^a-z0-9_]", "", key)[:16] or "unknown")


def is_wine(environ: Mapping[str, str] = os.environ) -> bool:
    """True when this Windows Python runs under Wine (the lane is labelled, never hidden)."""
    if environ.get("READINESS_LANE") == "wine":
        return True
    if sys.platform != "win32":
        return False
    try:
        import ctypes

        ntdll = ctypes.WinDLL("ntdll")  # type: ignore[attr-defined,unused-ignore]
        return hasattr(ntdll, "wine_get_version")
    except (OSError, AttributeError):
        return False


def free_threaded() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def runner(environ: Mapping[str, str] = os.environ) -> str:
    """Which tool made the environment: nox, tox or plain pytest."""
    explicit = environ.get("READINESS_RUNNER")
    if explicit in ("nox", "tox", "plain"):
        return explicit
    if "NOX_CURRENT_SESSION" in environ:
        return "nox"
    if "TOX_ENV_NAME" in environ:
        return "tox"
    return "plain"


def ci_job(environ: Mapping[str, str] = os.environ) -> Optional[Dict[str, Optional[str]]]:
    """The CI provider and job id, or None outside CI."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return {"provider": "github", "job_id": environ.get("GITHUB_JOB")}
    if environ.get("GITLAB_CI"):
        return {"provider": "gitlab", "job_id": environ.get("CI_JOB_ID")}
    if environ.get("TF_BUILD"):
        return {"provider": "azure", "job_id": environ.get("SYSTEM_JOBID")}
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        return {"provider": "unknown", "job_id": None}
    return None


def machine() -> Dict[str, Any]:
    """What timing comparisons must match: the processor, its core count and the platform."""
    return {
        "cpu": _cpu_model() or platform.processor() or platform.machine(),
        "cores": os.cpu_count() or 0,
        "platform": f"{os_family()}-{normalise_arch(platform.machine())}",
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def _os_release() -> str:
    try:
        return platform.platform(terse=True)
    except Exception:
        return sys.platform


def fingerprint(environ: Mapping[str, str] = os.environ) -> Dict[str, Any]:
    """The fingerprint of the running interpreter's cell."""
    wine = is_wine(environ)
    return {
        "os": os_family(),
        "os_release": _os_release(),
        "arch": normalise_arch(platform.machine()),
        "implementation": sys.implementation.name,
        "python_version": platform.python_version(),
        "free_threaded": free_threaded(),
        "executable": sys.executable,
        "runner": runner(environ),
        "lane": "wine" if wine else "native",
        "ci": ci_job(environ),
        "machine": machine(),
    }


def cell_id(print_: Mapping[str, Any]) -> str:
    """The cell id a fingerprint stands for."""
    major_minor = ".".join(str(print_["python_version"]).split(".")[:2])
    wine = "-wine" if print_["lane"] == "wine" else ""
    threaded = "t" if print_["free_threaded"] else ""
    return f"{print_['os']}-{print_['arch']}{wine}-{print_['implementation']}{major_minor}{threaded}"


def check_cell_id(cell: Any) -> str:
    """`cell` when it is a cell id; anything else (a path, `..`, a drive, a NUL) is refused."""
    if not isinstance(cell, str) or not CELL_ID_PATTERN.fullmatch(cell):
        raise UsageError(
            f"cell id {cell!r} is not a cell id: it is <os>-<arch>[-wine]-<implementation><X.Y>[t], "
            "e.g. linux-x86_64-cpython3.12, and names files in the run folder, so it cannot be a path"
        )
    return cell


def cell_file(folder: Union[str, "os.PathLike[str]"], cell: Any, suffix: str) -> Path:
    """The file `<folder>/<cell><suffix>` (say envs/<cell>.json), never one outside `folder`."""
    return Path(folder) / f"{check_cell_id(cell)}{suffix}"


def check_run_id(value: Any, source: str) -> str:
    """`value` when it is a run id (it names the run folder); `source` says where it came from."""
    if not isinstance(value, str) or not RUN_ID_PATTERN.fullmatch(value):
        raise UsageError(
            f"{source}={value!r} is not a valid run id: use up to 128 letters, "
            "digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def run_id(environ: Mapping[str, str] = os.environ, now: Optional[datetime] = None) -> str:
    """The id tying the cells of one validation together.

    `READINESS_RUN_ID` when set, else the CI's run variables, else a new local id.
    """
    explicit = environ.get("READINESS_RUN_ID")
    if explicit is not None:
        return check_run_id(explicit, "READINESS_RUN_ID")
    if environ.get("GITHUB_RUN_ID"):
        return check_run_id(f"gh-{environ['GITHUB_RUN_ID']}-{environ.get('GITHUB_RUN_ATTEMPT', '1')}",
                            "the run id from GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT")
    if environ.get("CI_PIPELINE_ID"):
        return check_run_id(f"gl-{environ['CI_PIPELINE_ID']}", "the run id from CI_PIPELINE_ID")
    if environ.get("BUILD_BUILDID"):
        return check_run_id(f"az-{environ['BUILD_BUILDID']}", "the run id from BUILD_BUILDID")
    return new_run_id(now)


def new_run_id(now: Optional[datetime] = None) -> str:
    """A fresh local run id: UTC time (sortable) and a random suffix (unique)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def utc_now() -> str:
    """The current time as the documents write it."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
