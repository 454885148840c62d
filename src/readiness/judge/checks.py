"""What each check did across cells: failures, errors, checks not run, skips, flaky runs and
unexpected passes, grouped per outcome; a check passing in some cells and failing in others (a
divergence); blocking checks with no result in a cell; and the policy's required checks that did
not run."""

from __future__ import annotations

import fnmatch
from operator import attrgetter
from typing import Dict, List, Optional, Tuple

from readiness.judge import apart
from readiness.judge.context import FAILING, NOT_RUN, Context
from readiness.judge.findings import Effect, Finding, cells_text, first_line
from readiness.judge.matrix import Row
from readiness.model.document import CellState, CheckRecord, Outcome, Severity


def row_findings(ctx: Context, row: Row) -> List[Finding]:
    """Failures, skips, flaky and unexpected passes of one check, then its divergence."""
    if _QUIET.issuperset(map(_OUTCOME, row.results.values())):  # passing wherever it ran, as most do
        return []
    groups: Dict[Tuple[str, Effect], List[str]] = {}
    blocking: Optional[bool] = None  # the check's severity, looked up once it matters
    for cell, record in row.results.items():
        if record.outcome in _QUIET:
            continue
        if blocking is None:
            blocking = ctx.blocks(row)
        kind, effect = _judge(ctx, row, cell, record, blocking)
        if kind:
            groups.setdefault((kind, effect), []).append(cell)
    if not groups:
        return []
    findings = [_group_finding(ctx, row, kind, effect, cells) for (kind, effect), cells in groups.items()]
    divergence = _divergence(ctx, row, groups)
    return findings + ([divergence] if divergence else [])


# Outcomes that make no finding of their own, whatever the policy (see _judge).
_QUIET = frozenset({Outcome.PASSED, Outcome.NOT_APPLICABLE})
_OUTCOME, _ID = attrgetter("outcome"), attrgetter("id")


def _judge(ctx: Context, row: Row, cell: str, record: CheckRecord, blocking: bool) -> Tuple[str, Effect]:
    """(finding kind, effect) of one check's outcome in one cell; ("", INFO) when all is well."""
    outcome = record.outcome
    if outcome in OWN_SKIPS and ctx.policy.accept_own_skips:
        return "own-skip", Effect.INFO  # the project's own declaration, accepted by the policy: a fact, not a pass
    if outcome in FAILING or (outcome == Outcome.XFAILED and blocking):
        kind = outcome.value
    elif outcome in NOT_RUN and blocking:
        # Collected and never run (interrupted, stopped early) is its own finding, with its reason.
        kind = outcome.value if outcome == Outcome.NOT_RUN else "not-run"
    elif outcome == Outcome.FLAKY:
        kind = "flaky"
    elif outcome == Outcome.XPASSED:
        return "xpassed", Effect.WARNING
    else:
        return "", Effect.INFO
    return kind, _effect(ctx, row, cell, kind, blocking)


def _effect(ctx: Context, row: Row, cell: str, kind: str, blocking: bool) -> Effect:
    if cell not in ctx.required or not blocking:
        return Effect.WARNING
    if kind == "flaky" and not ctx.policy.flaky.blocks:
        return Effect.WARNING
    if kind in ("failed", "error") and _still_failing(ctx, row.id, cell) and not _critical(ctx, row):
        return Effect.WARNING
    if ctx.waiver_for(row.id, cell) is not None:
        return Effect.WAIVED
    return Effect.INCOMPLETE if kind in _MISSING_EVIDENCE else Effect.NO_GO


def _critical(ctx: Context, row: Row) -> bool:
    return ctx.severity(row) == Severity.CRITICAL


def _still_failing(ctx: Context, check: str, cell: str) -> bool:
    """With only_new_failures_block and a baseline: the check failed there already."""
    if not ctx.policy.only_new_failures_block or ctx.baseline is None:
        return False
    row = ctx.baseline.rows.get(check)
    return row is not None and row.outcome(cell) in FAILING


# A check with no result is missing evidence (INCOMPLETE), never a failure (NO-GO).
_MISSING_EVIDENCE = ("not_run", "not-run")
_KIND_TEXT = {
    "failed": "failed", "error": "errored", "xfailed": "failed (xfail, counted as a failure)",
    "not_run": "was collected but not run", "not-run": "did not run", "flaky": "was flaky (passed on a retry)",
    "xpassed": "passed unexpectedly (xpass)",
    "own-skip": "was skipped, deselected or xfailed by the project itself (accepted: accept_own_skips)",
}

# What a project's own tests declare about themselves: skip/skipif, deselection by its conftest, xfail.
OWN_SKIPS = frozenset({Outcome.SKIPPED, Outcome.DESELECTED, Outcome.XFAILED})


def _group_finding(ctx: Context, row: Row, kind: str, effect: Effect, cells: List[str]) -> Finding:
    severity = ctx.severity(row).value
    detail = first_line(row.results[cells[0]].message)
    note = _note(ctx, row, effect, cells)
    text = f"{row.id} ({row.category}, {severity}) {_KIND_TEXT[kind]} in {cells_text(cells, ctx.required)}{note}"
    if detail:
        text += f": {detail}"
    return Finding(effect, kind, text, (row.id,), tuple(cells), detail, note)


def _note(ctx: Context, row: Row, effect: Effect, cells: List[str]) -> str:
    """What the policy made of a failure, when it is not plainly blocking."""
    if effect == Effect.WAIVED:
        return " - waived"
    if effect == Effect.WARNING and cells[0] in ctx.required and _still_failing(ctx, row.id, cells[0]):
        return " - failing in the baseline too (only new failures block)"
    if effect == Effect.NO_GO and _still_failing(ctx, row.id, cells[0]):
        return (" - failing in the baseline too; a critical check still blocks then, "
                "even when only new failures block: waive it or fix it")
    if effect == Effect.WARNING and not set(cells) & set(ctx.required):
        return " - not a required cell"
    return ""


def _divergence(ctx: Context, row: Row, groups: Dict[Tuple[str, Effect], List[str]]) -> Optional[Finding]:
    """A check passing in some cells and failing in others: a finding of its own, naming what sets
    the failing cells apart (OS, Python, installed versions)."""
    failed = {cell for (kind, _), cells in groups.items() if kind in ("failed", "error") for cell in cells}
    if not failed:
        return None
    passing = [cell for cell, record in row.results.items() if record.outcome == Outcome.PASSED]
    if not passing:
        return None
    failing = [cell for cell in row.results if cell in failed]
    blocking = {Effect.NO_GO} & {e for (k, e) in groups if k in ("failed", "error")}
    effect = Effect.NO_GO if blocking else Effect.WARNING
    text = f"divergence: {row.id} fails {_explained(ctx, failing, passing)}"
    cells = tuple(cell for cell in row.results if cell in passing or cell in failing)
    return Finding(effect, "divergence", text, (row.id,), cells)


def _explained(ctx: Context, failing: List[str], passing: List[str]) -> str:
    """Where the check fails and why, worked out once for each split of the cells."""
    key = (tuple(failing), tuple(passing))
    if key not in ctx.explained:
        ctx.explained[key] = (f"{apart.where(failing, passing)}: "
                              f"{apart.explain(ctx.matrix, failing, passing)}")
    return ctx.explained[key]


def missing_results(ctx: Context) -> List[Finding]:
    """Blocking checks seen elsewhere but with no result in a complete required cell."""
    missing: Dict[str, List[str]] = {}
    all_ids = set(ctx.matrix.rows).union(*(doc.collected for doc in ctx.matrix.documents.values()))
    for cell in ctx.present_required():
        doc = ctx.matrix.documents[cell]
        if doc.state != CellState.COMPLETE:
            continue
        recorded = set(map(_ID, doc.checks))
        for check in sorted(all_ids - recorded):
            row = ctx.matrix.rows.get(check)
            if row is None or ctx.blocks(row):
                missing.setdefault(check, []).append(cell)
    return [_missing_finding(ctx, check, cells) for check, cells in sorted(missing.items())]


def _missing_finding(ctx: Context, check: str, cells: List[str]) -> Finding:
    effect = Effect.WAIVED if all(ctx.waiver_for(check, cell) for cell in cells) else Effect.INCOMPLETE
    note = " (collected elsewhere, or collected without a result)"
    if ctx.policy.accept_own_skips and not any(check in ctx.matrix.documents[c].collected for c in cells):
        # A check these cells never collected (a parametrization that differs by platform): the
        # project's own doing, accepted; one collected without a result stays missing evidence.
        effect, note = Effect.INFO, " (not collected there; accepted: accept_own_skips)"
    text = f"{check} has no result in {cells_text(cells, ctx.required)}{note}"
    return Finding(effect, "no-result", text, (check,), tuple(cells), note=note)


def required_check_findings(ctx: Context) -> List[Finding]:
    findings = []
    for pattern in ctx.policy.required_checks:
        rows = [row for check, row in ctx.matrix.rows.items() if fnmatch.fnmatchcase(check, pattern)]
        if not rows:
            findings.append(Finding(Effect.INCOMPLETE, "required-check",
                                    f"required check {pattern} is in no document", (pattern,)))
            continue
        for row in rows:
            cells = [c for c in ctx.present_required() if _did_not_run(row.results.get(c))]
            if cells:
                findings.append(Finding(Effect.INCOMPLETE, "required-check",
                                        f"required check {row.id} did not run in {cells_text(cells, ctx.required)}",
                                        (row.id,), tuple(cells)))
    return findings


def _did_not_run(record: Optional[CheckRecord]) -> bool:
    return record is None or record.outcome in NOT_RUN
