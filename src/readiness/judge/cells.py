"""The cells a verdict needs (the policy's, the plan's or the cells present), and what the inputs
and each cell's state say about them: missing, crashed, not run, or with no checks at all."""

from __future__ import annotations

import fnmatch
from typing import List, Sequence, Set, Tuple

from readiness.judge.context import Context
from readiness.judge.findings import Effect, Finding, first_line
from readiness.judge.matrix import Matrix
from readiness.judge.policy import Policy
from readiness.model.document import CellState
from readiness.model.ids import cell_sort_key


def required_cells(matrix: Matrix, policy: Policy) -> Tuple[List[str], str, List[Finding]]:
    """The cells the verdict needs, how they were chosen, and findings about the choice."""
    planned = matrix.plan.cell_ids if matrix.plan else []
    universe = sorted(set(planned) | set(matrix.documents), key=cell_sort_key)
    if policy.required_cells is not None:
        return _match_required(policy.required_cells, universe)
    if matrix.plan is not None:
        return sorted(planned, key=cell_sort_key), "the run's planned cells (plan.json)", []
    note = Finding(Effect.INFO, "default-cells",
                   "no plan.json among the inputs: the required cells are simply the cells present",
                   cells=tuple(universe))
    return universe, "the cells present, as there is no plan.json", [note]


def _match_required(patterns: Sequence[str], universe: Sequence[str]) -> Tuple[List[str], str, List[Finding]]:
    required: Set[str] = set()
    findings = []
    for pattern in patterns:
        matches = [cell for cell in universe if fnmatch.fnmatchcase(cell, pattern)]
        if not matches and not any(ch in pattern for ch in "*?["):
            matches = [pattern]
        if not matches:
            findings.append(Finding(Effect.INCOMPLETE, "missing-cell",
                                    f"no cell matches the required cell pattern {pattern!r}"))
        required.update(matches)
    return sorted(required, key=cell_sort_key), "the policy's required_cells", findings


def input_findings(matrix: Matrix) -> List[Finding]:
    findings = [Finding(Effect.INCOMPLETE, problem.kind, problem.message) for problem in matrix.problems]
    if matrix.mixed:
        findings.append(Finding(Effect.INFO, "mixed-run",
                                f"mixed run: documents from runs {', '.join(matrix.run_ids)}",
                                cells=tuple(matrix.cells)))
    if matrix.duplicates:
        findings.append(Finding(Effect.INFO, "duplicate",
                                f"{len(matrix.duplicates)} byte-identical duplicate input(s) dropped"))
    return findings


def cell_findings(ctx: Context) -> List[Finding]:
    findings = []
    for cell in ctx.required:
        doc = ctx.matrix.documents.get(cell)
        if doc is None:
            findings.append(Finding(Effect.INCOMPLETE, "missing-cell",
                                    f"required cell {cell} has no env document", cells=(cell,)))
    for cell, doc in ctx.matrix.documents.items():
        if doc.state != CellState.COMPLETE:
            effect = Effect.INCOMPLETE if cell in ctx.required else Effect.WARNING
            reason = f": {first_line(doc.reason)}" if doc.reason else ""
            findings.append(Finding(effect, "cell-state", f"cell {cell} {doc.state.value.replace('_', ' ')}{reason}",
                                    cells=(cell,)))
        elif not doc.checks and cell in ctx.required:
            # A run that collected nothing is no evidence, and no evidence is never a pass.
            findings.append(Finding(Effect.INCOMPLETE, "no-checks",
                                    f"cell {cell} collected no checks: nothing was judged there",
                                    cells=(cell,)))
    if not ctx.required:
        findings.append(Finding(Effect.INCOMPLETE, "missing-cell", "there is no cell to judge"))
    return findings
