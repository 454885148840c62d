"""The verdict against a baseline run: new failures, fixed, still failing and new checks as facts;
a critical check that vanished, or a check flaky across runs, as findings that can block."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from readiness.judge.context import Context
from readiness.judge.findings import Effect, Finding, cells_text
from readiness.judge.rundiff import BaselineDiff, RunHistory, baseline_diff
from readiness.model.document import Severity

_TRANSITIONS = (
    ("new_failures", "new-failure", "new failure against the baseline (it did not fail there)"),
    ("still_failing", "still-failing", "still failing, as in the baseline"),
    ("fixed", "fixed", "fixed: it failed in the baseline and passes now"),
    ("new_checks", "new-check", "new check: not collected in the baseline"),
)


def baseline_findings(ctx: Context) -> List[Finding]:
    """Each check and cell against the baseline run; removed critical checks block."""
    if ctx.baseline is None:
        return []
    diff = baseline_diff(ctx.matrix, ctx.baseline)
    findings = _transition_findings(diff)
    findings += [_removed_finding(ctx, check, cells) for check, cells in _by_check(diff.removed).items()]
    findings += [_history_finding(ctx, history) for history in diff.flaky_across_runs]
    if diff.cells_without_baseline:
        cells = tuple(diff.cells_without_baseline)
        findings.append(Finding(Effect.INFO, "baseline-cell",
                                f"not compared with the baseline (it has no such cell): {', '.join(cells)}",
                                cells=cells))
    return findings


def _by_check(pairs: Sequence[Tuple[str, str]]) -> Dict[str, List[str]]:
    grouped: Dict[str, List[str]] = {}
    for check, cell in pairs:
        grouped.setdefault(check, []).append(cell)
    return grouped


def _transition_findings(diff: BaselineDiff) -> List[Finding]:
    """New failures, still failing, fixed and new checks: facts; the failure findings carry the effect."""
    findings = []
    for attribute, kind, text in _TRANSITIONS:
        for check, cells in _by_check(getattr(diff, attribute)).items():
            findings.append(Finding(Effect.INFO, kind, f"{check}: {text}, in {', '.join(cells)}",
                                    (check,), tuple(cells)))
    return findings


def _removed_finding(ctx: Context, check: str, cells: List[str]) -> Finding:
    """A check collected in the baseline and gone now: reported, and blocking when it was critical."""
    assert ctx.baseline is not None
    base_row = ctx.baseline.rows.get(check)
    severity = ctx.policy.severity_of(check, base_row.severity if base_row else Severity.MAJOR)
    text = (f"{check} ({severity.value}) was collected in the baseline but is gone now in "
            f"{cells_text(cells, ctx.required)}")
    blocking_cells = [cell for cell in cells if cell in ctx.required] if severity == Severity.CRITICAL else []
    if not blocking_cells:
        return Finding(Effect.WARNING, "removed-check", text, (check,), tuple(cells))
    if all(ctx.waiver_for(check, cell) is not None for cell in blocking_cells):
        return Finding(Effect.WAIVED, "removed-check", text + " - waived", (check,), tuple(cells))
    return Finding(Effect.NO_GO, "removed-check",
                   text + " - a critical check may not vanish: restore it, or waive it with a reason",
                   (check,), tuple(cells))


def _history_finding(ctx: Context, history: RunHistory) -> Finding:
    """Flaky across runs: the outcome changed while neither the target nor the check did."""
    row = ctx.matrix.rows[history.check]
    text = f"{history.check} is flaky across runs in {history.cell}: {history.describe()}"
    blocks = ctx.policy.flaky.blocks and ctx.blocks(row) and history.cell in ctx.required
    if not blocks:
        return Finding(Effect.WARNING, "flaky-across-runs", text, (history.check,), (history.cell,))
    if ctx.waiver_for(history.check, history.cell) is not None:
        return Finding(Effect.WAIVED, "flaky-across-runs", text + " - waived", (history.check,), (history.cell,))
    return Finding(Effect.NO_GO, "flaky-across-runs", text, (history.check,), (history.cell,))
