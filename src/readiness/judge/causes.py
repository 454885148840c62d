"""Findings folded for reading: the checks that share an effect, an outcome, the first line of their
message and their cells are one cause, one line in a report ("268 checks fail only in cpython3.12
(linux, windows-wine): RuntimeError: ..."); a check's divergence joins its failure, so no check
is listed twice.

    fold(findings, matrix, required) -> list of Cause, in the order of the findings
"""

from __future__ import annotations

from itertools import groupby, repeat
from operator import add, itemgetter
from typing import Dict, List, NamedTuple, Sequence, Tuple, Union

from readiness.judge import apart
from readiness.judge.findings import NEW, Effect, Finding, cells_text
from readiness.judge.matrix import Matrix
from readiness.model.document import Outcome

SHOWN_CHECKS = 3  # check ids a folded line names; the rest are counted
# The finding kinds folded across checks, with their verb for many checks.
PLURAL = {
    "error": "error", "failed": "fail", "xfailed": "fail (xfail, counted as a failure)",
    "not-run": "did not run", "flaky": "were flaky (passed on a retry)",
    "xpassed": "passed unexpectedly (xpass)", "no-result": "have no result",
    "own-skip": "were skipped, deselected or xfailed by the project itself (accepted: accept_own_skips)",
    # Against a baseline (judge/regressions.py).
    "new-failure": "fail anew against the baseline (they did not fail there),",
    "still-failing": "still fail, as in the baseline,",
    "fixed": "are fixed (they failed in the baseline and pass now),",
    "new-check": "are new (not collected in the baseline),",
}
_DIVERGING = ("failed", "error")  # the kinds a divergence joins


class Cause(NamedTuple):
    """One line of a report: one finding, or the findings of many checks folded into one. A named
    tuple: a report folds tens of thousands of findings, most of them into a cause of their own."""

    effect: Effect
    kind: str
    text: str
    checks: Tuple[str, ...]
    cells: Tuple[str, ...]
    why: str = ""  # for a divergence: where the checks pass, and what sets the failing cells apart


_Key = Tuple[Effect, str, str, str, Tuple[str, ...], Tuple[str, ...]]


def fold(findings: Sequence[Finding], matrix: Matrix, required: Sequence[str]) -> List[Cause]:
    """Every finding as a cause; checks with one effect, outcome, message and cells folded."""
    diverging = {f.checks[0] for f in findings if f.kind == "divergence" and f.checks}
    failures = {f.checks[0] for f in findings if f.kind in _DIVERGING and len(f.checks) == 1}
    slots: List[Union[Cause, _Key]] = []  # a finding's own cause, or the key of a fold, as first seen
    folds: Dict[_Key, List[Finding]] = {}
    for kind, group in groupby(findings, key=_KIND):  # the findings come sorted: each kind's together
        if kind not in _FOLDED:  # a cause of its own each, made in C (a finding per measurement, say)
            slots += map(NEW, repeat(Cause), map(add, map(_OWN, group), repeat(("",))))
            continue
        for finding in group:
            effect, kind, message, checks, cells, detail, note = finding
            if kind == "divergence" and checks and checks[0] in failures:
                continue  # said by the check's failure, with where it passes and why
            if kind not in PLURAL or len(checks) != 1:
                slots.append(NEW(Cause, (effect, kind, message, checks, cells, "")))
                continue
            passing = _passing(matrix, finding) if checks[0] in diverging and kind in _DIVERGING else ()
            key = (effect, kind, note, detail, cells, passing)
            if key not in folds:
                slots.append(key)
            folds.setdefault(key, []).append(finding)
    explained: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], str] = {}  # many folds split the cells alike
    return [slot if isinstance(slot, Cause) else _cause(matrix, required, slot, folds[slot], explained)
            for slot in slots]


_FOLDED = frozenset({*PLURAL, "divergence"})  # the kinds whose findings may not be a cause of their own
_KIND, _OWN = itemgetter(1), itemgetter(slice(0, 5))  # a finding's kind; its effect, kind, message, checks, cells


def _passing(matrix: Matrix, finding: Finding) -> Tuple[str, ...]:
    row = matrix.rows.get(finding.checks[0])
    if row is None:
        return ()
    return tuple(cell for cell, record in row.results.items() if record.outcome == Outcome.PASSED)


def _cause(matrix: Matrix, required: Sequence[str], key: _Key, members: List[Finding],
           explained: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], str]) -> Cause:
    effect, kind, note, detail, cells, passing = key
    checks = tuple(f.checks[0] for f in members)
    if passing and (cells, passing) not in explained:
        explained[cells, passing] = apart.explain(matrix, cells, passing)
    why = explained[cells, passing] if passing else ""
    if len(members) == 1:
        return Cause(effect, kind, members[0].message, checks, cells, why)
    where = apart.where(cells, passing) if passing else f"in {cells_text(cells, required)}"
    named = ", ".join(checks[:SHOWN_CHECKS])
    more = f", and {len(checks) - SHOWN_CHECKS} more" if len(checks) > SHOWN_CHECKS else ""
    text = f"{len(checks)} checks {PLURAL[kind]} {where}{note}: " + (f"{detail}: " if detail else "") + named + more
    return Cause(effect, kind, text, checks, cells, why)
