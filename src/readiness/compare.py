"""Compare: cells side by side (per OS, per Python), a run against a baseline, measured changes.

Library API:

    differences(matrix) -> list of Difference   (checks whose outcome differs between cells)
    fold(matrix, by) -> Folded                  (cells grouped by "os" or "python", worst wins)
    installed_differences(matrix, cells) -> {package: {cell: version or None}}
    baseline_diff(current, baseline) -> BaselineDiff   (new failures, fixed, still failing, flaky)
    measured_change(base, new, max_increase_pct, min_effect, same_machine) -> MeasuredChange
    format_comparison(matrix, by=None) -> str   (what `readiness compare` prints)

A measured change is judged with a stated test: a two-sided Mann-Whitney U test (normal
approximation with tie correction) at p < 0.05, plus a minimum effect, with a bootstrap 95 %
interval of the change of the median (fixed seed, so output is repeatable).
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from readiness.document import Outcome, worst
from readiness.merge import Matrix

FAILING = frozenset({Outcome.ERROR, Outcome.FAILED})
ALPHA = 0.05
MIN_SAMPLES = 3
BOOTSTRAP_ROUNDS = 1000


def group_of(cell: str, by: str) -> str:
    """The OS group (`linux`, `windows-wine`) or Python group (`cpython3.12`) of a cell id."""
    parts = cell.split("-")
    if by == "python":
        return parts[-1]
    if by == "os":
        return f"{parts[0]}-wine" if "wine" in parts[1:-1] else parts[0]
    raise ValueError(f"cannot group cells by {by!r}: use 'os' or 'python'")


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


# --- against a baseline ------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineDiff:
    """How the failures of a run relate to those of a baseline run, per (check, cell)."""

    new_failures: List[Tuple[str, str]] = field(default_factory=list)
    fixed: List[Tuple[str, str]] = field(default_factory=list)
    still_failing: List[Tuple[str, str]] = field(default_factory=list)
    flaky: List[Tuple[str, str]] = field(default_factory=list)


def baseline_diff(current: Matrix, baseline: Matrix) -> BaselineDiff:
    """Compare outcomes cell by cell with a baseline run."""
    diff = BaselineDiff()
    for row in current.rows.values():
        base_row = baseline.rows.get(row.id)
        for cell, record in row.results.items():
            before = None if base_row is None else base_row.outcome(cell)
            _classify(diff, (row.id, cell), before, record.outcome)
    return diff


def _classify(diff: BaselineDiff, key: Tuple[str, str], before: Optional[Outcome], now: Outcome) -> None:
    if now == Outcome.FLAKY:
        diff.flaky.append(key)
    elif now in FAILING:
        (diff.still_failing if before in FAILING else diff.new_failures).append(key)
    elif before in FAILING and now == Outcome.PASSED:
        diff.fixed.append(key)


# --- measured changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredChange:
    """A measurement against its baseline: medians, change, test and interval."""

    base_median: float
    new_median: float
    change_pct: float
    p_value: Optional[float]
    ci_low_pct: Optional[float]
    ci_high_pct: Optional[float]
    judged: bool
    exceeds: bool
    note: str = ""
    test: str = "Mann-Whitney U (two-sided, normal approximation), p < 0.05, plus min_effect"

    def describe(self) -> str:
        text = f"median {self.base_median:g} -> {self.new_median:g} ({self.change_pct:+.1f} %"
        if self.ci_low_pct is not None and self.ci_high_pct is not None:
            text += f", 95 % interval {self.ci_low_pct:+.1f} % to {self.ci_high_pct:+.1f} %"
        if self.p_value is not None:
            text += f", Mann-Whitney p = {self.p_value:.3f}"
        return text + ")"

    def to_dict(self) -> Dict[str, Any]:
        return {"base_median": self.base_median, "new_median": self.new_median,
                "change_pct": self.change_pct if math.isfinite(self.change_pct) else None, "p_value": self.p_value,
                "ci_low_pct": self.ci_low_pct, "ci_high_pct": self.ci_high_pct,
                "judged": self.judged, "exceeds": self.exceeds, "note": self.note, "test": self.test}


def measured_change(base: Sequence[float], new: Sequence[float], max_increase_pct: float,
                    min_effect: float = 0.0, same_machine: bool = True) -> MeasuredChange:
    """Judge whether `new` is slower than `base` by more than `max_increase_pct` percent."""
    b, n = statistics.median(base), statistics.median(new)
    change = _pct(b, n)
    if not same_machine:
        return MeasuredChange(b, n, change, None, None, None, False, False,
                              "the baseline was measured on another machine (fingerprint differs)")
    if len(base) < MIN_SAMPLES or len(new) < MIN_SAMPLES:
        return MeasuredChange(b, n, change, None, None, None, False, False,
                              f"fewer than {MIN_SAMPLES} samples on a side: no test is possible")
    p = mann_whitney_p(base, new)
    low, high = _bootstrap_interval(base, new)
    exceeds = change > max_increase_pct and p < ALPHA and (n - b) >= min_effect
    return MeasuredChange(b, n, change, p, low, high, True, exceeds)


def _pct(base: float, new: float) -> float:
    if base == 0:
        return 0.0 if new == 0 else math.inf
    return (new - base) / base * 100.0


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected)."""
    ranks = _ranks(list(a) + list(b))
    n1, n2 = len(a), len(b)
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    ties = _tie_term(list(a) + list(b))
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    return max(0.0, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))


def _ranks(values: List[float]) -> List[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _tie_term(values: List[float]) -> float:
    counts: Dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return float(sum(t ** 3 - t for t in counts.values()))


def _bootstrap_interval(base: Sequence[float], new: Sequence[float]) -> Tuple[Optional[float], Optional[float]]:
    rng = random.Random(20261130)
    changes = sorted(
        _pct(statistics.median(rng.choices(base, k=len(base))), statistics.median(rng.choices(new, k=len(new))))
        for _ in range(BOOTSTRAP_ROUNDS)
    )
    if any(math.isinf(c) for c in changes):
        return None, None
    return changes[int(0.025 * BOOTSTRAP_ROUNDS)], changes[int(0.975 * BOOTSTRAP_ROUNDS) - 1]


# --- what `readiness compare` prints --------------------------------------------------------------


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
