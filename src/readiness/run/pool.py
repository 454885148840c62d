"""The run's cell pool: every lane's cells through one set of `-j` slots, a worker thread per slot.

The lanes' cells share the slots (README, "Options of `nox -s validate`": `-j`); each cell's
programs run in their own process groups, so a worker thread mostly waits. Ctrl-C or SIGTERM
reaches the main thread, which stops every worker through `process.cancellable`: each cell's
pytest gets SIGINT and a moment to write what it saw, then its group is killed.

Without `-j`, one cell per core starts at once, and more (up to two per core) only while the
cells leave about a core unused (platform/cpu.py measures what the cells' own processes use or
wait for, so a cell that the machine's other users keep from a core leaves no room): a cell
waiting on services, the timing lock or the network leaves room for another, CPU-bound ones do
not, since more of them than there are cores costs CPU time (caches, switches) and ends no sooner.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Deque, Dict, List, Mapping, Optional, Sequence, Tuple

from readiness.model.plan import PlannedCell
from readiness.platform import cpu, process
from readiness.run.lanes.base import Lane, RunContext

Task = Tuple[Lane, PlannedCell]
REFRESH_S = 0.5
ADMIT_POLL_S = 0.25
SETTLE_S = 1.0  # a cell just started is still starting up: the CPUs are judged after that
UNUSED_FOR_ANOTHER = 0.75  # the cores the cells leave unused that let one more start past one per core


class Admission:
    """Whether another cell may start now, given how many run: always below `cores` (or with no
    meter: a fixed -j); past that, only while the cells left about a core unused since the last start."""

    def __init__(self, cores: int, meter: Optional[cpu.OwnUse] = None) -> None:
        self.cores = cores
        self._meter = meter
        self._last_start = float("-inf")

    @classmethod
    def by_use(cls) -> "Admission":
        meter = cpu.OwnUse()
        return cls(meter.cores, meter if cpu.available() else None)

    def may_start(self, running: int) -> bool:
        if self._meter is None or running < self.cores:
            return True
        if time.monotonic() - self._last_start < SETTLE_S:
            return False
        busy = self._meter.busy_cores()
        return busy is not None and busy <= self.cores - UNUSED_FOR_ANOTHER

    def started(self) -> None:
        self._last_start = time.monotonic()


class CellPool:
    """Runs tasks on `jobs` worker threads; a failure or an interrupt stops the others."""

    def __init__(self, tasks: Sequence[Task], context: RunContext, jobs: int,
                 admission: Optional[Admission] = None) -> None:
        self._queue: Deque[Task] = collections.deque(tasks)
        self._admission = admission or Admission(jobs)
        self._active = 0  # cells running now
        self._lock = threading.Lock()
        self._context = context
        self.stop = threading.Event()
        self.failures: List[BaseException] = []
        self.took: Dict[str, float] = {}  # cell id -> seconds from its start to its end, for the next run's order
        count = max(1, min(jobs, len(tasks)))
        self._running = count
        self._all_done = threading.Event()
        self._workers = [threading.Thread(target=self._work, name=f"cell-{i}", daemon=True) for i in range(count)]

    def run(self) -> bool:
        """Run every task; whether the run was interrupted. A worker's failure is raised here, once
        every worker has stopped."""
        for worker in self._workers:
            worker.start()
        interrupted = False
        try:
            self._wait()
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop every cell, then say so
            interrupted = True
            self.stop.set()
            self._wait(patient=True)
        if self.failures:
            raise self.failures[0]
        return interrupted

    def _next(self) -> Optional[Task]:
        """The next cell once it may start; None when none is left or the run stops."""
        while True:
            with self._lock:
                if self.stop.is_set() or not self._queue:
                    return None
                if self._admission.may_start(self._active):
                    self._admission.started()
                    self._active += 1
                    return self._queue.popleft()
            self.stop.wait(ADMIT_POLL_S)

    def _ended(self) -> None:
        with self._lock:
            self._active -= 1

    def _work(self) -> None:
        try:
            self._work_through()
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._all_done.set()

    def _work_through(self) -> None:
        with process.cancellable(self.stop):
            task = self._next()
            while task is not None:
                lane, cell = task
                started = time.monotonic()
                try:
                    lane.run_cell(cell, self._context)
                    if not self.stop.is_set():  # a cell cut short says nothing of how long it takes
                        self.took[cell.id] = round(time.monotonic() - started, 3)
                except KeyboardInterrupt:  # stopped from the main thread
                    return
                except BaseException as exc:  # handed to the main thread: never lost with the thread
                    self.failures.append(exc)
                    self.stop.set()
                    return
                finally:
                    self._ended()
                task = self._next()

    def _wait(self, patient: bool = False) -> None:
        """Until every worker has ended, refreshing the board; `patient`: a second Ctrl-C does not
        cut the wait short (the cells are being stopped). Waits on an event, never on
        Thread.join: a signal arriving during join() can mark a running thread as ended (3.9-3.12)."""
        while True:
            try:
                if self._all_done.wait(REFRESH_S):
                    break
                self._context.board.refresh()
            except KeyboardInterrupt:
                if not patient:
                    raise
        self._context.board.refresh()


def ordered(tasks: Sequence[Task], took: Mapping[str, float]) -> List[Task]:
    """Longest first, so the run ends soonest (the cells left for last are the short ones): the
    heavy lanes' cells (a Wine cell takes longest), then the cells the last run did not time (a
    new cell builds its environment), then by how long each took last time; else in plan order."""
    def longest_first(task: Task) -> Tuple[bool, bool, float]:
        lane, cell = task
        seconds = took.get(cell.id)
        return (not lane.heavy, seconds is not None, -(seconds or 0.0))

    return sorted(tasks, key=longest_first)
