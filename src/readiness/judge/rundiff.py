"""A run against a baseline run, check by check and cell by cell: new failures, fixed, still
failing, flaky, new and removed checks, and checks flaky across runs (the same sources and check
declaration, another outcome)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Set, Tuple

from readiness.judge.matrix import Matrix
from readiness.model.document import CellState, CheckRecord, EnvDocument, Outcome

FAILING = frozenset({Outcome.ERROR, Outcome.FAILED})
# Outcome groups for "did the outcome change between runs": a move between groups is a change.
_OUTCOME_GROUP = {Outcome.PASSED: "passed", Outcome.FAILED: "failed", Outcome.ERROR: "failed",
                  Outcome.FLAKY: "flaky"}


@dataclass(frozen=True)
class RunHistory:
    """A check whose outcome changed between the baseline and now while nothing it runs changed."""

    check: str
    cell: str
    before: Outcome
    now: Outcome
    base_run: str
    run: str
    source_hash: str

    def describe(self) -> str:
        return (f"{self.before.value} in baseline run {self.base_run}, {self.now.value} in run {self.run}, "
                f"with the same target sources (hash {self.source_hash[:12]}) and the same check declaration")


@dataclass(frozen=True)
class BaselineDiff:
    """How the checks of a run relate to those of a baseline run, per (check, cell)."""

    new_failures: List[Tuple[str, str]] = field(default_factory=list)
    fixed: List[Tuple[str, str]] = field(default_factory=list)
    still_failing: List[Tuple[str, str]] = field(default_factory=list)
    flaky: List[Tuple[str, str]] = field(default_factory=list)
    new_checks: List[Tuple[str, str]] = field(default_factory=list)
    removed: List[Tuple[str, str]] = field(default_factory=list)
    flaky_across_runs: List[RunHistory] = field(default_factory=list)
    cells_without_baseline: List[str] = field(default_factory=list)


def baseline_diff(current: Matrix, baseline: Matrix) -> BaselineDiff:
    """Compare outcomes cell by cell with a baseline run."""
    diff = BaselineDiff()
    for row in current.rows.values():
        base_row = baseline.rows.get(row.id)
        for cell, record in row.results.items():
            before = None if base_row is None else base_row.outcome(cell)
            _classify(diff, (row.id, cell), before, record.outcome)
            history = _run_history(current, baseline, row.id, cell)
            if history is not None:
                diff.flaky_across_runs.append(history)
    for cell, doc in current.documents.items():
        base_doc = baseline.documents.get(cell)
        if base_doc is None:
            diff.cells_without_baseline.append(cell)
            continue
        before_ids, now_ids = _check_ids(base_doc), _check_ids(doc)
        diff.new_checks.extend((check, cell) for check in sorted(now_ids - before_ids))
        if doc.state == CellState.COMPLETE:
            diff.removed.extend((check, cell) for check in sorted(before_ids - now_ids))
    diff.new_checks.sort()
    diff.removed.sort()
    return diff


def _classify(diff: BaselineDiff, key: Tuple[str, str], before: Optional[Outcome], now: Outcome) -> None:
    if now == Outcome.FLAKY:
        diff.flaky.append(key)
    elif now in FAILING:
        (diff.still_failing if before in FAILING else diff.new_failures).append(key)
    elif before in FAILING and now == Outcome.PASSED:
        diff.fixed.append(key)


def _check_ids(doc: EnvDocument) -> Set[str]:
    """Every check a cell's run knew of: collected, or with a result."""
    return set(doc.collected) | {record.id for record in doc.checks}


def _run_history(current: Matrix, baseline: Matrix, check: str, cell: str) -> Optional[RunHistory]:
    """The change of one check's outcome across runs, when neither the target nor the check changed."""
    doc, base_doc = current.documents.get(cell), baseline.documents.get(cell)
    base_row = baseline.rows.get(check)
    if doc is None or base_doc is None or base_row is None or cell not in base_row.results:
        return None
    before, now = base_row.results[cell], current.rows[check].results[cell]
    group_before, group_now = _OUTCOME_GROUP.get(before.outcome), _OUTCOME_GROUP.get(now.outcome)
    if group_before is None or group_now is None or group_before == group_now:
        return None
    source = doc.target.source_hash
    if not source or source != base_doc.target.source_hash or _declaration(before) != _declaration(now):
        return None
    return RunHistory(check, cell, before.outcome, now.outcome, base_doc.run_id, doc.run_id, source)


def _declaration(record: CheckRecord) -> Tuple[Any, ...]:
    """What the check declares about itself; a change here means the check's code changed."""
    platforms = None if record.platforms is None else tuple(record.platforms)
    return record.nodeid, record.title, record.category, record.severity, platforms
