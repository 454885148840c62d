"""Cell ids and fingerprints: the grammar every matrix row and file name relies on."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Dict

import pytest

from readiness.cell import fingerprint
from readiness.model import ids
from readiness.model.errors import UsageError


def _print(**changes: Any) -> Dict[str, Any]:
    base = {"os": "linux", "arch": "x86_64", "lane": "native", "implementation": "cpython",
            "python_version": "3.12.1", "free_threaded": False}
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "cell"),
    [
        ({}, "linux-x86_64-cpython3.12"),
        ({"os": "windows", "lane": "wine", "python_version": "3.11.9"}, "windows-x86_64-wine-cpython3.11"),
        ({"os": "macos", "arch": "arm64", "python_version": "3.13.0"}, "macos-arm64-cpython3.13"),
        ({"python_version": "3.13.0", "free_threaded": True}, "linux-x86_64-cpython3.13t"),
        ({"implementation": "pypy", "python_version": "3.10.14"}, "linux-x86_64-pypy3.10"),
    ],
)
def test_cell_id_grammar(changes: Dict[str, Any], cell: str) -> None:
    assert ids.cell_id(_print(**changes)) == cell


@pytest.mark.parametrize(
    ("machine", "arch"),
    [("AMD64", "x86_64"), ("x86_64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64"),
     ("ppc64le", "ppc64le"), ("i686", "i686")],
)
def test_arch_is_normalised(machine: str, arch: str) -> None:
    assert ids.normalise_arch(machine) == arch


@pytest.mark.parametrize(
    ("platform", "family"),
    [("linux", "linux"), ("win32", "windows"), ("cygwin", "windows"), ("darwin", "macos"),
     ("freebsd14", "freebsd14")],
)
def test_os_family(platform: str, family: str) -> None:
    assert ids.os_family(platform) == family


def test_the_running_cell_matches_the_schema_pattern() -> None:
    from readiness.model import schema

    pattern = schema.shipped("env", 1)["$defs"]["cell"]["properties"]["id"]["pattern"]
    print_ = fingerprint.fingerprint({})
    assert re.search(pattern, ids.cell_id(print_))
    assert print_["runner"] == "plain" and print_["ci"] is None


@pytest.mark.parametrize(
    ("environ", "runner"),
    [({"NOX_CURRENT_SESSION": "checks-3.12"}, "nox"), ({"TOX_ENV_NAME": "py312"}, "tox"),
     ({}, "plain"), ({"READINESS_RUNNER": "tox", "NOX_CURRENT_SESSION": "x"}, "tox")],
)
def test_runner(environ: Dict[str, str], runner: str) -> None:
    assert fingerprint.runner(environ) == runner


@pytest.mark.parametrize(
    ("environ", "job"),
    [
        ({"GITHUB_ACTIONS": "true", "GITHUB_JOB": "cells"}, {"provider": "github", "job_id": "cells"}),
        ({"GITLAB_CI": "true", "CI_JOB_ID": "77"}, {"provider": "gitlab", "job_id": "77"}),
        ({"TF_BUILD": "True", "SYSTEM_JOBID": "j1"}, {"provider": "azure", "job_id": "j1"}),
        ({"CI": "true"}, {"provider": "unknown", "job_id": None}),
        ({}, None),
    ],
)
def test_ci_job(environ: Dict[str, str], job: Any) -> None:
    assert fingerprint.ci_job(environ) == job


def test_run_id_sources() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)
    assert fingerprint.run_id({"READINESS_RUN_ID": "rc-1"}) == "rc-1"
    assert fingerprint.run_id({"GITHUB_RUN_ID": "991", "GITHUB_RUN_ATTEMPT": "2"}) == "gh-991-2"
    assert fingerprint.run_id({"CI_PIPELINE_ID": "5"}) == "gl-5"
    assert re.fullmatch(r"20261130T120000Z-[0-9a-f]{6}", fingerprint.run_id({}, now))
    assert fingerprint.run_id({}, now) != fingerprint.run_id({}, now)


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "a b", "x" * 129, "-lead"])
def test_a_bad_run_id_is_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="is not a valid run id"):
        fingerprint.run_id({"READINESS_RUN_ID": bad})


def test_wine_is_labelled_when_the_lane_says_so() -> None:
    assert fingerprint.is_wine({"READINESS_LANE": "wine"}) is True
    assert fingerprint.fingerprint({"READINESS_LANE": "wine"})["lane"] == "wine"


def test_the_os_release_is_what_platform_says_without_asking_for_the_processor() -> None:
    import platform

    said = platform.platform(terse=True)
    if platform.uname().processor in ("", "unknown", platform.machine()):  # as on every common Linux
        assert fingerprint.fingerprint()["os_release"] == said
    else:
        assert fingerprint.fingerprint()["os_release"].split("-")[0] == said.split("-")[0]
