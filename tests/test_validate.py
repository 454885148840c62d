"""`nox -s validate` end to end on a small project: the verdict, and faults that are never GO."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import ROOT, read_document

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"

NOXFILE = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from readiness.nox import register
register()
"""

SUITE = '''
import os, time, subprocess, sys
import pytest

@pytest.mark.check(id="health.ok", category="health", severity="critical")
def test_ok(evidence):
    evidence["answer"] = 42

@pytest.mark.check(id="fault.maybe", category="integration", severity="critical")
def test_fault():
    fault = os.environ.get("FAULT", "")
    if fault == "fail":
        assert False, "the database is down"
    if fault == "abort":
        os.abort()
    if fault == "flaky":  # fails on its first attempt only
        marker = os.environ["FLAKY_MARKER"]
        if not os.path.exists(marker):
            open(marker, "w").close()
            assert False, "the first attempt fails"
    if fault == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["PID_FILE"], "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {child.pid}")
        time.sleep(600)

def test_plain():
    pass

@pytest.mark.check(id="target.value", severity="critical")
def test_target_value():
    import tiny_target
    assert tiny_target.VALUE == 1
'''


def make_project(path: Path, pythons: List[str], dependency: str = "", extra: str = "") -> Path:
    (path / "checks").mkdir(parents=True)
    (path / "checks" / "test_suite.py").write_text(SUITE, encoding="utf-8")
    (path / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    (path / "target").mkdir()
    (path / "target" / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [project]
        name = "tiny-target"
        version = "1.0"
        requires-python = ">=3.9"
        dependencies = [{dependency!r}] if {bool(dependency)!r} else []
        """).replace("dependencies = [''] if False else []", "dependencies = []")
        .replace(f"dependencies = [{dependency!r}] if True else []", f"dependencies = [{dependency!r}]"),
        encoding="utf-8")
    (path / "target" / "tiny_target.py").write_text("VALUE = 1\n", encoding="utf-8")
    (path / "pyproject.toml").write_text(textwrap.dedent(f"""
        [tool.readiness]
        pythons = {json.dumps(pythons)}
        target = {{path = "target", name = "tiny-target"}}
        suite = {{path = "checks"}}
        """) + extra + ("" if "wine =" in extra else "wine = {enabled = false}\n"), encoding="utf-8")
    return path


def validate(project: Path, *args: str, env: Dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    environ.update(env or {})
    environ["REDIS_URL"] = "redis://127.0.0.1:1/0"  # no service needed by this suite
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate", "--", *args],
        cwd=project, env=environ, capture_output=True, text=True, encoding="utf-8",
        stdin=subprocess.DEVNULL, timeout=600, check=False,
    )


def run_folder(project: Path) -> Path:
    run_id = (project / "reports" / "latest").read_text(encoding="utf-8").strip()
    return project / "reports" / "runs" / run_id


def documents(project: Path) -> Dict[str, dict]:
    envs = run_folder(project) / "envs"
    return {p.stem: read_document(p) for p in sorted(envs.glob("*.json"))}


pytestmark = pytest.mark.xdist_group("nox")


def test_a_passing_project_is_go_and_writes_every_report(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON])
    done = validate(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERDICT: GO" in done.stdout
    run = run_folder(project)
    for name in ("plan.json", "matrix.json", "verdict.json", "report.md", "report.html", "junit.xml"):
        assert (run / name).is_file(), name
    (doc,) = documents(project).values()
    assert doc["state"] == "complete" and doc["cell"]["fingerprint"]["runner"] == "nox"
    assert doc["target"]["name"] == "tiny-target" and doc["target"]["source_hash"].startswith("sha256:")
    assert (run / "logs" / f"{doc['cell']['id']}.log").is_file()


def test_a_failing_critical_check_is_no_go(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON])
    done = validate(project, env={"FAULT": "fail"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VERDICT: NO-GO" in done.stdout and "fault.maybe" in done.stdout


def test_a_check_that_aborts_leaves_a_crashed_cell(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON])
    done = validate(project, env={"FAULT": "abort"})
    assert done.returncode == 3, done.stdout + done.stderr
    (doc,) = documents(project).values()
    assert doc["state"] == "crashed"
    assert "without writing its document" in doc["reason"] and "SIGABRT" in doc["reason"]
    assert "VERDICT: INCOMPLETE" in done.stdout


@pytest.mark.parametrize("given_by", ["option", "policy"])
def test_a_hanging_cell_is_killed_with_its_whole_process_group(tmp_path: Path, given_by: str) -> None:
    # The policy's cell_timeout is the default; --cell-timeout overrides it.
    project = make_project(tmp_path / "p", [PYTHON], extra="cell_timeout = 20\n" if given_by == "policy" else "")
    pid_file = tmp_path / "pids"
    option = ["--cell-timeout", "20"] if given_by == "option" else []
    done = validate(project, *option, env={"FAULT": "hang", "PID_FILE": str(pid_file)})
    assert done.returncode == 3, done.stdout + done.stderr
    (doc,) = documents(project).values()
    assert doc["state"] == "timed_out" and "20" in doc["reason"]
    for pid in map(int, pid_file.read_text(encoding="utf-8").split()):
        assert not _alive(pid)  # neither the check's process nor its child survived


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # A killed process whose parent is gone waits as a zombie until init reaps it: dead.
    return not (stat.is_file() and stat.read_text(encoding="utf-8").split(")")[-1].split()[0] == "Z")


def test_flaky_reruns_in_the_policy_retry_a_failing_check_in_the_cell(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON], extra="flaky = {reruns = 1}\n")
    done = validate(project, env={"FAULT": "flaky", "FLAKY_MARKER": str(tmp_path / "attempted")})
    assert done.returncode == 0, done.stdout + done.stderr
    (doc,) = documents(project).values()
    record = next(c for c in doc["checks"] if c["id"] == "fault.maybe")
    assert record["outcome"] == "flaky" and record["attempts"] == 2
    assert "the first attempt fails" in record["first_failure"]
    assert "VERDICT: GO" in done.stdout


@pytest.mark.parametrize(("option", "message"), [
    (["--python", "three"], "'three' is not a Python version: give X.Y"),
    (["--cell-timeout", "-5"], "'-5' is not a number of seconds above 0"),
    (["-j", "0"], "'0' is not a number of cells"),
])
def test_a_bad_validate_option_exits_2_with_a_message(tmp_path: Path, option: List[str], message: str) -> None:
    project = make_project(tmp_path / "p", [PYTHON])
    done = validate(project, *option)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (project / "reports").exists()


def test_a_python_that_is_not_installed_is_a_not_run_cell(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON, "3.99"])
    done = validate(project)
    assert done.returncode == 3, done.stdout + done.stderr
    docs = documents(project)
    missing = next(d for cell, d in docs.items() if cell.endswith("3.99"))
    assert missing["state"] == "not_run"
    assert missing["reason"] == "Python 3.99 is not installed on this machine"
    assert sum(d["state"] == "complete" for d in docs.values()) == 1


def test_an_environment_that_cannot_be_built_is_a_crashed_cell(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON], dependency="no-such-distribution-readiness-test==9.9")
    done = validate(project)
    assert done.returncode == 3, done.stdout + done.stderr
    (doc,) = documents(project).values()
    assert doc["state"] == "crashed"
    assert "environment could not be built" in doc["reason"]


def start_hanging_validate(project: Path, pid_file: Path) -> "subprocess.Popen[bytes]":
    """`nox -s validate` in the background, in its own session, its check hanging (pids in pid_file)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    environ.update(FAULT="hang", PID_FILE=str(pid_file), REDIS_URL="redis://127.0.0.1:1/0")
    return subprocess.Popen(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate"],
        cwd=project, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )


@pytest.mark.parametrize("how", ["sigterm-to-top", "ctrl-c-to-group"])
def test_an_interrupted_run_stops_everything_and_keeps_what_it_gathered(tmp_path: Path, how: str) -> None:
    import signal
    import time

    project = make_project(tmp_path / "p", [PYTHON])
    pid_file = tmp_path / "pids"
    top = start_hanging_validate(project, pid_file)
    deadline = time.monotonic() + 300
    while not pid_file.is_file() and time.monotonic() < deadline and top.poll() is None:
        time.sleep(0.2)
    assert pid_file.is_file(), "the hanging check never started"
    time.sleep(0.5)
    if how == "sigterm-to-top":
        top.send_signal(signal.SIGTERM)  # how CI cancels: the top process only
    else:
        os.killpg(top.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    output, _ = top.communicate(timeout=60)
    text = output.decode("utf-8", "replace")
    assert top.returncode == 130, text
    assert "VERDICT: INCOMPLETE" in text and "exit code 130, interrupted)" in text  # the code it exits with
    assert "cells run / planned: 0 / 1" in text  # an interrupted cell is not a cell that ran
    (doc,) = documents(project).values()
    assert doc["state"] == "interrupted"
    for pid in map(int, pid_file.read_text(encoding="utf-8").split()):
        assert not _alive(pid), text


def test_a_warm_run_reuses_the_cell_and_judges_an_edited_target(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON])
    first = validate(project)
    assert first.returncode == 0, first.stdout + first.stderr
    (before,) = documents(project).values()
    (project / "target" / "tiny_target.py").write_text("VALUE = 2\n", encoding="utf-8")
    second = validate(project)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "target.value" in second.stdout
    (after,) = documents(project).values()
    assert after["target"]["source_hash"] != before["target"]["source_hash"]
    (log,) = (run_folder(project) / "logs").glob("*.log")
    assert "readiness: the environment already has this install" in log.read_text(encoding="utf-8")
    took = json.loads((run_folder(project) / "durations.json").read_text(encoding="utf-8"))
    assert list(took) == [after["cell"]["id"]] and took[after["cell"]["id"]] > 0, "the next run's order"


def test_rerun_runs_only_the_cells_that_failed_into_the_same_run(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON, "3.99"])
    first = validate(project)
    assert first.returncode == 3
    run = run_folder(project)
    passing = next(p for p in (run / "envs").glob("*.json") if not p.stem.endswith("3.99"))
    kept = passing.read_bytes()
    again = validate(project, "--rerun")
    assert again.returncode == 3, again.stdout + again.stderr
    assert run_folder(project) == run  # the same run id
    assert passing.read_bytes() == kept  # the complete cell was not run again
    assert documents(project)[f"{passing.stem[:-len(PYTHON)]}3.99"]["state"] == "not_run"


def _path_without_wine(tmp_path: Path) -> str:
    """PATH as it is, but with every wine program left out, as on a machine without Wine."""
    folders = []
    for index, folder in enumerate(os.environ["PATH"].split(os.pathsep)):
        if not Path(folder).is_dir():
            continue
        if not any((Path(folder) / tool).exists() for tool in ("wine", "wineboot", "wineserver")):
            folders.append(folder)
            continue
        copy = tmp_path / f"bin{index}"
        copy.mkdir()
        for program in Path(folder).iterdir():
            if not program.name.startswith("wine"):
                (copy / program.name).symlink_to(program)
        folders.append(str(copy))
    return os.pathsep.join(folders)


def test_without_wine_the_windows_lane_is_not_run_with_the_command_that_enables_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON], extra='wine = {enabled = true, pythons = ["3.11"]}\n')
    done = validate(project, env={"PATH": _path_without_wine(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr  # the lane is not required where it cannot run
    lane = documents(project)["windows-x86_64-wine-cpython3.11"]
    assert lane["state"] == "not_run"
    assert "apt-get install -y --no-install-recommends wine wine64 && readiness wine setup" in lane["reason"]
    assert "windows-x86_64-wine-cpython3.11 not run" in done.stdout


def test_asking_for_a_cell_the_plan_left_out_exits_2_saying_why(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", [PYTHON])  # wine = {enabled = false}
    done = validate(project, "--cells", "windows-x86_64-wine-cpython3.12")
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("--cells windows-x86_64-wine-cpython3.12: not in this run's plan: windows-x86_64-wine-cpython*: "
            "the Windows lane is off in the policy (wine = {enabled = false})") in done.stderr
    assert not (project / ".nox").exists() or not list((project / ".nox").glob("checks-*"))


def test_services_start_only_when_the_policy_asks_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from readiness.judge import policy
    from readiness.run import validate as running

    monkeypatch.delenv("REDIS_URL", raising=False)
    with running._services(policy.parse_policy({}, "pyproject.toml")) as url:
        assert url is None  # none asked for: no redis-server started
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    with running._services(policy.parse_policy({"services": ["redis"]}, "pyproject.toml")) as url:
        assert url == "redis://127.0.0.1:6390/0"  # asked for, and given: used as it is


@pytest.mark.xdist_group("wine")
def test_an_interrupt_stops_the_native_and_the_wine_lane_running_side_by_side(tmp_path: Path) -> None:
    import signal
    import time

    from conftest import require_tool

    require_tool("wine")
    project = make_project(tmp_path / "p", [PYTHON], extra='wine = {pythons = ["3.11"]}\n')
    pid_file = tmp_path / "pids"
    top = start_hanging_validate(project, pid_file)
    deadline = time.monotonic() + 300
    wine_log = None
    while time.monotonic() < deadline and top.poll() is None:  # both lanes under way
        logs = list(project.glob("reports/runs/*/logs/windows-x86_64-wine-cpython3.11.log"))
        if pid_file.is_file() and logs and b"test_" in logs[0].read_bytes():
            wine_log = logs[0]
            break
        time.sleep(0.5)
    assert wine_log is not None, "the two lanes were not running side by side"
    started = time.monotonic()
    top.send_signal(signal.SIGTERM)  # how CI cancels: the top process only
    output, _ = top.communicate(timeout=120)
    text = output.decode("utf-8", "replace")
    assert top.returncode == 130, text
    assert time.monotonic() - started < 60, text
    docs = documents(project)
    assert docs[f"linux-x86_64-cpython{PYTHON}"]["state"] == "interrupted"
    assert docs["windows-x86_64-wine-cpython3.11"]["state"] in ("interrupted", "not_run"), text
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout
    assert str(project) not in left and "python.exe -m pytest checks" not in left
