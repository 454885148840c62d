"""Compare cells side by side: the checks whose outcome differs between cells, grouped per OS
and per Python, with the installed versions that differ between them; what `readiness compare`
prints.

    differences(matrix) -> list of Difference   (checks whose outcome differs between cells)
    fold(matrix, by) -> Folded                  (cells grouped by "os" or "python", worst wins)
    installed_differences(matrix, cells) -> {package: {cell: version or None}}
    format_comparison(matrix, by=None) -> str   (what `readiness compare` prints)

A run against a baseline is judge/rundiff.py; measured changes and their test, judge/statistics.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from readiness.judge.matrix import Matrix
from readiness.model.document import Outcome, worst
from readiness.model.ids import CellId


def group_of(cell: str, by: str) -> str:
    """The OS group (`linux`, `windows-wine`) or Python group (`cpython3.12`) of a cell id."""
    if by not in ("os", "python"):
        raise ValueError(f"cannot group cells by {by!r}: use 'os' or 'python'")
    parts = CellId.parse(cell)
    return parts.os_group if by == "os" else parts.python_group


@dataclass(frozen=True)
class Difference:
    """A check whose outcome is not the same in every cell where it applies."""

    check: str
    outcomes: Dict[str, Outcome]
    by_os: Dict[str, Outcome]
    by_python: Dict[str, Outcome]
    installed: Dict[str, Dict[str, Optional[str]]]


def differences(matrix: Matrix) -> List[Difference]:
    """Every check with more than one outcome across cells (not-applicable cells left out)."""
    found = []
    for row in matrix.rows.values():
        outcomes: Dict[str, Outcome] = {
            c: r.outcome for c, r in row.results.items() if r.outcome != Outcome.NOT_APPLICABLE
        }
        if len(set(outcomes.values())) > 1:
            found.append(Difference(row.id, outcomes, _worst_by(outcomes, "os"), _worst_by(outcomes, "python"),
                                    installed_differences(matrix, sorted(outcomes))))
    return found


def _worst_by(outcomes: Dict[str, Outcome], by: str) -> Dict[str, Outcome]:
    groups: Dict[str, List[Outcome]] = {}
    for cell, outcome in outcomes.items():
        groups.setdefault(group_of(cell, by), []).append(outcome)
    return {group: _worst(items) for group, items in sorted(groups.items())}


def _worst(outcomes: Sequence[Outcome]) -> Outcome:
    result = worst(outcomes)
    assert result is not None  # callers never pass an empty group
    return result


def installed_differences(matrix: Matrix, cells: Sequence[str], limit: int = 20) -> Dict[str, Dict[str, Optional[str]]]:
    """Packages whose installed version differs between `cells` (absent is None)."""
    docs = [matrix.documents[c] for c in cells if c in matrix.documents]
    names = sorted({name for doc in docs for name in doc.installed})
    diffs: Dict[str, Dict[str, Optional[str]]] = {}
    for name in names:
        versions = {doc.cell_id: doc.installed.get(name) for doc in docs}
        if len(set(versions.values())) > 1:
            diffs[name] = versions
        if len(diffs) >= limit:
            break
    return diffs


@dataclass(frozen=True)
class Folded:
    """Cells folded into groups: each check's worst outcome per group."""

    by: str
    groups: List[str]
    rows: Dict[str, Dict[str, Outcome]]


def fold(matrix: Matrix, by: str) -> Folded:
    """Group the matrix's cells by OS or Python; the worst outcome in a group wins."""
    groups = sorted({group_of(cell, by) for cell in matrix.cells})
    rows = {row.id: _worst_by({c: r.outcome for c, r in row.results.items()}, by)
            for row in matrix.rows.values()}
    return Folded(by, groups, rows)


def format_comparison(matrix: Matrix, by: Optional[str] = None) -> str:
    """Text for `readiness compare`: differing checks side by side, or cells folded by group."""
    if by is not None:
        return _format_folded(fold(matrix, by))
    diffs = differences(matrix)
    lines = [f"cells: {', '.join(matrix.cells)}", ""]
    if not diffs:
        return "\n".join(lines + ["every check has the same outcome in every cell where it applies", ""])
    lines.append(f"{len(diffs)} check(s) differ between cells:")
    for diff in diffs:
        lines += _format_difference(diff)
    return "\n".join(lines) + "\n"


def _format_difference(diff: Difference) -> List[str]:
    lines = ["", f"{diff.check}"]
    lines += [f"  {cell}: {outcome.value}" for cell, outcome in sorted(diff.outcomes.items())]
    lines.append("  by OS:     " + ", ".join(f"{g} {o.value}" for g, o in diff.by_os.items()))
    lines.append("  by Python: " + ", ".join(f"{g} {o.value}" for g, o in diff.by_python.items()))
    if diff.installed:
        lines.append("  installed versions that differ between these cells:")
        for name, versions in diff.installed.items():
            shown = ", ".join(f"{c} {v or '(absent)'}" for c, v in sorted(versions.items()))
            lines.append(f"    {name}: {shown}")
    return lines


def _format_folded(folded: Folded) -> str:
    width = max([len("check")] + [len(check) for check in folded.rows])
    header = "check".ljust(width) + "  " + "  ".join(g.ljust(14) for g in folded.groups)
    lines = [f"outcomes by {folded.by} (worst outcome in each group)", "", header.rstrip()]
    for check, groups in folded.rows.items():
        cells = "  ".join((groups[g].value if g in groups else "-").ljust(14) for g in folded.groups)
        lines.append((check.ljust(width) + "  " + cells).rstrip())
    return "\n".join(lines) + "\n"
