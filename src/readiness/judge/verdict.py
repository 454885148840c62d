"""The verdict: a policy applied to a matrix, giving a state and every reason behind it.

Library API:

    decide(matrix, policy, *, today, baseline=None) -> Verdict
    Verdict.to_dict() (kind readiness/verdict: what a deploy gate reads), dumps(verdict)
    today_from_environment() -> date   (SOURCE_DATE_EPOCH when set, else the local date)

States and precedence (README, the verdict table at the top): NO-GO > INCOMPLETE > GO WITH WAIVERS
> GO. Every finding names its checks and cells; INCONCLUSIVE is a finding, never a state.
There is no confidence figure anywhere.
"""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import json
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from readiness import __version__
from readiness.judge.compare import (
    MAX_SAMPLES_ESTIMATE,
    BaselineDiff,
    MeasuredChange,
    RunHistory,
    baseline_diff,
    measured_change,
)
from readiness.judge.merge import Matrix, Row
from readiness.judge.policy import EXPIRY_WARNING_DAYS, Budget, Policy, Waiver
from readiness.model.document import CellState, CheckRecord, EnvDocument, Outcome, Severity
from readiness.model.statistics import percentile

VERDICT_KIND = "readiness/verdict"
# Schema versions of `readiness/verdict`:
#   1. First version: state, exit code, policy, scope, findings, waivers, measurements.
VERDICT_SCHEMA = 1

# Outcomes that mean the check ran in the cell (not skipped, deselected or not applicable).
RAN = frozenset({Outcome.ERROR, Outcome.FAILED, Outcome.FLAKY, Outcome.XPASSED,
                 Outcome.XFAILED, Outcome.PASSED})
FAILING = frozenset({Outcome.ERROR, Outcome.FAILED})
NOT_RUN = frozenset({Outcome.SKIPPED, Outcome.DESELECTED})


class State(str, enum.Enum):
    GO = "GO"
    GO_WITH_WAIVERS = "GO WITH WAIVERS"
    NO_GO = "NO-GO"
    INCOMPLETE = "INCOMPLETE"

    @property
    def exit_code(self) -> int:
        return {"GO": 0, "GO WITH WAIVERS": 0, "NO-GO": 1, "INCOMPLETE": 3}[self.value]


class Effect(str, enum.Enum):
    """What a finding does to the verdict, declared strongest first."""

    NO_GO = "no-go"
    INCOMPLETE = "incomplete"
    INCONCLUSIVE = "inconclusive"
    WAIVED = "waived"
    WARNING = "warning"
    INFO = "info"


_EFFECT_RANK = {effect: index for index, effect in enumerate(Effect)}


@dataclass(frozen=True)
class Finding:
    """One claim of the verdict, with the checks and cells it rests on."""

    effect: Effect
    kind: str
    message: str
    checks: Tuple[str, ...] = ()
    cells: Tuple[str, ...] = ()

    def to_dict(self) -> Dict[str, Any]:
        return {"effect": self.effect.value, "kind": self.kind, "message": self.message,
                "checks": list(self.checks), "cells": list(self.cells)}

    def sort_key(self) -> Tuple[int, str, Tuple[str, ...], Tuple[str, ...], str]:
        return _EFFECT_RANK[self.effect], self.kind, self.checks, self.cells, self.message


@dataclass(frozen=True)
class WaiverStatus:
    """A waiver of the policy and what it did in this verdict."""

    waiver: Waiver
    status: str  # "used", "unused", "expired"
    days_left: int
    covered: Tuple[Tuple[str, str], ...] = ()  # (check, cell) pairs it waived

    def to_dict(self) -> Dict[str, Any]:
        w = self.waiver
        return {"check": w.check, "cells": list(w.cells), "reason": w.reason, "owner": w.owner,
                "expires": w.expires.isoformat(), "days_left": self.days_left, "status": self.status,
                "expiring_soon": 0 <= self.days_left <= EXPIRY_WARNING_DAYS,
                "covered": [{"check": c, "cell": cell} for c, cell in self.covered]}


@dataclass(frozen=True)
class MeasurementResult:
    """One measurement of one check in one cell, judged against a budget where one applies."""

    check: str
    cell: str
    name: str
    unit: str
    samples: int
    median: float
    status: str  # "within", "over", "no-budget", "inconclusive"
    limit: Optional[float] = None
    change: Optional[MeasuredChange] = None
    statistic: str = "median"  # what `limit` applies to
    value: Optional[float] = None  # that statistic of the samples

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"check": self.check, "cell": self.cell, "name": self.name, "unit": self.unit,
                "samples": self.samples, "median": self.median, "status": self.status,
                "limit": self.limit, "change": None if self.change is None else self.change.to_dict()}
        if self.statistic != "median":
            data.update(statistic=self.statistic, value=self.value)
        return data


@dataclass(frozen=True)
class Scope:
    """What the verdict covers: the evidence it rests on, counted."""

    platforms: Tuple[str, ...]
    pythons: Tuple[str, ...]
    cells_required: Tuple[str, ...]
    cells_planned: Optional[Tuple[str, ...]]
    cells_present: Tuple[str, ...]
    cells_run: Tuple[str, ...]
    cells_missing: Tuple[str, ...]
    required_basis: str
    checks_run: int
    checks_collected: int
    results_run: int
    results_collected: int

    def to_dict(self) -> Dict[str, Any]:
        return {
            "platforms": list(self.platforms), "pythons": list(self.pythons),
            "cells_required": list(self.cells_required),
            "cells_planned": None if self.cells_planned is None else list(self.cells_planned),
            "cells_present": list(self.cells_present), "cells_run": list(self.cells_run),
            "cells_missing": list(self.cells_missing), "required_basis": self.required_basis,
            "checks_run": self.checks_run, "checks_collected": self.checks_collected,
            "results_run": self.results_run, "results_collected": self.results_collected,
        }


@dataclass
class Verdict:
    """The state, and every finding behind it, for one matrix under one policy."""

    state: State
    findings: List[Finding]
    scope: Scope
    waivers: List[WaiverStatus]
    measurements: List[MeasurementResult]
    policy_label: str
    policy_default: bool
    profile: Optional[str]
    run_id: Optional[str]
    mixed: bool
    as_of: dt.date
    baseline: Optional[str] = None
    # The severity each check was judged with (policy override, declared, or major by default).
    severities: Dict[str, Severity] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return self.state.exit_code

    @property
    def reasons(self) -> List[Finding]:
        """The findings that decide the state (blocking, missing evidence, waived)."""
        deciding = {State.NO_GO: Effect.NO_GO, State.INCOMPLETE: Effect.INCOMPLETE,
                    State.GO_WITH_WAIVERS: Effect.WAIVED}.get(self.state)
        return [f for f in self.findings if f.effect == deciding]

    def by_effect(self, *effects: Effect) -> List[Finding]:
        return [f for f in self.findings if f.effect in effects]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "kind": VERDICT_KIND, "schema": VERDICT_SCHEMA, "tool_version": __version__,
            "state": self.state.value, "exit_code": self.exit_code,
            "run_id": self.run_id, "mixed": self.mixed, "as_of": self.as_of.isoformat(),
            "policy": {"source": self.policy_label, "default": self.policy_default,
                       "profile": self.profile},
            "baseline": self.baseline,
            "scope": self.scope.to_dict(),
            "reasons": [f.to_dict() for f in self.reasons],
            "findings": [f.to_dict() for f in self.findings],
            "waivers": [w.to_dict() for w in self.waivers],
            "measurements": [m.to_dict() for m in self.measurements],
        }


def dumps(verdict: Verdict) -> str:
    """The verdict as JSON text (stable key order; compact, as it lists every measurement)."""
    return json.dumps(verdict.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def today_from_environment() -> dt.date:
    """Today, for waiver expiry: SOURCE_DATE_EPOCH (UTC) when set, so output is reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date.today()


# --- deciding -------------------------------------------------------------------------------


@dataclass
class _Context:
    """What every judging step reads, and the waiver uses they record."""

    matrix: Matrix
    policy: Policy
    today: dt.date
    required: List[str]
    baseline: Optional[Matrix]
    waiver_uses: Dict[int, List[Tuple[str, str]]] = field(default_factory=dict)
    expired_hits: Set[int] = field(default_factory=set)

    def present_required(self) -> List[str]:
        return [cell for cell in self.required if cell in self.matrix.documents]

    def severity(self, row: Row) -> Severity:
        return self.policy.severity_of(row.id, row.severity)

    def blocks(self, row: Row) -> bool:
        return self.policy.blocks(self.severity(row))

    def waiver_for(self, check: str, cell: str) -> Optional[Waiver]:
        """The first unexpired waiver covering (check, cell); its use is recorded."""
        for index, waiver in enumerate(self.policy.waivers):
            if not waiver.covers(check, cell):
                continue
            if waiver.expires < self.today:
                self.expired_hits.add(index)
                continue
            self.waiver_uses.setdefault(index, []).append((check, cell))
            return waiver
        return None


def decide(matrix: Matrix, policy: Policy, *, today: dt.date,
           baseline: Optional[Matrix] = None, baseline_label: Optional[str] = None) -> Verdict:
    """Apply `policy` to `matrix`; pure: the same inputs always give the same verdict.

    With a `baseline` (an earlier run) each check and cell is also compared with it (new
    failures, fixed, still failing, new and removed checks, flaky across runs) and every
    measurement in both runs gets its change with an interval; `baseline_label` names it.
    """
    required, basis, findings = _required_cells(matrix, policy)
    ctx = _Context(matrix, policy, today, required, baseline)
    findings += _input_findings(matrix)
    findings += _cell_findings(ctx)
    for row in matrix.rows.values():
        findings += _row_findings(ctx, row)
    findings += _missing_results(ctx)
    findings += _required_check_findings(ctx)
    findings += _baseline_findings(ctx)
    measurements, budget_findings = _budget_findings(ctx)
    findings += budget_findings
    findings += _policy_notes(ctx)
    waivers = _waiver_statuses(ctx)
    findings += _waiver_findings(waivers)
    findings.sort(key=Finding.sort_key)
    return Verdict(
        state=_state(findings), findings=findings, scope=_scope(matrix, required, basis),
        waivers=waivers, measurements=measurements, policy_label=policy.label,
        policy_default=policy.is_default, profile=policy.profile, run_id=matrix.run_id,
        mixed=matrix.mixed, as_of=today,
        baseline=None if baseline is None else (baseline_label or baseline.run_id),
        severities={check: ctx.severity(row) for check, row in matrix.rows.items()},
    )


def _state(findings: Sequence[Finding]) -> State:
    effects = {finding.effect for finding in findings}
    if Effect.NO_GO in effects:
        return State.NO_GO
    if Effect.INCOMPLETE in effects:
        return State.INCOMPLETE
    if Effect.WAIVED in effects:
        return State.GO_WITH_WAIVERS
    return State.GO


def _cells_text(cells: Sequence[str], required: Sequence[str]) -> str:
    if len(cells) > 3 and set(cells) == set(required):
        return f"all {len(cells)} required cells"
    return ", ".join(cells)


def _first_line(text: Optional[str], limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --- required cells, inputs, cell states ---------------------------------------------------


def _required_cells(matrix: Matrix, policy: Policy) -> Tuple[List[str], str, List[Finding]]:
    """The cells the verdict needs, how they were chosen, and findings about the choice."""
    planned = list(matrix.plan.cells) if matrix.plan else []
    universe = sorted(set(planned) | set(matrix.documents))
    if policy.required_cells is not None:
        return _match_required(policy.required_cells, universe)
    if matrix.plan is not None:
        return sorted(planned), "the run's planned cells (plan.json)", []
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
    return sorted(required), "the policy's required_cells", findings


def _input_findings(matrix: Matrix) -> List[Finding]:
    findings = [Finding(Effect.INCOMPLETE, problem.kind, problem.message) for problem in matrix.problems]
    if matrix.mixed:
        findings.append(Finding(Effect.INFO, "mixed-run",
                                f"mixed run: documents from runs {', '.join(matrix.run_ids)}",
                                cells=tuple(matrix.cells)))
    if matrix.duplicates:
        findings.append(Finding(Effect.INFO, "duplicate",
                                f"{len(matrix.duplicates)} byte-identical duplicate input(s) dropped"))
    return findings


def _cell_findings(ctx: _Context) -> List[Finding]:
    findings = []
    for cell in ctx.required:
        doc = ctx.matrix.documents.get(cell)
        if doc is None:
            findings.append(Finding(Effect.INCOMPLETE, "missing-cell",
                                    f"required cell {cell} has no env document", cells=(cell,)))
    for cell, doc in ctx.matrix.documents.items():
        if doc.state != CellState.COMPLETE:
            effect = Effect.INCOMPLETE if cell in ctx.required else Effect.WARNING
            reason = f": {_first_line(doc.reason)}" if doc.reason else ""
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


# --- one check across cells -----------------------------------------------------------------


def _row_findings(ctx: _Context, row: Row) -> List[Finding]:
    """Failures, skips, flaky and unexpected passes of one check, then its divergence."""
    groups: Dict[Tuple[str, Effect], List[str]] = {}
    for cell, record in row.results.items():
        kind, effect = _judge(ctx, row, cell, record)
        if kind:
            groups.setdefault((kind, effect), []).append(cell)
    findings = [_group_finding(ctx, row, kind, effect, cells) for (kind, effect), cells in groups.items()]
    divergence = _divergence(ctx, row, groups)
    return findings + ([divergence] if divergence else [])


def _judge(ctx: _Context, row: Row, cell: str, record: CheckRecord) -> Tuple[str, Effect]:
    """(finding kind, effect) of one check's outcome in one cell; ("", INFO) when all is well."""
    outcome = record.outcome
    blocking = ctx.blocks(row)
    if outcome in FAILING or (outcome == Outcome.XFAILED and blocking):
        kind = outcome.value
    elif outcome in NOT_RUN and blocking:
        kind = "not-run"
    elif outcome == Outcome.FLAKY:
        kind = "flaky"
    elif outcome == Outcome.XPASSED:
        return "xpassed", Effect.WARNING
    else:
        return "", Effect.INFO
    return kind, _effect(ctx, row, cell, kind, blocking)


def _effect(ctx: _Context, row: Row, cell: str, kind: str, blocking: bool) -> Effect:
    if cell not in ctx.required or not blocking:
        return Effect.WARNING
    if kind == "flaky" and not ctx.policy.flaky.blocks:
        return Effect.WARNING
    if kind in ("failed", "error") and _still_failing(ctx, row.id, cell) and not _critical(ctx, row):
        return Effect.WARNING
    if ctx.waiver_for(row.id, cell) is not None:
        return Effect.WAIVED
    return Effect.INCOMPLETE if kind == "not-run" else Effect.NO_GO


def _critical(ctx: _Context, row: Row) -> bool:
    return ctx.severity(row) == Severity.CRITICAL


def _still_failing(ctx: _Context, check: str, cell: str) -> bool:
    """With only_new_failures_block and a baseline: the check failed there already."""
    if not ctx.policy.only_new_failures_block or ctx.baseline is None:
        return False
    row = ctx.baseline.rows.get(check)
    return row is not None and row.outcome(cell) in FAILING


_KIND_TEXT = {
    "failed": "failed", "error": "errored", "xfailed": "failed (xfail, counted as a failure)",
    "not-run": "did not run", "flaky": "was flaky (passed on a retry)",
    "xpassed": "passed unexpectedly (xpass)",
}


def _group_finding(ctx: _Context, row: Row, kind: str, effect: Effect, cells: List[str]) -> Finding:
    severity = ctx.severity(row).value
    first = row.results[cells[0]]
    detail = _first_line(first.message)
    text = f"{row.id} ({row.category}, {severity}) {_KIND_TEXT[kind]} in {_cells_text(cells, ctx.required)}"
    if effect == Effect.WAIVED:
        text += " - waived"
    elif effect == Effect.WARNING and cells[0] in ctx.required and _still_failing(ctx, row.id, cells[0]):
        text += " - failing in the baseline too (only new failures block)"
    elif effect == Effect.NO_GO and _still_failing(ctx, row.id, cells[0]):
        text += (" - failing in the baseline too; a critical check still blocks then, "
                 "even when only new failures block: waive it or fix it")
    elif effect == Effect.WARNING and not set(cells) & set(ctx.required):
        text += " - not a required cell"
    if detail:
        text += f": {detail}"
    return Finding(effect, kind, text, (row.id,), tuple(cells))


def _divergence(ctx: _Context, row: Row, groups: Dict[Tuple[str, Effect], List[str]]) -> Optional[Finding]:
    """A check passing in some cells and failing in others: a finding of its own."""
    passing = [cell for cell, record in row.results.items() if record.outcome == Outcome.PASSED]
    failing = sorted(cell for (kind, _), cells in groups.items() if kind in ("failed", "error") for cell in cells)
    if not passing or not failing:
        return None
    blocking = {Effect.NO_GO} & {e for (k, e) in groups if k in ("failed", "error")}
    effect = Effect.NO_GO if blocking else Effect.WARNING
    text = (f"divergence: {row.id} passes in {', '.join(passing)} "
            f"but fails in {', '.join(failing)}")
    return Finding(effect, "divergence", text, (row.id,), tuple(sorted(passing + failing)))


def _missing_results(ctx: _Context) -> List[Finding]:
    """Blocking checks seen elsewhere but with no result in a complete required cell."""
    missing: Dict[str, List[str]] = {}
    all_ids = set(ctx.matrix.rows) | {c for doc in ctx.matrix.documents.values() for c in doc.collected}
    for cell in ctx.present_required():
        doc = ctx.matrix.documents[cell]
        if doc.state != CellState.COMPLETE:
            continue
        recorded = {record.id for record in doc.checks}
        for check in sorted(all_ids - recorded):
            row = ctx.matrix.rows.get(check)
            if row is None or ctx.blocks(row):
                missing.setdefault(check, []).append(cell)
    return [_missing_finding(ctx, check, cells) for check, cells in sorted(missing.items())]


def _missing_finding(ctx: _Context, check: str, cells: List[str]) -> Finding:
    if all(ctx.waiver_for(check, cell) for cell in cells):
        effect = Effect.WAIVED
    else:
        effect = Effect.INCOMPLETE
    text = f"{check} has no result in {_cells_text(cells, ctx.required)} (collected elsewhere, or collected without a result)"
    return Finding(effect, "no-result", text, (check,), tuple(cells))


def _required_check_findings(ctx: _Context) -> List[Finding]:
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
                                        f"required check {row.id} did not run in {_cells_text(cells, ctx.required)}",
                                        (row.id,), tuple(cells)))
    return findings


def _did_not_run(record: Optional[CheckRecord]) -> bool:
    return record is None or record.outcome in NOT_RUN


# --- against a baseline ----------------------------------------------------------------------

_TRANSITIONS = (
    ("new_failures", "new-failure", "new failure against the baseline (it did not fail there)"),
    ("still_failing", "still-failing", "still failing, as in the baseline"),
    ("fixed", "fixed", "fixed: it failed in the baseline and passes now"),
    ("new_checks", "new-check", "new check: not collected in the baseline"),
)


def _baseline_findings(ctx: _Context) -> List[Finding]:
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


def _removed_finding(ctx: _Context, check: str, cells: List[str]) -> Finding:
    """A check collected in the baseline and gone now: reported, and blocking when it was critical."""
    assert ctx.baseline is not None
    base_row = ctx.baseline.rows.get(check)
    severity = ctx.policy.severity_of(check, base_row.severity if base_row else Severity.MAJOR)
    text = (f"{check} ({severity.value}) was collected in the baseline but is gone now in "
            f"{_cells_text(cells, ctx.required)}")
    blocking_cells = [cell for cell in cells if cell in ctx.required] if severity == Severity.CRITICAL else []
    if not blocking_cells:
        return Finding(Effect.WARNING, "removed-check", text, (check,), tuple(cells))
    if all(ctx.waiver_for(check, cell) is not None for cell in blocking_cells):
        return Finding(Effect.WAIVED, "removed-check", text + " - waived", (check,), tuple(cells))
    return Finding(Effect.NO_GO, "removed-check",
                   text + " - a critical check may not vanish: restore it, or waive it with a reason",
                   (check,), tuple(cells))


def _history_finding(ctx: _Context, history: RunHistory) -> Finding:
    """Flaky across runs: the outcome changed while neither the target nor the check did."""
    row = ctx.matrix.rows[history.check]
    text = f"{history.check} is flaky across runs in {history.cell}: {history.describe()}"
    blocks = ctx.policy.flaky.blocks and ctx.blocks(row) and history.cell in ctx.required
    if not blocks:
        return Finding(Effect.WARNING, "flaky-across-runs", text, (history.check,), (history.cell,))
    if ctx.waiver_for(history.check, history.cell) is not None:
        return Finding(Effect.WAIVED, "flaky-across-runs", text + " - waived", (history.check,), (history.cell,))
    return Finding(Effect.NO_GO, "flaky-across-runs", text, (history.check,), (history.cell,))


# --- budgets ---------------------------------------------------------------------------------


def _budget_findings(ctx: _Context) -> Tuple[List[MeasurementResult], List[Finding]]:
    results: List[MeasurementResult] = []
    findings: List[Finding] = []
    judged: Set[Tuple[str, str, str]] = set()
    for budget in ctx.policy.budgets:
        found = _judge_budget(ctx, budget)
        results += [r for r in found if (r.check, r.cell, r.name) not in judged]
        judged |= {(r.check, r.cell, r.name) for r in found}
        findings += _budget_claims(ctx, budget, found)
    unbudgeted = [r for r in _unbudgeted(ctx) if (r.check, r.cell, r.name) not in judged]
    results += unbudgeted
    findings += [_measured_finding(r) for r in unbudgeted if r.change is not None]
    results.sort(key=lambda r: (r.check, r.name, r.cell))
    return results, findings


def _samples(ctx: _Context, name: str, check: str = "*") -> Iterable[Tuple[Row, str, CheckRecord]]:
    for row in ctx.matrix.rows.values():
        if not fnmatch.fnmatchcase(row.id, check):
            continue
        for cell, record in row.results.items():
            if name in record.measurements:
                yield row, cell, record


def statistic_of(samples: Sequence[float], statistic: str) -> float:
    """The named statistic of the samples: the median, or the nearest-rank p95."""
    return percentile(samples, 95.0) if statistic == "p95" else statistics.median(samples)


def _judge_budget(ctx: _Context, budget: Budget) -> List[MeasurementResult]:
    found = []
    for row, cell, record in _samples(ctx, budget.measurement, budget.check):
        m = record.measurements[budget.measurement]
        value = statistic_of(m.samples, budget.statistic)
        status = "no-budget" if budget.max is None else ("over" if value > budget.max else "within")
        change = _change(ctx, row.id, cell, budget.measurement, budget.max_increase_pct, budget.min_effect)
        found.append(MeasurementResult(row.id, cell, budget.measurement, m.unit, len(m.samples),
                                       statistics.median(m.samples), status, budget.max, change,
                                       budget.statistic, value))
    return found


def _change(ctx: _Context, check: str, cell: str, name: str, max_increase_pct: Optional[float],
            min_effect: float = 0.0) -> Optional[MeasuredChange]:
    """The measurement's change against the baseline, where both runs have samples of it."""
    if ctx.baseline is None:
        return None
    base_row = ctx.baseline.rows.get(check)
    base = None if base_row is None else base_row.results.get(cell)
    if base is None or name not in base.measurements:
        return None
    why = _machine_difference(ctx.baseline.documents.get(cell), ctx.matrix.documents.get(cell))
    return measured_change(base.measurements[name].samples,
                           ctx.matrix.rows[check].results[cell].measurements[name].samples,
                           max_increase_pct, min_effect, same_machine=not why, why=why)


def _machine(doc: Optional[EnvDocument]) -> Any:
    return None if doc is None else doc.fingerprint.get("machine")


def _machine_difference(base: Optional[EnvDocument], now: Optional[EnvDocument]) -> str:
    """Why two cells' machines differ, in words; "" when their fingerprints match."""
    before, after = _machine(base), _machine(now)
    if before == after and before is not None:
        return ""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return "the machine fingerprint is missing in the baseline or in this run"
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return "; ".join(f"{k} {before.get(k)!r} in the baseline, {after.get(k)!r} now" for k in keys)


def _budget_claims(ctx: _Context, budget: Budget, found: List[MeasurementResult]) -> List[Finding]:
    findings = []
    name = budget.measurement
    required = [r for r in found if r.cell in ctx.required]
    if not required:
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        return [Finding(effect, "budget", f"budget on {name}: no samples of {name} in any required cell")]
    if budget.max is not None:
        findings += _absolute_claims(ctx, budget, required)
    if budget.max_increase_pct is not None:
        findings += _relative_claims(ctx, budget, required)
    return findings


def _absolute_claims(ctx: _Context, budget: Budget, results: List[MeasurementResult]) -> List[Finding]:
    findings = []
    for r in results:
        within = r.status == "within"
        value = r.median if r.value is None else r.value
        text = (f"{r.check}: {r.name} {r.statistic} {value:g} {r.unit} of {r.samples} sample(s) in {r.cell} "
                f"{'is within' if within else 'exceeds'} the budget of {budget.max:g} {r.unit}")
        effect = Effect.INFO if within else Effect.NO_GO
        findings.append(Finding(effect, "budget", text, (r.check,), (r.cell,)))
    return findings


def _relative_claims(ctx: _Context, budget: Budget, results: List[MeasurementResult]) -> List[Finding]:
    limit = f"+{budget.max_increase_pct:g} %"
    if ctx.baseline is None:
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        checks = tuple(sorted({r.check for r in results}))
        cells = tuple(sorted({r.cell for r in results}))
        text = (f"relative budget on {budget.measurement} ({limit} against a baseline) cannot be judged: "
                f"no baseline was given, so no performance change can be claimed")
        return [Finding(effect, "inconclusive", text, checks, cells)]
    return [_relative_claim(budget, r, limit) for r in results]


def _relative_claim(budget: Budget, r: MeasurementResult, limit: str) -> Finding:
    change = r.change
    where = f"{r.check}: {r.name} in {r.cell} against the baseline, budget {limit}"
    if change is None or change.status == "inconclusive":
        why = "no baseline samples for this check and cell" if change is None else _inconclusive_text(change)
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        return Finding(effect, "inconclusive", f"{where}: {why}", (r.check,), (r.cell,))
    if change.status == "fail":
        verdict_text = f"the whole interval is above {limit}: exceeds the budget"
    else:
        verdict_text = f"the whole interval is within {limit}"
    effect = Effect.NO_GO if change.status == "fail" else Effect.INFO
    return Finding(effect, "budget", f"{where}: {change.describe()}; {verdict_text}", (r.check,), (r.cell,))


def _inconclusive_text(change: MeasuredChange) -> str:
    text = change.note if not change.judged else f"{change.describe()}; {change.note}"
    if change.samples_needed is None:
        return text + ("; the change sits on the budget itself: no sample count settles it" if change.judged else "")
    if change.samples_needed > MAX_SAMPLES_ESTIMATE:
        return text + f"; more than {MAX_SAMPLES_ESTIMATE} samples per run would be needed to settle it"
    return text + f"; about {change.samples_needed} samples per run would settle it"


def _measured_finding(r: MeasurementResult) -> Finding:
    """A measurement in both runs with no relative budget: its change, reported only."""
    change = r.change
    assert change is not None
    text = f"{r.check}: {r.name} in {r.cell} against the baseline: "
    text += change.describe() if change.judged else change.note
    return Finding(Effect.INFO, "measured-change", text, (r.check,), (r.cell,))


def _unbudgeted(ctx: _Context) -> List[MeasurementResult]:
    results = []
    for row in ctx.matrix.rows.values():
        for cell, record in row.results.items():
            for name, m in sorted(record.measurements.items()):
                results.append(MeasurementResult(row.id, cell, name, m.unit, len(m.samples),
                                                 statistics.median(m.samples), "no-budget",
                                                 change=_change(ctx, row.id, cell, name, None)))
    return results


# --- policy notes and waivers ----------------------------------------------------------------


def _policy_notes(ctx: _Context) -> List[Finding]:
    notes = []
    if ctx.policy.is_default:
        notes.append(Finding(Effect.INFO, "default-policy",
                             "default policy: no [tool.readiness] found; every check counts as major"))
    if ctx.policy.only_new_failures_block and ctx.baseline is None:
        notes.append(Finding(Effect.INFO, "baseline",
                             "only_new_failures_block is set but no baseline was given: every failure blocks"))
    return notes


def _waiver_statuses(ctx: _Context) -> List[WaiverStatus]:
    statuses = []
    for index, waiver in enumerate(ctx.policy.waivers):
        days = waiver.days_left(ctx.today)
        if days < 0:
            status = "expired"
        else:
            status = "used" if index in ctx.waiver_uses else "unused"
        covered = tuple(sorted(set(ctx.waiver_uses.get(index, []))))
        statuses.append(WaiverStatus(waiver, status, days, covered))
    return statuses


def _waiver_findings(statuses: List[WaiverStatus]) -> List[Finding]:
    findings = []
    for s in statuses:
        w = s.waiver
        label = f"waiver for {w.check}" + (f" in {', '.join(w.cells)}" if w.cells else "")
        if s.status == "expired":
            findings.append(Finding(Effect.WARNING, "waiver-expired",
                                    f"{label} expired on {w.expires.isoformat()} and does not apply (owner {w.owner})",
                                    (w.check,), w.cells))
        elif s.status == "unused":
            findings.append(Finding(Effect.WARNING, "waiver-stale",
                                    f"{label} matches nothing in this run: remove it (owner {w.owner})",
                                    (w.check,), w.cells))
        if s.status != "expired" and s.days_left <= EXPIRY_WARNING_DAYS:
            findings.append(Finding(Effect.WARNING, "waiver-expiring",
                                    f"{label} expires in {s.days_left} day(s), on {w.expires.isoformat()} (owner {w.owner})",
                                    (w.check,), w.cells))
    return findings


# --- scope -----------------------------------------------------------------------------------


def _scope(matrix: Matrix, required: List[str], basis: str) -> Scope:
    docs = list(matrix.documents.values())
    collected = {c for doc in docs for c in doc.collected} | set(matrix.rows)
    results_collected = sum(len(set(doc.collected) | {c.id for c in doc.checks}) for doc in docs)
    ran = [(doc.cell_id, c.id) for doc in docs for c in doc.checks if c.outcome in RAN]
    return Scope(
        platforms=tuple(sorted({_platform(doc) for doc in docs})),
        pythons=tuple(sorted({_python(doc) for doc in docs}, key=_python_key)),
        cells_required=tuple(required),
        cells_planned=None if matrix.plan is None else tuple(sorted(matrix.plan.cells)),
        cells_present=tuple(matrix.documents),
        cells_run=tuple(doc.cell_id for doc in docs if doc.state != CellState.NOT_RUN),
        cells_missing=tuple(cell for cell in required if cell not in matrix.documents),
        required_basis=basis,
        checks_run=len({check for _, check in ran}),
        checks_collected=len(collected),
        results_run=len(ran),
        results_collected=results_collected,
    )


def _platform(doc: EnvDocument) -> str:
    os_name = str(doc.fingerprint.get("os") or doc.cell_id.split("-")[0])
    return f"{os_name} (wine)" if doc.fingerprint.get("lane") == "wine" else os_name


def _python(doc: EnvDocument) -> str:
    return doc.cell_id.rsplit("-", 1)[-1]


def _python_key(name: str) -> Tuple[str, Tuple[int, ...], str]:
    impl = name.rstrip("0123456789.t")
    digits = name[len(impl):].rstrip("t")
    parts = tuple(int(p) for p in digits.split(".") if p.isdigit())
    return impl, parts, name
