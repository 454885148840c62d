"""Validate runs at the same time in one repository, and merges that must give the same bytes."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
from conftest import ROOT, read_document
from test_validate import PYTHON, make_project

pytestmark = pytest.mark.xdist_group("nox")

# One gated check: it waits for the file GATE (if set) and marks MARK (if set) when it starts,
# so a test can hold one run inside its cells while it starts another.
SUITE = '''
import os, time
import pytest

@pytest.mark.check(id="health.gated", category="health", severity="critical")
def test_gated(evidence):
    mark, gate = os.environ.get("MARK"), os.environ.get("GATE")
    if mark:
        open(mark, "w", encoding="utf-8").close()
    deadline = time.monotonic() + 300
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not gate or os.path.exists(gate), "the test never opened the gate"
    evidence["run"] = os.environ["READINESS_RUN_ID"]

@pytest.mark.check(id="target.value", severity="critical")
def test_target_value():
    import tiny_target
    assert tiny_target.VALUE == 1
'''


class Run:
    """`nox -s validate` started in the background, its output read line by line as it comes."""

    def __init__(self, project: Path, *args: str, env: Dict[str, str], finished: List[Run],
                 on_line: Optional[Callable[[Run, str], None]] = None) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
        environ.update(env, REDIS_URL="redis://127.0.0.1:1/0")  # no service needed by this suite
        self.lines: List[str] = []
        self.on_line = on_line
        self.finished = finished
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate", "--", *args],
            cwd=project, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, encoding="utf-8", errors="replace", start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line)
                if self.on_line is not None:
                    self.on_line(self, line)
        self.process.wait()
        self.finished.append(self)  # list.append is atomic: this list is the order the runs ended in

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def run_id(self) -> str:
        found = re.search(r"^readiness: run (\S+): \d+ cell\(s\) planned$", self.output, re.MULTILINE)
        assert found, self.output
        return found.group(1)

    def wait(self, timeout: float = 600) -> int:
        self.reader.join(timeout)
        if self.reader.is_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"validate did not finish within {timeout} s:\n{self.output[-4000:]}")
        return self.process.returncode

    def wait_for(self, pattern: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in list(self.lines):
                if pattern in line:
                    return line
            time.sleep(0.1)
        pytest.fail(f"validate never printed {pattern!r}:\n{self.output[-4000:]}")


def gated_project(path: Path) -> Path:
    project = make_project(path, [PYTHON])
    (project / "checks" / "test_suite.py").write_text(SUITE, encoding="utf-8")
    return project


def run_files(project: Path, run_id: str) -> Dict[str, dict]:
    run = project / "reports" / "runs" / run_id
    return {
        "envs": {p.stem: read_document(p) for p in sorted((run / "envs").glob("*.json"))},
        "matrix": json.loads((run / "matrix.json").read_text(encoding="utf-8")),
        "verdict": json.loads((run / "verdict.json").read_text(encoding="utf-8")),
    }


def wait_for_file(path: Path, run: Run, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline and run.process.poll() is None:
        time.sleep(0.1)
    assert path.exists(), run.output[-4000:]


def test_two_runs_started_at_once_keep_apart_and_latest_names_the_one_that_finished_last(tmp_path: Path) -> None:
    project = gated_project(tmp_path / "p")
    gate = tmp_path / "gate"
    finished: List[Run] = []

    def open_gate_once_one_waits(run: Run, line: str) -> None:
        if " waits for run " in line:
            gate.touch()  # the run holding the environments may finish its cells now

    runs = [Run(project, env={"GATE": str(gate)}, finished=finished, on_line=open_gate_once_one_waits)
            for _ in range(2)]
    codes = [run.wait() for run in runs]
    assert codes == [0, 0], "\n".join(run.output[-3000:] for run in runs)
    ids = [run.run_id for run in runs]
    assert ids[0] != ids[1]
    for run, other in (runs, runs[::-1]):
        files = run_files(project, run.run_id)
        (doc,) = files["envs"].values()  # one native cell each, in its own folder
        assert doc["run_id"] == run.run_id and doc["state"] == "complete"
        assert {c["evidence"].get("run") for c in doc["checks"] if c["id"] == "health.gated"} == {run.run_id}
        assert files["matrix"]["run_ids"] == [run.run_id] and files["matrix"]["problems"] == []
        own = f"reports/runs/{run.run_id}/envs/"
        assert [c["source"] for c in files["matrix"]["cells"]] == [f"{own}{doc['cell']['id']}.json"]
        assert files["verdict"]["run_id"] == run.run_id and files["verdict"]["state"] == "GO"
        assert other.run_id not in json.dumps(files)
    waiting = [line for run in runs for line in run.lines if " waits for run " in line]
    assert len(waiting) == 1, waiting
    waiter = next(run for run in runs if waiting[0] in run.lines)
    holder = runs[1 - runs.index(waiter)]
    assert f"readiness: run {waiter.run_id} waits for run {holder.run_id} (pid {holder.process.pid}," in waiting[0]
    assert f"readiness: run {waiter.run_id}: its turn; the cells start now" in waiter.output
    latest = (project / "reports" / "latest").read_text(encoding="utf-8").strip()
    assert latest == finished[-1].run_id, [run.run_id for run in finished]


def test_a_run_id_in_use_is_refused_and_a_run_waiting_for_the_environments_can_be_interrupted(
    tmp_path: Path,
) -> None:
    project = gated_project(tmp_path / "p")
    gate, started = tmp_path / "gate", tmp_path / "started"
    finished: List[Run] = []
    holder = Run(project, "--run-id", "shared", env={"GATE": str(gate), "MARK": str(started)}, finished=finished)
    wait_for_file(started, holder)  # inside its cell: it holds the run folder and the environments

    refused = Run(project, "--run-id", "shared", env={}, finished=finished)
    assert refused.wait() == 2, refused.output
    assert "readiness: error: run shared is in use: another validate run " \
           f"(pid {holder.process.pid}, since" in refused.output
    assert "cell(s) planned" not in refused.output  # refused before it wrote anything

    waiter = Run(project, env={}, finished=finished)
    waiter.wait_for(f"waits for run shared (pid {holder.process.pid},")
    waiter.process.send_signal(signal.SIGTERM)  # how CI cancels a job
    assert waiter.wait(120) == 130, waiter.output
    (doc,) = run_files(project, waiter.run_id)["envs"].values()
    assert doc["state"] == "not_run" and doc["reason"].startswith("interrupted before start")
    assert holder.process.poll() is None  # the interrupted waiter did not disturb the holder

    gate.touch()
    assert holder.wait() == 0, holder.output
    files = run_files(project, "shared")
    (doc,) = files["envs"].values()
    assert doc["run_id"] == "shared" and doc["state"] == "complete"
    assert files["matrix"]["run_ids"] == ["shared"] and files["verdict"]["state"] == "GO"
    assert (project / "reports" / "latest").read_text(encoding="utf-8").strip() == "shared"


HOLD_AND_SLEEP = """
import sys, time
from pathlib import Path
from readiness.run import runlock
held = runlock.try_hold(Path(sys.argv[1]), "crashed")
assert held is not None
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path) -> None:
    from readiness.run import runlock

    lock = tmp_path / ".nox" / "readiness.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_SLEEP, str(lock)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert runlock.try_hold(lock, "second") is None  # held by another process
        assert runlock.holder(lock)["run_id"] == "crashed" and runlock.holder(lock)["pid"] == holder.pid
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, its note stays behind
        holder.wait(30)
        holder.stdout.close()  # type: ignore[union-attr]
    taken = runlock.try_hold(lock, "second")
    assert taken is not None
    with taken:
        assert runlock.holder(lock)["run_id"] == "second" and runlock.holder(lock)["pid"] == os.getpid()
    assert runlock.holder(lock) == {}  # released: no note names a holder any more


def _merge_scale() -> object:
    spec = importlib.util.spec_from_file_location("merge_scale", ROOT / "benchmarks" / "merge_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MERGE_AND_REPORT = """
import sys
from readiness import cli
codes = [cli.main(["merge", "envs", "-o", "matrix.json"]), cli.main(["report", "envs", "-o", "report"])]
sys.stdout.flush()
sys.stdout = open("terminal.txt", "w", encoding="utf-8")
codes.append(cli.main(["report", "envs"]))
sys.stdout.close()
sys.stderr.write(repr(codes))
"""


def test_merging_the_same_18_by_2000_matrix_twice_gives_byte_identical_files(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _merge_scale().make_documents(inputs, 2000)  # type: ignore[attr-defined]
    folders = [tmp_path / "first", tmp_path / "second" / "elsewhere"]
    processes = []
    for seed, folder in enumerate(folders, start=1):
        shutil.copytree(inputs, folder / "envs")
        environ = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "NO_COLOR", "TERM")}
        environ["PYTHONHASHSEED"] = str(seed)  # another order for every set and dict of strings
        processes.append(subprocess.Popen([sys.executable, "-c", MERGE_AND_REPORT], cwd=folder, env=environ,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, errors = process.communicate(timeout=600)
        assert process.returncode == 0 and errors.endswith("[0, 1, 1]"), errors[-3000:]  # NO-GO: 1 % fail

    def outputs(folder: Path) -> Dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and p.parent.name != "envs"}

    first, second = outputs(folders[0]), outputs(folders[1])
    expected = {"matrix.json", "terminal.txt", "report/report.md", "report/report.html", "report/junit.xml",
                "report/verdict.json", "report/matrix.json"}
    assert expected <= set(first) and sum(name.startswith("report/ctrf/") for name in first) == 18
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], f"{name} differs between the two merges"
    for name, data in first.items():
        assert str(tmp_path).encode() not in data, f"{name} names the folder it was made in"
    # The reports carry the time the newest document finished, not the wall clock.
    assert b"generated 2026-11-30T10:05:00Z by readiness" in first["report/report.md"]
