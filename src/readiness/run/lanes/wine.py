"""The Windows-under-Wine lane: `windows-x86_64-wine-cpython3.X` cells (README, "The Windows lane under Wine").

Nothing on Linux builds a Windows venv, so a Wine cell is not a nox session: the install request
is carried out from Linux into a target folder of Windows wheels, and the Windows interpreter
runs the same suite with that folder on PYTHONPATH, every launch through pipes (`winecell`).
Planning loads Wine's code only when the lane is on; running a cell, only when one runs.
"""

from __future__ import annotations

from readiness.model.document import CellState
from readiness.model.ids import CellId
from readiness.model.plan import PlannedCell
from readiness.run.fallback import Missing
from readiness.run.folder import RunFolder
from readiness.run.install import supports
from readiness.run.lanes.base import LanePlan, PlanRequest, RunContext

DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")


def cell_id(python: str) -> str:
    return str(CellId("windows", "x86_64", "cpython", python, wine=True))


class WineLane:
    """Cells run by real Windows CPythons under Wine, several at once (one Wine prefix, one wineserver)."""

    name = "wine"
    heavy = True

    def plan(self, request: PlanRequest) -> LanePlan:
        """Planned wherever wine is installed (required, then); without wine, recorded not_run with the
        command that enables the lane (not required); off only when the policy says `enabled = false`."""
        settings = request.rules.wine
        if settings.enabled is False:
            return LanePlan(excluded=["windows-x86_64-wine-cpython*: the Windows lane is off in the policy "
                                      "(wine = {enabled = false}); remove that to check Windows CPythons under Wine"])
        plan = LanePlan()
        pythons = [p for p in (settings.pythons or DEFAULT_PYTHONS) if request.only is None or p in request.only]
        for python in pythons:
            if not supports(request.requires_python, python):
                plan.excluded.append(f"{cell_id(python)}: the target requires Python {request.requires_python}")
        pythons = [p for p in pythons if supports(request.requires_python, p)]
        from readiness.platform.wine import wine_available  # the lane is on: from here its code is needed

        unavailable = wine_available()
        cells = [PlannedCell(cell_id(p), p, None, lane="wine", skip_reason=unavailable) for p in pythons]
        if unavailable:
            plan.unplanned = cells
        else:
            plan.cells = cells
        return plan

    def why_missing(self, cell: PlannedCell, folder: RunFolder) -> Missing:
        if cell.skip_reason:
            return Missing(CellState.NOT_RUN, cell.skip_reason)
        return Missing(CellState.NOT_RUN, "the cell never started (the run stopped before it)")

    def run_cell(self, cell: PlannedCell, context: RunContext) -> None:
        from readiness.run.lanes import winecell  # the Wine lane's code: loaded only when a Wine cell runs

        winecell.run_cell(cell, context)
