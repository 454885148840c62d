"""The cell pool's admission: one cell per core at once, more (up to -j) only while CPUs sit idle."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import List, Optional

import pytest

from readiness.platform import cpu
from readiness.run import pool


class Meter:
    """Idle cores as a test sets them."""

    def __init__(self, idle: Optional[float]) -> None:
        self.idle = idle
        self.cores = 2

    def idle_cores(self) -> Optional[float]:
        return self.idle


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
    runner = pool.CellPool([(lane, f"cell-{i}") for i in range(cells)], context, jobs, admission)  # type: ignore[misc]
    threading.Timer(hold_s, lane.release.set).start()
    assert runner.run() is False
    return lane.most


@pytest.fixture(autouse=True)
def _no_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "SETTLE_S", 0.0)
    monkeypatch.setattr(pool, "ADMIT_POLL_S", 0.01)


def test_busy_cpus_keep_the_cells_to_one_per_core() -> None:
    assert _run(pool.Admission(2, Meter(idle=0.1)), cells=4, jobs=4) == 2  # type: ignore[arg-type]


def test_idle_cpus_let_more_cells_start_up_to_jobs() -> None:
    assert _run(pool.Admission(2, Meter(idle=1.5)), cells=6, jobs=4) == 4  # type: ignore[arg-type]


def test_without_a_meter_jobs_is_what_runs_at_once() -> None:
    assert _run(pool.Admission(3), cells=5, jobs=3) == 3
    assert _run(pool.Admission(1), cells=3, jobs=1) == 1


def test_a_cell_just_started_is_given_time_to_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "SETTLE_S", 60.0)
    admission = pool.Admission(1, Meter(idle=2.0))  # type: ignore[arg-type]
    assert admission.may_start(0)
    admission.started()
    assert not admission.may_start(1)  # idle now, but the new cell has not begun its work yet


def test_an_unreadable_meter_admits_nobody_past_one_per_core() -> None:
    admission = pool.Admission(2, Meter(idle=None))  # type: ignore[arg-type]
    assert admission.may_start(1) and not admission.may_start(2)


def test_the_idle_meter_reads_the_machines_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    readings: List[cpu.Counters] = [(100.0, 1000.0), (150.0, 1100.0), (150.0, 1100.0)]
    monkeypatch.setattr(cpu, "counters", lambda: readings.pop(0))
    meter = cpu.IdleMeter(window_s=0.0)
    meter.cores = 2
    assert meter.idle_cores() is None  # one reading is no window yet
    time.sleep(0.01)
    assert meter.idle_cores() == pytest.approx(1.0)  # half of all CPU time idle: one core of two
    assert meter.idle_cores() == pytest.approx(1.0)  # no time counted since: the last figure stands


def test_this_machine_has_counters() -> None:
    taken = cpu.counters()
    assert taken is not None and 0 <= taken[0] <= taken[1]
