"""The cell pool's admission: one cell per core at once, more (up to two per core) only while the
cells leave about a core unused."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Optional

import pytest

from readiness.platform import cpu
from readiness.run import pool


class Meter:
    """The cells' busy cores as a test sets them."""

    def __init__(self, busy: Optional[float]) -> None:
        self.busy = busy
        self.cores = 2

    def busy_cores(self) -> Optional[float]:
        return self.busy


class Lane:
    """Cells that hold their slot until released, counting how many run at once."""

    heavy = False

    def __init__(self) -> None:
        self.release = threading.Event()
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def run_cell(self, cell: object, context: object) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.release.wait(10)
        with self.lock:
            self.running -= 1


def _run(admission: pool.Admission, cells: int, jobs: int, hold_s: float = 1.0) -> int:
    lane = Lane()
    context = SimpleNamespace(board=SimpleNamespace(refresh=lambda: None))
    tasks = [(lane, SimpleNamespace(id=f"cell-{i}")) for i in range(cells)]
    runner = pool.CellPool(tasks, context, jobs, admission)  # type: ignore[arg-type]
    threading.Timer(hold_s, lane.release.set).start()
    assert runner.run() is False
    assert sorted(runner.took) == [f"cell-{i}" for i in range(cells)], "every cell that ran to its end is timed"
    return lane.most


@pytest.fixture(autouse=True)
def _no_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "SETTLE_S", 0.0)
    monkeypatch.setattr(pool, "ADMIT_POLL_S", 0.01)


def test_busy_cells_keep_to_one_per_core() -> None:
    assert _run(pool.Admission(2, Meter(busy=1.9)), cells=4, jobs=4) == 2  # type: ignore[arg-type]


def test_waiting_cells_let_more_start_up_to_jobs() -> None:
    assert _run(pool.Admission(2, Meter(busy=0.5)), cells=6, jobs=4) == 4  # type: ignore[arg-type]


def test_without_a_meter_jobs_is_what_runs_at_once() -> None:
    assert _run(pool.Admission(3), cells=5, jobs=3) == 3
    assert _run(pool.Admission(1), cells=3, jobs=1) == 1


def test_a_cell_just_started_is_given_time_to_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "SETTLE_S", 60.0)
    admission = pool.Admission(1, Meter(busy=0.0))  # type: ignore[arg-type]
    assert admission.may_start(0)
    admission.started()
    assert not admission.may_start(1)  # unused now, but the new cell has not begun its work yet


def test_an_unreadable_meter_admits_nobody_past_one_per_core() -> None:
    admission = pool.Admission(2, Meter(busy=None))  # type: ignore[arg-type]
    assert admission.may_start(1) and not admission.may_start(2)


def test_the_meter_counts_the_sessions_this_process_started(monkeypatch: pytest.MonkeyPatch) -> None:
    me = os.getpid()
    tables = [  # pid -> (parent, session, CPU s): 10 leads a cell's session, 11 is in it, 20 is a stranger's
        {10: (me, 10, 1.0), 11: (10, 10, 2.0), 20: (1, 20, 5.0)},
        {10: (me, 10, 1.5), 11: (10, 10, 2.5), 12: (10, 10, 0.25), 20: (1, 20, 9.0)},
    ]
    monkeypatch.setattr(cpu, "_processes", lambda: tables.pop(0))
    monkeypatch.setattr(cpu, "_waited", lambda pid: 0.0)
    clock = iter([100.0, 101.0])
    monkeypatch.setattr(cpu.time, "monotonic", lambda: next(clock))
    meter = cpu.OwnUse(window_s=0.5)
    assert meter.busy_cores() is None  # one look is no window yet
    assert meter.busy_cores() == pytest.approx(1.25)  # 0.5 + 0.5 + a new process's 0.25, in 1 s


def test_this_machine_can_be_measured() -> None:
    assert cpu.available()
    meter = cpu.OwnUse(window_s=0.0)
    meter.busy_cores()
    time.sleep(0.05)
    busy = meter.busy_cores()
    assert busy is not None and busy >= 0.0


def test_cells_kept_from_running_by_busy_cores_count_as_busy() -> None:
    """More CPU-bound cells than cores: what they wait for counts too, so the pool starts no other
    (a machine busy with others' work looks the same to the cells)."""
    cores = os.cpu_count() or 1
    spin = [sys.executable, "-c", "while True: pass"]
    spinners = [subprocess.Popen(spin, start_new_session=True) for _ in range(cores + 1)]
    try:
        meter = cpu.OwnUse(window_s=0.0)
        time.sleep(0.3)
        meter.busy_cores()
        time.sleep(1.0)
        wanted = meter.busy_cores()
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert wanted is not None and wanted > cores + 0.5, f"{cores + 1} spinning on {cores} cores: {wanted}"


def test_the_longest_cells_start_first() -> None:
    heavy, native = SimpleNamespace(heavy=True), SimpleNamespace(heavy=False)
    names = ["short", "new", "long", "wine-new", "wine-long", "wine-short", "middle"]
    tasks = [(heavy if name.startswith("wine") else native, SimpleNamespace(id=name)) for name in names]
    took = {"short": 1.0, "long": 9.0, "middle": 4.0, "wine-long": 50.0, "wine-short": 40.0, "gone": 99.0}
    started = [cell.id for _, cell in pool.ordered(tasks, took)]  # type: ignore[arg-type]
    assert started == ["wine-new", "wine-long", "wine-short", "new", "long", "middle", "short"]
    assert [cell.id for _, cell in pool.ordered(tasks, {})] == [  # type: ignore[arg-type]
        "wine-new", "wine-long", "wine-short", "short", "new", "long", "middle"], "no times: plan order"


def test_one_at_a_time_the_cells_start_in_that_order() -> None:
    order = []

    class Recording:
        heavy = False

        def run_cell(self, cell: SimpleNamespace, context: object) -> None:
            order.append(cell.id)

    lane = Recording()
    tasks = pool.ordered([(lane, SimpleNamespace(id=n)) for n in ("a", "b", "c")], {"a": 1.0, "b": 3.0, "c": 2.0})  # type: ignore[arg-type]
    context = SimpleNamespace(board=SimpleNamespace(refresh=lambda: None))
    assert pool.CellPool(tasks, context, 1).run() is False  # type: ignore[arg-type]
    assert order == ["b", "c", "a"]
