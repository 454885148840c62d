"""The cell fingerprint: which OS, architecture, Python and runner a check suite ran on, and the
run id that ties the cells of one validation together."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from readiness.model.ids import check_run_id, new_run_id, normalise_arch, os_family


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
    if sys.version_info < (3, 13):  # no free-threaded build before 3.13: spare importing sysconfig
        return False
    import sysconfig

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
        with Path("/proc/cpuinfo").open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def _os_release() -> str:
    """What platform.platform() says, without starting `uname -p` in every cell for the processor:
    on Linux it names the processor only when that is neither "unknown" nor the machine again."""
    try:
        if sys.platform.startswith("linux"):
            uname = platform.uname()  # its processor is only read when asked for (3.9+)
            libc, version = platform.libc_ver()
            parts = (uname.system, uname.release, uname.machine, "with", libc + version)
            return "-".join(part.strip().replace(" ", "_") for part in parts if part.strip())
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
