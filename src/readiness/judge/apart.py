"""Why a check diverges: what sets the cells where it fails apart from those where it passes (OS,
Python version, implementation, installed package versions), and a short name for those cells
("only in cpython3.12 (linux, windows-wine)")."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

from readiness.judge.matrix import Matrix
from readiness.model.errors import UsageError
from readiness.model.ids import CellId, version_key

MAX_FACTORS = 12  # what one explanation names; the rest are counted


@dataclass(frozen=True)
class Factor:
    """One thing that sets the failing cells apart: its values there and in the passing cells."""

    name: str
    failing: Tuple[str, ...]
    passing: Tuple[str, ...]

    def text(self) -> str:
        return f"{self.name} {', '.join(self.failing)} (passing: {', '.join(self.passing)})"


@functools.lru_cache(maxsize=4096)  # a run has a few dozen cells, asked about for every divergent check
def _parts(cell: str) -> Optional[CellId]:
    try:
        return CellId.parse(cell)
    except UsageError:
        return None


def _python(cell: CellId) -> str:
    return cell.python + ("t" if cell.free_threaded else "")


_DIMENSIONS: Tuple[Tuple[str, Callable[[CellId], str], Callable[[str], Any]], ...] = (
    ("OS", lambda c: c.os_group, str),
    ("Python", _python, version_key),
    ("implementation", lambda c: c.implementation, str),
)


def factors(matrix: Matrix, failing: Sequence[str], passing: Sequence[str]) -> List[Factor]:
    """What differs between every failing and every passing cell: no value is shared."""
    found = []
    fail_parts = [p for p in map(_parts, failing) if p]
    pass_parts = [p for p in map(_parts, passing) if p]
    for name, value, order in _DIMENSIONS:
        factor = _factor(name, [value(p) for p in fail_parts], [value(p) for p in pass_parts], order)
        if factor:
            found.append(factor)
    return found + _packages(matrix, failing, passing)


def _factor(name: str, failing: List[str], passing: List[str], order: Callable[[str], Any]) -> Optional[Factor]:
    if not failing or not passing or set(failing) & set(passing):
        return None
    return Factor(name, tuple(sorted(set(failing), key=order)), tuple(sorted(set(passing), key=order)))


def _packages(matrix: Matrix, failing: Sequence[str], passing: Sequence[str]) -> List[Factor]:
    """Installed packages whose versions in the failing cells are none of those in the passing cells.

    Only packages every compared cell has: one that only some cells have (the tools a Windows
    embedded Python ships with, say) is not a version difference."""
    docs = matrix.documents
    fail = [docs[c].installed for c in failing if c in docs]
    good = [docs[c].installed for c in passing if c in docs]
    names = sorted(set.intersection(*(set(installed) for installed in fail + good))) if fail and good else []
    found = []
    for name in names:
        factor = _factor(name, [i[name] for i in fail], [i[name] for i in good], str)
        if factor:
            found.append(factor)
    return found


def explain(matrix: Matrix, failing: Sequence[str], passing: Sequence[str]) -> str:
    """One sentence: the passing cells, and what sets the failing cells apart from them."""
    found = factors(matrix, failing, passing)
    shown = [f.text() for f in found[:MAX_FACTORS]]
    if len(found) > MAX_FACTORS:
        shown.append(f"and {len(found) - MAX_FACTORS} more package(s)")
    head = f"passes in {', '.join(passing)}"
    if not found:
        return head + "; nothing recorded sets the failing cells apart (OS, Python and installed versions overlap)"
    return head + "; the failing cells differ in: " + "; ".join(shown)


def where(failing: Sequence[str], passing: Sequence[str]) -> str:
    """The failing cells by name: `only in cpython3.12 (linux, windows-wine)` when one Python (or OS)
    sets them apart, else the cells themselves."""
    fail_parts = [p for p in map(_parts, failing) if p]
    pass_parts = [p for p in map(_parts, passing) if p]
    prefix = "only in" if passing else "in"
    if len(fail_parts) == len(failing) and len(pass_parts) == len(passing) and passing:
        pythons = _groups(fail_parts, lambda c: c.python_group)
        systems = _groups(fail_parts, lambda c: c.os_group)
        if not set(pythons) & {c.python_group for c in pass_parts}:
            return f"{prefix} {', '.join(pythons)} ({', '.join(systems)})"
        if not set(systems) & {c.os_group for c in pass_parts}:
            return f"{prefix} {', '.join(systems)} ({', '.join(pythons)})"
    return f"{prefix} {', '.join(failing)}"


def group_key(group: str) -> Tuple[str, Tuple[int, int], str]:
    """OS groups (`linux`, `windows-wine`) by name; Python groups in version order (cpython3.9
    before cpython3.10)."""
    implementation = group.rstrip("0123456789.t")
    rest = group[len(implementation):]
    return (implementation, version_key(rest), group) if rest else (group, (0, 0), group)


def _groups(cells: Sequence[CellId], value: Callable[[CellId], str]) -> List[str]:
    return sorted({value(c) for c in cells}, key=group_key)
