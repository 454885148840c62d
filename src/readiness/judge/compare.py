"""Compare cells side by side: only the checks whose outcome differs between cells, grouped by
their outcomes (one block for many checks that differ alike), per OS and per Python, with the
installed versions that differ between the cells said once; what `readiness compare` prints.

    differences(matrix) -> list of Difference   (checks whose outcome differs between cells)
    patterns(differences) -> list of Pattern    (the checks with the same outcome in every cell)
    fold(matrix, by) -> Folded                  (differing checks, cells grouped by "os" or "python")
    installed_differences(matrix, cells) -> {package: {cell: version or None}}
    format_comparison(matrix, by=None) -> str   (what `readiness compare` prints)

A run against a baseline is judge/rundiff.py; measured changes and their test, judge/statistics.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from readiness.judge import apart
from readiness.judge.matrix import Matrix
from readiness.judge.rundiff import FAILING
from readiness.model.document import Outcome, worst
from readiness.model.ids import CellId, cell_sort_key

MAX_PACKAGES = 50  # installed differences listed; the rest are counted


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


def differences(matrix: Matrix) -> List[Difference]:
    """Every check with more than one outcome across cells (not-applicable cells left out)."""
    found = []
    for row in matrix.rows.values():
        outcomes: Dict[str, Outcome] = {
            c: r.outcome for c, r in row.results.items() if r.outcome != Outcome.NOT_APPLICABLE
        }
        if len(set(outcomes.values())) > 1:
            found.append(Difference(row.id, outcomes, _worst_by(outcomes, "os"), _worst_by(outcomes, "python")))
    return found


def _worst_by(outcomes: Dict[str, Outcome], by: str) -> Dict[str, Outcome]:
    groups: Dict[str, List[Outcome]] = {}
    for cell, outcome in outcomes.items():
        groups.setdefault(group_of(cell, by), []).append(outcome)
    return {group: _worst(groups[group]) for group in sorted(groups, key=apart.group_key)}


def _worst(outcomes: Sequence[Outcome]) -> Outcome:
    result = worst(outcomes)
    assert result is not None  # callers never pass an empty group
    return result


@dataclass(frozen=True)
class Pattern:
    """The checks that have the same outcome in every cell: one block of the comparison."""

    first: Difference
    checks: Tuple[str, ...]

    @property
    def failing(self) -> List[str]:
        return [cell for cell, outcome in self.first.outcomes.items() if outcome in FAILING]

    @property
    def passing(self) -> List[str]:
        return [cell for cell, outcome in self.first.outcomes.items() if outcome == Outcome.PASSED]


def patterns(diffs: Sequence[Difference]) -> List[Pattern]:
    """Differences grouped by their outcome in every cell, the largest group first."""
    groups: Dict[Tuple[Tuple[str, Outcome], ...], List[Difference]] = {}
    for diff in diffs:
        groups.setdefault(tuple(diff.outcomes.items()), []).append(diff)
    found = [Pattern(members[0], tuple(d.check for d in members)) for members in groups.values()]
    return sorted(found, key=lambda p: (-len(p.checks), p.checks[0]))


def installed_differences(matrix: Matrix, cells: Sequence[str]) -> Dict[str, Dict[str, Optional[str]]]:
    """Packages whose installed version differs between `cells` (absent is None)."""
    docs = [matrix.documents[c] for c in sorted(cells, key=cell_sort_key) if c in matrix.documents]
    names = sorted({name for doc in docs for name in doc.installed})
    diffs: Dict[str, Dict[str, Optional[str]]] = {}
    for name in names:
        versions = {doc.cell_id: doc.installed.get(name) for doc in docs}
        if len(set(versions.values())) > 1:
            diffs[name] = versions
    return diffs


@dataclass(frozen=True)
class Folded:
    """Cells folded into groups: each differing check's worst outcome per group."""

    by: str
    groups: List[str]
    rows: Dict[str, Dict[str, Outcome]]
    within: int  # checks that differ only between cells of one group


def fold(matrix: Matrix, by: str) -> Folded:
    """Group the cells by OS or Python (the worst outcome in a group wins); keep the checks that
    differ between groups."""
    groups = sorted({group_of(cell, by) for cell in matrix.cells}, key=apart.group_key)
    rows: Dict[str, Dict[str, Outcome]] = {}
    within = 0
    for diff in differences(matrix):
        folded = diff.by_os if by == "os" else diff.by_python
        if len(set(folded.values())) > 1:
            rows[diff.check] = folded
        else:
            within += 1
    return Folded(by, groups, rows, within)


def format_comparison(matrix: Matrix, by: Optional[str] = None) -> str:
    """Text for `readiness compare`: only the checks that differ, grouped by how they differ, or
    folded into OS or Python groups; installed differences once, above them."""
    lines = [f"cells: {', '.join(matrix.cells)}", ""] + _installed_lines(matrix)
    if by is not None:
        return "\n".join(lines + _folded_lines(fold(matrix, by))) + "\n"
    found = patterns(differences(matrix))
    if not found:
        return "\n".join(lines + ["every check has the same outcome in every cell where it applies", ""])
    count = sum(len(p.checks) for p in found)
    lines.append(f"{count} check(s) differ between cells, in {len(found)} pattern(s) of outcomes:")
    for pattern in found:
        lines += _pattern_lines(matrix, pattern)
    return "\n".join(lines) + "\n"


def _installed_lines(matrix: Matrix) -> List[str]:
    diffs = installed_differences(matrix, matrix.cells)
    if not diffs:
        return []
    lines = ["installed versions that differ between cells:"]
    for name, versions in list(diffs.items())[:MAX_PACKAGES]:
        lines.append(f"  {name}: " + ", ".join(f"{c} {v or '(absent)'}" for c, v in versions.items()))
    if len(diffs) > MAX_PACKAGES:
        lines.append(f"  and {len(diffs) - MAX_PACKAGES} more package(s)")
    return lines + [""]


def _pattern_lines(matrix: Matrix, pattern: Pattern) -> List[str]:
    diff = pattern.first
    lines = ["", f"{len(pattern.checks)} check(s) with these outcomes:"]
    lines += [f"  {cell}: {outcome.value}" for cell, outcome in diff.outcomes.items()]
    lines.append("  by OS:     " + ", ".join(f"{g} {o.value}" for g, o in diff.by_os.items()))
    lines.append("  by Python: " + ", ".join(f"{g} {o.value}" for g, o in diff.by_python.items()))
    if pattern.failing and pattern.passing:
        lines.append(f"  fails {apart.where(pattern.failing, pattern.passing)}")
        lines.append(f"  {apart.explain(matrix, pattern.failing, pattern.passing)}")
    return lines + ["  checks:"] + [f"    {check}" for check in pattern.checks]


def _folded_lines(folded: Folded) -> List[str]:
    width = max([len("check")] + [len(check) for check in folded.rows])
    header = "check".ljust(width) + "  " + "  ".join(g.ljust(14) for g in folded.groups)
    lines = [f"checks whose outcome differs between {folded.by} groups (worst outcome in each group; "
             "- where it does not apply)", "", header.rstrip()]
    for check, groups in folded.rows.items():
        cells = "  ".join((groups[g].value if g in groups else "-").ljust(14) for g in folded.groups)
        lines.append((check.ljust(width) + "  " + cells).rstrip())
    if not folded.rows:
        lines.append(f"(none: every check has the same worst outcome in every {folded.by} group)")
    if folded.within:
        lines.append(f"{folded.within} other check(s) differ only between cells of one {folded.by} group "
                     "(readiness compare without --by shows them)")
    return lines
